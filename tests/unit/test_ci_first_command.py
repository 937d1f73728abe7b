"""CI's one run of the README's first command: the command as written, and its output checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

CHECKER = ROOT / ".ci" / "check_first_command.py"
STAGES = ("sandbox", "preflight", "provision", "verify", "julia", "mocha", "results", "after")
GOOD = "\n".join(
    [
        "SANDBOX: no AWS account and no GPU are used.",
        *(f"[{s}] ok in 1.0s, changed=0" for s in STAGES),
        "TEST DOUBLE, not a training result: backend cpu-native; 10000/10000 iterations",
        "Teardown complete",
        "Tear down with: .venv/bin/mocha-ansible teardown --sandbox --deployment default",
        "  .venv/bin/mocha-ansible provision --sandbox --down            # then the sandbox itself",
    ]
)


def _check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    log = tmp_path / "log"
    log.write_text(text, encoding="utf-8")
    env = {**os.environ, "HOME": str(home)}
    argv = [sys.executable, str(CHECKER), str(log)]
    return subprocess.run(argv, check=False, env=env, capture_output=True, text=True)


def test_ci_runs_the_readme_first_command_as_written() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.+?)\n```", readme).group(1)  # type: ignore[union-attr]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert any(line.startswith(first + " ") or line == first for line in ci.splitlines()), first


def test_the_checker_passes_a_complete_run(tmp_path: Path) -> None:
    proc = _check(tmp_path, GOOD)
    assert proc.returncode == 0, proc.stderr


def test_the_checker_names_what_a_failed_run_lacks(tmp_path: Path) -> None:
    proc = _check(tmp_path, GOOD.replace("[mocha] ok in", "[mocha] failed in"))
    assert proc.returncode == 1
    assert "expected in its output: [mocha] ok in" in proc.stderr


def test_the_checker_refuses_a_home_others_can_read(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(mode=0o755)
    (tmp_path / "home").chmod(0o755)
    proc = _check(tmp_path, GOOD)
    assert proc.returncode == 1 and "of mode 0700 (it is 0755)" in proc.stderr
