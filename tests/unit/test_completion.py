"""The completion scripts, run by a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mocha_ansible import completion
from mocha_ansible.cli import build_parser


def _complete(script: str, *words: str) -> list[str]:
    words_list = " ".join(f"'{w}'" for w in words)
    program = f"""{script}
COMP_WORDS=(mocha-ansible {words_list}); COMP_CWORD={len(words)}
_mocha_ansible; printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True).stdout
    return out.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_subcommands_and_their_own_options() -> None:
    script = completion.bash(build_parser())
    assert _complete(script, "pro") == ["provision"]
    assert {"--sandbox", "--stages"} <= set(_complete(script, "provision", "--s"))
    assert _complete(script, "teardown", "--am") == ["--amis"]
    assert "--amis" not in _complete(script, "status", "--")
    assert _complete(script, "results", "--pl") == ["--plot"]


def test_zsh_loads_bash_compatibility_first() -> None:
    script = completion.zsh(build_parser())
    assert script.splitlines()[1] == "autoload -U +X bashcompinit && bashcompinit"
    assert "complete -F _mocha_ansible mocha-ansible" in script
