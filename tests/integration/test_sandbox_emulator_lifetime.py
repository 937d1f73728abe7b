"""A sandbox command that creates nothing leaves no emulator behind (issue 34 item 7):
`status --sandbox` after `--down`, and `provision --sandbox --check`, each left a moto server
running. Such a command starts one only for itself; one already running is left alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mocha_ansible import sandbox
from mocha_ansible.emulator import running_emulator, start_emulator, stop_emulator
from tests.helpers import ROOT


def _cli(base: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args], cwd=ROOT, env=sandbox.private_env(base),
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--sandbox"],
        ["status", "--sandbox", "--json"],
        ["provision", "--sandbox", "--check"],
        ["preflight", "--sandbox"],
        ["ssh-config", "--sandbox"],
        ["teardown", "--sandbox", "--yes"],
    ],
)
def test_a_command_that_creates_nothing_leaves_no_emulator(tmp_path: Path, argv: list[str]) -> None:
    try:
        proc = _cli(tmp_path, *argv)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert running_emulator(tmp_path / "state") is None
        assert "Traceback" not in proc.stderr
    finally:
        stop_emulator(tmp_path / "state")


def test_an_emulator_already_running_is_left_running(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path / "state")
    try:
        proc = _cli(tmp_path, "status", "--sandbox")
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert running_emulator(tmp_path / "state") == emu
    finally:
        stop_emulator(tmp_path / "state")
