"""`stop` and `start` (issue 23): pause a deployment's billing and resume it, against the emulator; a start
past the cost guard's deadline is refused (the guard would power the instance off, and terminate it, at boot)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from mocha_ansible.cli import main


def _launch(deadline: datetime) -> str:
    tags = {
        "mocha-ansible:project": "mocha-ansible", "mocha-ansible:deployment": "default",
        "mocha-ansible:owner": "alice", "mocha-ansible:deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }  # fmt: skip
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = ec2.run_instances(
        ImageId="ami-785db401", MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["Instances"]  # fmt: skip
    return str(inst["InstanceId"])


def _state(instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return str(ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"])


def test_stop_then_start(aws, monkeypatch, tmp_path: Path, isolated_home, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    instance_id = _launch(datetime.now(UTC) + timedelta(hours=3))
    base = ["--runs-dir", str(tmp_path / "runs"), "--region", "us-east-1", "--key-dir", str(tmp_path)]

    assert main(["stop", "--json", *base]) == 0
    assert _state(instance_id) == "stopped"
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["type"], last["deployment"], last["ok"]) == ("stop", "default", True)

    assert main(["start", *base]) == 0
    assert _state(instance_id) == "running"
    assert f"Started {instance_id}; its cost guard still powers it off at " in capsys.readouterr().out


def test_start_past_the_guards_deadline_is_refused(aws, monkeypatch, tmp_path: Path, isolated_home, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    deadline = datetime.now(UTC) - timedelta(minutes=1)
    instance_id = _launch(deadline)
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[instance_id])

    assert main(["start", "--runs-dir", str(tmp_path / "runs"), "--region", "us-east-1"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "deadline (fixed at launch: launch + max_hours) has passed" in err[0]
    assert f"{instance_id} at {deadline.strftime('%Y-%m-%dT%H:%MZ')}" in err[0]
    assert "start does not re-arm it" in err[0] and "teardown --deployment default" in err[0]
    assert _state(instance_id) == "stopped"
    assert not (tmp_path / "runs").exists()
