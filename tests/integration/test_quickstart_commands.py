"""Every mocha-ansible command in docs/quickstart-aws.md (issue 23) parses, its subcommand's --help works,
and the provision lines pass in their --check form against the AWS emulator."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from mocha_ansible.cli import build_parser, main
from tests.helpers import ROOT

QUICKSTART = ROOT / "docs" / "quickstart-aws.md"


def _commands() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", QUICKSTART.read_text(encoding="utf-8"), flags=re.S)
    lines = [ln.split("  #")[0].strip() for block in blocks for ln in block.splitlines()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith(".venv/bin/mocha-ansible ")]


COMMANDS = _commands()


def test_the_quickstart_names_every_step():
    assert {argv[0] for argv in COMMANDS} >= {"provision", "logs", "results", "status", "teardown", "stop"}


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_each_command_parses_and_its_help_works(argv, capsys):
    build_parser().parse_args(argv)
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args([argv[0], "--help"])
    assert stop.value.code == 0
    assert f"usage: mocha-ansible {argv[0]}" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [a for a in COMMANDS if a[0] == "provision"], ids=" ".join)
def test_each_provision_line_passes_its_check_form(argv, aws, tmp_path: Path, isolated_home):
    checked = [*argv, "--check"] if "--check" not in argv else argv
    assert main([*checked, "--runs-dir", str(tmp_path / "runs"), "--ssh-cidr", "203.0.113.7/32"]) == 0
