"""`teardown` without --amis leaves baked AMIs, whose snapshots keep billing: it must say how
many it left and how to remove them (issue 23), against the AWS emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from mocha_ansible.cli import main

AMI = "ami-785db401"
KEPT = "kept 1 baked AMI(s), whose EBS snapshots keep billing"


def _tags(owner: str) -> list[dict[str, str]]:
    return [
        {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
        {"Key": "mocha-ansible:deployment", "Value": "t"},
        {"Key": "mocha-ansible:owner", "Value": owner},
    ]


@pytest.fixture
def baked(aws, monkeypatch) -> tuple[Any, str]:
    """One AMI baked (with the project's tags) from an instance that is gone since."""
    monkeypatch.setenv("LOGNAME", "alice")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = ec2.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags("alice")}],
    )["Instances"]  # fmt: skip
    image = ec2.create_image(InstanceId=inst["InstanceId"], Name="mocha-ansible-t-alice")["ImageId"]
    ec2.create_tags(Resources=[image], Tags=[*_tags("alice"), {"Key": "mocha-ansible:baked", "Value": "true"}])
    ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
    return ec2, image


def _images(ec2: Any) -> list[str]:
    return [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]


def test_only_baked_amis_left_is_not_called_nothing(baked, tmp_path: Path, isolated_home, capsys):
    ec2, image = baked
    argv = ["--runs-dir", str(tmp_path), "teardown", "--yes", "--region", "us-east-1", "--key-dir", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Nothing to tear down but baked AMIs: " + KEPT)
    assert "mocha-ansible teardown --amis" in out
    assert _images(ec2) == [image]


def test_teardown_names_the_amis_it_kept_and_amis_removes_them(baked, tmp_path: Path, isolated_home, capsys):
    ec2, image = baked
    ec2.create_security_group(
        GroupName="mocha-ansible-t", Description="seed",
        TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags("alice")}],
    )  # fmt: skip
    argv = ["--runs-dir", str(tmp_path), "teardown", "--yes", "--region", "us-east-1", "--key-dir", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"  {KEPT}; run this teardown again with --amis" in out
    assert _images(ec2) == [image]

    assert main([*argv, "--amis"]) == 0
    out = capsys.readouterr().out
    assert "kept" not in out and _images(ec2) == []


def test_teardown_json_is_json_lines_with_the_plan_and_the_outcome(baked, tmp_path: Path, isolated_home, capsys):
    ec2, image = baked
    [group] = [
        ec2.create_security_group(
            GroupName="mocha-ansible-t", Description="seed",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags("alice")}],
        )["GroupId"]
    ]  # fmt: skip
    argv = ["--runs-dir", str(tmp_path), "teardown", "--yes", "--json", "--region", "us-east-1"]
    assert main([*argv, "--key-dir", str(tmp_path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [plan] = [x for x in lines if x.get("type") == "teardown-plan"]
    assert plan["resources"] == [
        {"kind": "security group", "id": group, "detail": "mocha-ansible-t", "region": "us-east-1"}
    ]
    assert lines[-1] == {
        "type": "teardown", "complete": True, "kept_amis": 1, "kept_amis_fix": "mocha-ansible teardown --amis",
        "removed_containers": [], "left": [], "log": None,
    }  # fmt: skip

    assert main([*argv, "--key-dir", str(tmp_path)]) == 0
    [nothing] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (nothing["type"], nothing["kept_amis"]) == ("teardown", 1)
    assert _images(ec2) == [image]
