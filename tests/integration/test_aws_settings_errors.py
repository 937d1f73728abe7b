"""The user's AWS settings, when wrong, give one line and exit 2 (issue 34 item 2), and the
sandbox does not read them at all: a stale AWS_PROFILE once crashed every command, the sandbox
included, with botocore's ProfileNotFound traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mocha_ansible.emulator import stop_emulator
from tests.helpers import ROOT, VENV_BIN


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"  # no ~/.aws: the profile exists nowhere
    home.mkdir(mode=0o700, exist_ok=True)
    base = {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": str(home),
        "MOCHA_ANSIBLE_RUNS_DIR": str(tmp_path / "runs"), "MOCHA_ANSIBLE_SANDBOX_DIR": str(tmp_path / "sandbox"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("mocha-ansible: error: ") and "(fix: " in line
    return line


@pytest.mark.parametrize(
    "command",
    [["status"], ["provision", "--check", "--yes"], ["teardown", "--yes"], ["ssh-config"], ["stop"], ["start"]],
)
def test_a_stale_profile_is_one_line_naming_it(tmp_path, command):
    line = _one_error_line(_cli(tmp_path, *command, AWS_PROFILE="gone-since-friday"))
    assert "AWS_PROFILE='gone-since-friday'" in line and "unset AWS_PROFILE" in line


def test_a_bad_endpoint_url_is_one_line_naming_it(tmp_path):
    line = _one_error_line(_cli(tmp_path, "status", AWS_ENDPOINT_URL="not a url"))
    assert "AWS_ENDPOINT_URL" in line and "not a url" in line


def test_the_sandbox_reads_no_profile(tmp_path):
    try:
        status = _cli(tmp_path, "status", "--sandbox", AWS_PROFILE="gone-since-friday")
        plan = _cli(tmp_path, "provision", "--sandbox", "--check", "--yes", AWS_PROFILE="gone-since-friday")
    finally:
        stop_emulator(tmp_path / "sandbox")
    assert status.returncode == 0, status.stdout[-2000:] + status.stderr[-2000:]
    assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
    assert "nothing was created" in plan.stdout
