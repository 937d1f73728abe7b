"""The CLI end to end against real parts: the EC2 wire protocol (moto) and this machine."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from mocha_ansible.emulator import running_emulator, stop_emulator
from tests.conftest import project_resources
from tests.helpers import ROOT, VENV_BIN

UBUNTU_AMI = "ami-785db401"  # in moto's built-in catalogue


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LANG"))}
    env.update(
        PATH=f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME=str(tmp_path / "home"),
        MOCHA_ANSIBLE_RUNS_DIR=str(tmp_path / "runs"),
        MOCHA_ANSIBLE_SANDBOX_DIR=str(tmp_path / "sandbox"),
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(extra)
    return env


def test_check_creates_nothing(aws, tmp_path):
    proc = _cli("provision", "--check", "--instance-type", "g4dn.xlarge", "--ssh-cidr", "203.0.113.7/32",
                "--ami", UBUNTU_AMI, env=_env(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Will create:" in proc.stdout and "SSH from 203.0.113.7/32" in proc.stdout
    assert "nothing was created" in proc.stdout
    assert project_resources() == {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}
    assert not (tmp_path / "runs").exists()


def test_preflight_refuses_a_missing_ami(aws, tmp_path):
    proc = _cli("preflight", "--ami", "ami-0123456789abcdef0", "--instance-type", "g4dn.xlarge", env=_env(tmp_path))
    assert proc.returncode == 3
    assert "ami-0123456789abcdef0 does not exist" in proc.stderr


def test_sandbox_check_starts_its_own_emulator(tmp_path):
    env = _env(tmp_path)
    for key in [k for k in env if k.startswith("AWS_")]:
        del env[key]
    try:
        # The default route installs the official binary: no compiler is involved.
        proc = _cli("provision", "--sandbox", "--check", "--json", env=env)
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(next(ln for ln in proc.stdout.splitlines() if '"plan"' in ln))
        assert {c["name"]: c["status"] for c in plan["checks"]}["credentials"] == "ok"
        assert "Julia v0.6.4 by binary" in plan["route"]["line"]
        # It started one for itself and, having created nothing, stopped it (issue 34 item 7).
        assert running_emulator(tmp_path / "sandbox") is None
        # A source build of Julia 0.6 cannot use the sandbox image's GCC 12: refused up front.
        checksum = "julia_build_source_full_checksum=sha256:" + "ab" * 32
        refused = _cli("provision", "--sandbox", "--check", "--julia-from", "source-full", "-e", checksum, env=env)
        assert refused.returncode == 2, refused.stderr
        assert "route: julia: Julia v0.6.4 builds with GCC 4.7 to 7.x, and this host has GCC 12.2.0" in refused.stderr
        forced = _cli("provision", "--sandbox", "--check", "--julia-from", "source-full", "-e", checksum,
                      "-e", "julia_build_allow_unsupported_gcc=true", env=env)  # fmt: skip
        assert forced.returncode == 0, forced.stderr
        assert "[warn] julia: the compiler is not checked" in forced.stdout
    finally:
        stop_emulator(tmp_path / "sandbox")


def test_target_localhost_runs_verify_and_fetches_its_report(tmp_path):
    env = _env(tmp_path)
    proc = _cli(
        "provision", "--target", "localhost", "--stages", "verify", "--yes",
        "-e", "cuda_verify_required=false",
        "-e", f"cuda_verify_facts_dir={tmp_path / 'facts.d'}",
        "-e", f"cuda_verify_work_dir={tmp_path / 'work'}",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[verify] ok" in proc.stdout
    run_dir = Path(proc.stdout.split("run directory: ")[1].split()[0])
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    report = json.loads((run_dir / "hosts" / "localhost" / "cuda_verify.json").read_text())
    assert report["host"] == "localhost" and report["required"] is False
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "ok"
    assert [s["stage"] for s in record["stage_results"]] == ["preflight", "verify", "results", "after"]
    shown = _cli("results", "latest", "--json", env=env)
    assert json.loads(shown.stdout)["hosts"]["localhost"]["cuda_verify"]["host"] == "localhost"


@pytest.mark.heavy
def test_launch_rerun_status_and_teardown(aws, tmp_path):
    env = _env(tmp_path)
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    args = (
        "provision", "--stages", "provision", "--yes", "--instance-type", "g4dn.xlarge", "--ami", UBUNTU_AMI,
        "--ssh-cidr", "203.0.113.7/32", "--deployment", "it",
        "-e", "ec2_gpu_wait_for_ssh=false", "-e", f"ec2_gpu_key_dir={key_dir}",
    )  # fmt: skip
    first = _cli(*args, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = project_resources()
    assert (
        len(found["instances"]) == 1
        and len(found["security_groups"]) == 1
        and found["key_pairs"] == ["mocha-ansible-it"]
    )
    inst = ec2.describe_instances(InstanceIds=found["instances"])["Reservations"][0]["Instances"][0]
    assert inst["MetadataOptions"]["HttpTokens"] == "required"
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    assert tags["mocha-ansible:project"] == "mocha-ansible" and tags["mocha-ansible:deployment"] == "it"
    group = ec2.describe_security_groups(GroupIds=found["security_groups"])["SecurityGroups"][0]
    assert [(p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]] == [
        (22, 22, ["203.0.113.7/32"])
    ]
    key_file = key_dir / "mocha-ansible-it.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in first.stdout + first.stderr

    second = _cli(*args, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert project_resources()["instances"] == found["instances"]

    status = _cli("status", "--json", env=env)
    assert [i["id"] for i in json.loads(status.stdout)["instances"]] == found["instances"]

    down = _cli("teardown", "--yes", "--deployment", "it", "--key-dir", str(key_dir), env=env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert project_resources() == {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}
    assert not key_file.exists()


def test_quota_zero_refuses_before_anything_is_created(aws, tmp_path, monkeypatch, capsys):
    """Moto serves no Service Quotas: the quota reply is stubbed, everything else is moto."""
    from botocore.stub import Stubber

    from mocha_ansible import aws as aws_api
    from mocha_ansible.cli import main

    real_client = aws_api.client

    def client(service: str, region: str, attempts: int = 5):
        made = real_client(service, region, attempts)
        if service == "service-quotas":
            stub = Stubber(made)
            stub.add_response("get_service_quota", {"Quota": {"Value": 0.0}})
            stub.activate()
        return made

    monkeypatch.setattr(aws_api, "client", client)
    monkeypatch.setenv("MOCHA_ANSIBLE_RUNS_DIR", str(tmp_path / "runs"))
    code = main(
        ["provision", "--yes", "--instance-type", "p2.xlarge", "--ssh-cidr", "203.0.113.7/32", "--ami", UBUNTU_AMI]
    )
    err = capsys.readouterr().err
    assert code == 3
    assert "quota L-417A185B 'Running On-Demand P instances' is 0 vCPUs" in err
    assert "--desired-value 4" in err
    assert project_resources() == {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}
    assert not (tmp_path / "runs").exists()
