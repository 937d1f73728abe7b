"""Faults injected into the AWS side, and interrupts, each with its asserted outcome.

Capacity, throttling and quota faults are in tests/integration/test_ec2_gpu.py and
test_cli_pipeline.py; here: credentials, the endpoint vanishing mid-run, an
instance terminated between stages, and SIGINT/SIGTERM during provisioning.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from mocha_ansible.cli import main
from tests.conftest import project_resources
from tests.doubles.faulty_emulator import Fault
from tests.doubles.flaky_endpoint import FlakyEndpoint
from tests.helpers import ROOT, VENV_BIN

NOTHING = {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}
SG_TASK = "Create the security group (SSH from one address)"
LAUNCH = ["provision", "--yes", "--stages", "provision", "--instance-type", "g4dn.xlarge",
          "--ami", "ami-785db401", "--ssh-cidr", "203.0.113.7/32", "-e", "ec2_gpu_wait_for_ssh=false"]  # fmt: skip


def _env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    (tmp_path / "home").mkdir(exist_ok=True)
    return {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "MOCHA_ANSIBLE_RUNS_DIR": str(tmp_path / "runs"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _run_until(env: dict[str, str], args: list[str], task: str, then) -> tuple[int, str]:
    """Run the CLI with --json; when `task` reports, call `then(proc)`; return (rc, output)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocha_ansible", *args, "--json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("{") and json.loads(line).get("task") == task:
            then(proc)
            break
    rest, _ = proc.communicate(timeout=300)
    return proc.returncode, "".join(seen) + rest


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[list[str]]:
    key_dir = tmp_path / "keys"
    yield ["-e", f"ec2_gpu_key_dir={key_dir}"]


def test_expired_credentials_refuse_before_anything(faulty_aws, tmp_path, monkeypatch, capsys) -> None:
    faulty_aws.faults.append(Fault("GetCallerIdentity", "ExpiredToken"))
    monkeypatch.setenv("MOCHA_ANSIBLE_RUNS_DIR", str(tmp_path / "runs"))
    assert main(LAUNCH) == 3
    err = capsys.readouterr().err
    assert "AWS rejected the credentials (ExpiredToken)" in err and "aws sso login" in err
    assert faulty_aws.calls["ec2:RunInstances"] == 0 and project_resources() == NOTHING


def test_missing_credentials_refuse_before_anything(aws, tmp_path, monkeypatch, capsys) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("MOCHA_ANSIBLE_RUNS_DIR", str(tmp_path / "runs"))
    assert main(LAUNCH) == 3
    err = capsys.readouterr().err
    assert "checking credentials: no AWS credentials found" in err and "aws configure" in err
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert project_resources() == NOTHING


@pytest.mark.heavy
def test_the_endpoint_vanishing_mid_run_is_clear_and_the_next_run_resumes(aws, tmp_path, keys) -> None:
    flaky = FlakyEndpoint(aws.port).up()
    env = _env(tmp_path, flaky.url)
    try:
        rc, out = _run_until(env, [*LAUNCH, "--deployment", "gone", *keys], SG_TASK, lambda _p: flaky.down())
        assert rc == 1, out[-3000:]
        assert "Could not connect to the endpoint URL" in out or "Connection refused" in out, out[-3000:]
        assert "Could not list what exists" in out
        flaky.up()
        again = _cli(env, *LAUNCH, "--deployment", "gone", *keys)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    finally:
        flaky.down()
    found = project_resources()
    assert (
        len(found["instances"]) == 1
        and len(found["security_groups"]) == 1
        and found["key_pairs"] == ["mocha-ansible-gone"]
    )


def _discover(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The role's discover play and a host stage, as the CLI's owner (nothing connects: an emulator)."""
    play_env = {**env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    cmd = [str(VENV_BIN / "ansible-playbook"), "playbooks/site.yml", "--tags", "discover,verify"]
    cmd += ["-e", f"ec2_gpu_owner={getpass.getuser()}"]
    return subprocess.run(cmd, cwd=ROOT, env=play_env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.heavy
def test_an_instance_terminated_between_stages_is_detected_then_replaced(aws, tmp_path, keys) -> None:
    env = _env(tmp_path, aws.url)
    first = _cli(env, *LAUNCH, *keys)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    (old,) = project_resources()["instances"]
    found = _discover(env)
    assert found.returncode == 0, found.stdout[-3000:]
    boto3.client("ec2", region_name="us-east-1").terminate_instances(InstanceIds=[old])

    # A host stage alone cannot run against the emulator (its addresses are made up), so
    # the CLI refuses it; the role's own discover play notices the fleet is gone first.
    later = _cli(env, "provision", "--yes", "--stages", "verify", *keys)
    assert later.returncode == 2, later.stdout[-2000:] + later.stderr
    assert "needs real instances" in later.stderr
    gone = _discover(env)
    assert gone.returncode != 0
    assert "no running instance of deployment default" in gone.stdout, gone.stdout[-3000:]
    assert "provision stage" in gone.stdout

    again = _cli(env, *LAUNCH, *keys)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    (new,) = project_resources()["instances"]
    assert new != old


@pytest.mark.heavy
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_provisioning_then_the_same_command_then_teardown(aws, tmp_path, keys, signum) -> None:
    env = _env(tmp_path, aws.url)
    args = [*LAUNCH, "--count", "2", "--deployment", "cut", *keys]
    rc, out = _run_until(env, args, SG_TASK, lambda p: os.kill(p.pid, signum))
    assert rc == 130, out[-3000:]
    assert "Resume with the same command" in out

    again = _cli(env, *args)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    found = project_resources()
    assert len(found["instances"]) == 2
    assert len(found["security_groups"]) == 1 and found["key_pairs"] == ["mocha-ansible-cut"]

    down = _cli(env, "teardown", "--yes", "--key-dir", str(tmp_path / "keys"))
    assert down.returncode == 0, down.stdout + down.stderr
    assert project_resources() == NOTHING
