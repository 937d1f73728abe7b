"""Shared accounts: two owners with a deployment of the same name never touch each other's resources.

Bob's fleet is made directly through the EC2 API with the tags the role writes
(his own run of the tool would be refused the name, see the last test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from mocha_ansible import aws as aws_api
from mocha_ansible.cli import main
from mocha_ansible.runner import PlaybookJob, RunResult, run_playbook
from tests.helpers import ROOT

AMI = "ami-785db401"


def _tags(owner: str, deployment: str = "t") -> list[dict[str, str]]:
    return [
        {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
        {"Key": "mocha-ansible:deployment", "Value": deployment},
        {"Key": "mocha-ansible:owner", "Value": owner},
    ]


def _play(tmp_path: Path, book: str, ident: str, owner: str, **extra: Any) -> RunResult:
    extravars = {
        "ec2_gpu_instance_type": "g4dn.xlarge",
        "ec2_gpu_ami": AMI,
        "ec2_gpu_ssh_cidr": "203.0.113.7/32",
        "ec2_gpu_wait_for_ssh": False,
        "ec2_gpu_key_dir": str(tmp_path / f"keys-{owner}"),
        "ec2_gpu_deployment": "t",
        "ec2_gpu_owner": owner,
        **extra,
    }
    return run_playbook(PlaybookJob(playbook=ROOT / "playbooks" / book, ident=ident, extravars=extravars), tmp_path)


def _live(ec2: Any, owner: str) -> list[str]:
    found = ec2.describe_instances(Filters=aws_api.tag_filters("t", owner))["Reservations"]
    return sorted(i["InstanceId"] for r in found for i in r["Instances"] if i["State"]["Name"] != "terminated")


@pytest.fixture
def bobs_fleet(aws) -> list[str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.run_instances(
        ImageId=AMI, MinCount=2, MaxCount=2, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags("bob")}],
    )  # fmt: skip
    return _live(ec2, "bob")


@pytest.mark.heavy
def test_exact_count_and_teardown_leave_a_colleagues_fleet_alone(aws, bobs_fleet, tmp_path, isolated_home, monkeypatch):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    up = _play(tmp_path, "provision.yml", "alice-up", "alice", ec2_gpu_count=1)
    assert up.ok, up.failed_tasks
    # Before owners were matched, exact_count saw Bob's two as the fleet and terminated one.
    assert _live(ec2, "bob") == bobs_fleet
    assert len(_live(ec2, "alice")) == 1

    # `teardown` with neither --deployment nor --owner: only the caller's own (LOGNAME=alice).
    monkeypatch.setenv("LOGNAME", "alice")
    assert main(["teardown", "--yes", "--region", "us-east-1", "--key-dir", str(tmp_path / "keys-alice")]) == 0
    assert _live(ec2, "alice") == []
    assert _live(ec2, "bob") == bobs_fleet

    # Everyone's is an explicit flag.
    assert main(["teardown", "--yes", "--region", "us-east-1", "--all-owners", "--key-dir", str(tmp_path)]) == 0
    assert _live(ec2, "bob") == []


def test_status_shows_only_your_own_unless_asked(aws, bobs_fleet, isolated_home, monkeypatch, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    assert main(["status", "--region", "us-east-1"]) == 0
    assert "No instances" in capsys.readouterr().out
    assert main(["status", "--region", "us-east-1", "--owner", "bob"]) == 0
    out = capsys.readouterr().out
    assert all(i in out for i in bobs_fleet)
    assert main(["status", "--region", "us-east-1", "--all-owners"]) == 0
    out = capsys.readouterr().out
    assert all(i in out for i in bobs_fleet)


def test_ami_from_bake_ignores_a_colleagues_ami(aws, bobs_fleet):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.create_image(InstanceId=bobs_fleet[0], Name="mocha-ansible-t-bob")["ImageId"]
    ec2.create_tags(Resources=[image], Tags=[*_tags("bob"), {"Key": "mocha-ansible:baked", "Value": "true"}])
    assert aws_api.newest_baked_image("us-east-1", "alice") is None
    newest = aws_api.newest_baked_image("us-east-1", "bob")
    assert newest is not None and newest["id"] == image


def test_a_deployment_name_a_colleague_uses_is_refused_before_anything_changes(aws, tmp_path):
    assert _play(tmp_path, "provision.yml", "alice-up", "alice").ok
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [group] = ec2.describe_security_groups(GroupNames=["mocha-ansible-t"])["SecurityGroups"]
    events: list[dict[str, Any]] = []
    job = PlaybookJob(
        playbook=ROOT / "playbooks/provision.yml", ident="bob-up",
        extravars={
            "ec2_gpu_instance_type": "g4dn.xlarge", "ec2_gpu_ami": AMI, "ec2_gpu_ssh_cidr": "198.51.100.9/32",
            "ec2_gpu_wait_for_ssh": False, "ec2_gpu_key_dir": str(tmp_path / "keys-bob"),
            "ec2_gpu_deployment": "t", "ec2_gpu_owner": "bob",
        },
    )  # fmt: skip
    res = run_playbook(job, tmp_path, on_event=events.append)
    assert not res.ok
    messages = " ".join(str((e.get("event_data", {}).get("res") or {}).get("msg", "")) for e in events)
    assert "ec2_gpu_deployment=t" in messages and "owned by alice" in messages
    [after] = ec2.describe_security_groups(GroupNames=["mocha-ansible-t"])["SecurityGroups"]
    assert after["IpPermissions"] == group["IpPermissions"] and after["Tags"] == group["Tags"]
    assert _live(ec2, "bob") == [] and len(_live(ec2, "alice")) == 1


def test_teardown_deletes_only_the_callers_launch_template(aws, tmp_path):
    """Issue 32, item 6: the spot template used to be deleted by name, so Bob's teardown of `t`
    took Alice's `mocha-ansible-t`. Templates are now found by the deployment and owner tags."""
    ec2 = boto3.client("ec2", region_name="us-east-1")

    def template(owner: str, name: str) -> str:
        spec = [{"ResourceType": "launch-template", "Tags": _tags(owner)}]
        made = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={}, TagSpecifications=spec)
        return made["LaunchTemplate"]["LaunchTemplateId"]

    alices = template("alice", "mocha-ansible-t")
    bobs = template("bob", "mocha-ansible-t-bob")
    down = _play(tmp_path, "teardown.yml", "bob-down", "bob")
    assert down.ok, down.failed_tasks
    left = sorted(lt["LaunchTemplateId"] for lt in ec2.describe_launch_templates()["LaunchTemplates"])
    assert left == [alices], f"bob's was {bobs}"
