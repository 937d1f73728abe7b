"""Hints name the program as the user can run it (issue 34 item 4): after bootstrap the
venv is not on PATH, and `mocha-ansible teardown ...` failed with "command not found"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mocha_ansible import invocation
from tests.helpers import ROOT

SCRIPT = Path(sys.executable).parent / "mocha-ansible"

pytestmark = pytest.mark.skipif(not SCRIPT.is_file(), reason="needs the venv's mocha-ansible (scripts/bootstrap)")


def test_on_path_it_is_the_plain_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{SCRIPT.parent}:/usr/bin:/bin")
    assert invocation.command("status") == "mocha-ansible status"


def test_off_path_it_is_the_scripts_path_from_here_and_that_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(ROOT)
    hint = invocation.command("--version")
    shown = SCRIPT.relative_to(ROOT) if SCRIPT.is_relative_to(ROOT) else SCRIPT
    assert hint == f"{shown} --version"
    # As printed, from here, with this PATH: it runs.
    ran = subprocess.run(
        hint, shell=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr


def test_elsewhere_it_is_the_absolute_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    assert invocation.program() == str(SCRIPT)
