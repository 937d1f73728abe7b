"""Security defaults, asserted on what `provision` really created in the emulator."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from tests.helpers import provision_on_emulator

PROJECT_TAGS = {"mocha-ansible:project": "mocha-ansible", "mocha-ansible:deployment": "sec"}


def _provision(aws, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return provision_on_emulator(aws, tmp_path, "sec", *extra)


def _tags(resource: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


@pytest.mark.parametrize("spot", [False, True], ids=["on-demand", "spot"])
def test_what_provision_creates_is_locked_down_and_tagged(aws, tmp_path, spot) -> None:
    proc = _provision(
        aws, tmp_path, "--ssh-cidr", "198.51.100.23/32", "--max-hours", "2", *(["--spot"] if spot else [])
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (inst,) = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]

    assert inst["MetadataOptions"]["HttpTokens"] == "required"
    volumes = ec2.describe_volumes(VolumeIds=[m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"]])["Volumes"]
    assert volumes and all(v["Encrypted"] for v in volumes)
    user_data = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
    script = base64.b64decode(user_data["UserData"]["Value"]).decode()
    assert "mocha-ansible-guard.timer" in script  # tests/integration/test_cost_guard.py runs it
    deadline = _tags(inst)["mocha-ansible:deadline"]
    assert datetime.strptime(deadline, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) > inst["LaunchTime"]

    (group,) = [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
    rules = [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), [r["CidrIp"] for r in p["IpRanges"]],
              p.get("Ipv6Ranges", [])) for p in group["IpPermissions"]]  # fmt: skip
    assert rules == [("tcp", 22, 22, ["198.51.100.23/32"], [])]

    keys = ec2.describe_key_pairs()["KeyPairs"]
    templates = ec2.describe_launch_templates()["LaunchTemplates"]
    assert len(templates) == (1 if spot else 0)
    for resource in [inst, group, *keys, *templates]:
        assert PROJECT_TAGS.items() <= _tags(resource).items(), resource
        assert _tags(resource).get("mocha-ansible:owner"), resource  # every lookup matches it
    assert float(_tags(inst)["mocha-ansible:max-hours"]) == 2


def test_ssh_from_anywhere_needs_the_opt_in_and_then_warns(aws, tmp_path) -> None:
    refused = _provision(aws, tmp_path, "--ssh-cidr", "0.0.0.0/0")
    # Refused as bad input by the CLI, before any play (exit 2).
    assert refused.returncode == 2 and "ec2_gpu_ssh_open_world=true" in refused.stderr, refused.stderr
    ec2 = boto3.client("ec2", region_name="us-east-1")
    assert [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]] == []

    opted = _provision(aws, tmp_path, "--ssh-cidr", "0.0.0.0/0", "-e", "ec2_gpu_ssh_open_world=true")
    assert opted.returncode == 0, opted.stdout[-3000:]
    log = Path(opted.stdout.split("log: ")[-1].split()[0]).read_text()
    assert "WARNING: SSH on mocha-ansible-sec is open to 0.0.0.0/0" in log
