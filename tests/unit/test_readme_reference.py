"""The reference page (docs/reference.md, once README's Reference section: issue 23) against the code: the exit
codes, every command's JSON line types, NO_COLOR and the state folder's variables. Each is read from its own
section, so a row elsewhere on the page (teardown's own exit codes, say) cannot stand in for it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from mocha_ansible import project
from mocha_ansible.cli import build_parser
from mocha_ansible.errors import ExitCode
from tests.helpers import ROOT

PAGE = ROOT / "docs" / "reference.md"


def _section(title: str) -> str:
    """The text under `## title`, up to the next `## ` heading."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_exit_code_has_a_row_and_each_code_one():
    rows = re.findall(r"^\| (\d+) \|", _section("Exit codes"), flags=re.M)
    assert sorted(rows, key=int) == sorted((str(int(code)) for code in ExitCode), key=int)


def test_every_command_and_every_json_type_the_code_prints_is_in_the_table():
    ref = _section("JSON output")
    table = ref[ref.index("| command | `type` of its lines |") :].split("\n\n")[0]
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(re.findall(r"^\| `([a-z-]+)", table, flags=re.M)) | set(re.findall(r", `([a-z-]+)` \|", table))
    assert set(action.choices) <= commands
    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "mocha_ansible").glob("*.py"))
    printed = set(re.findall(r'"type": "([a-z_-]+)"', code)) | set(re.findall(r'_emit\(type="([a-z_-]+)"', code))
    documented = set(re.findall(r"`([a-z_-]+)`", table))
    assert printed and printed - documented == set()


def test_no_color_and_the_state_folder(monkeypatch, tmp_path: Path):
    assert "`NO_COLOR=1`" in _section("Output modes")
    ref = _section("State folder")
    for name in ("XDG_STATE_HOME", "MOCHA_ANSIBLE_RUNS_DIR", "MOCHA_ANSIBLE_SANDBOX_DIR"):
        assert f"${name}" in ref
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert project.xdg_state_dir() == tmp_path / ".local/state/mocha-ansible"
    assert "`~/.local/state/mocha-ansible`" in ref
    monkeypatch.delenv("MOCHA_ANSIBLE_SANDBOX_DIR", raising=False)
    assert project.sandbox_dir() == tmp_path / ".local/state/mocha-ansible/sandbox"
