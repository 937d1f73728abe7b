"""status shows the cost guard's own report, and a console it may not read costs only that column."""

from __future__ import annotations

import getpass
import json

import boto3
import pytest

from mocha_ansible import aws as aws_module
from mocha_ansible.cli import main
from mocha_ansible.errors import PreflightRefused

UBUNTU_AMI = "ami-785db401"  # in moto's built-in catalogue


def _launch() -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    tags = [
        {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
        {"Key": "mocha-ansible:deployment", "Value": "default"},
        {"Key": "mocha-ansible:owner", "Value": getpass.getuser()},
    ]
    reply = ec2.run_instances(
        ImageId=UBUNTU_AMI, MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )  # fmt: skip
    return str(reply["Instances"][0]["InstanceId"])


def test_an_unreadable_console_leaves_the_rest_of_status(
    aws, isolated_home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = _launch()

    def denied(region: str, instance_id: str) -> aws_module.GuardReport:
        raise PreflightRefused(f"reading the console of {instance_id}: missing permission ec2:GetConsoleOutput")

    monkeypatch.setattr(aws_module, "guard_report", denied)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert instance in out and "unread" in out
    assert "GUARD unread: reading the console of" in out and "ec2:GetConsoleOutput" in out
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["instances"][0]["guard"] == "unread"
    assert "ec2:GetConsoleOutput" in report["guard_unread"]


def test_a_readable_console_gives_the_guard_state(aws, isolated_home, capsys: pytest.CaptureFixture[str]) -> None:
    instance = _launch()
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["instances"]
    assert row["id"] == instance
    # The emulator's console holds no guard line: reported as such, not computed.
    assert row["guard"] == "unreported" and report["guard_unread"] is None
