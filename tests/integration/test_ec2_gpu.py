"""ec2_gpu over the EC2 wire protocol: moto, and a fault-injecting moto double.

Moto does not start machines, so SSH waits are off; everything else is the real
amazon.aws modules talking to an EC2 API endpoint.
"""

from __future__ import annotations

import base64
import json
import shlex
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from mocha_ansible.runner import PlaybookJob, RunResult, run_playbook
from tests.conftest import project_resources
from tests.doubles.ec2_images_double import register_preset_image
from tests.doubles.faulty_emulator import Fault
from tests.helpers import ROOT, ec2_gpu_vars

AMI = "ami-785db401"  # Ubuntu, x86_64, in moto's catalogue
NOTHING = {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}


def _vars(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return ec2_gpu_vars(tmp_path / "keys", **{"ec2_gpu_ami": AMI, **extra})


def _play(
    tmp_path: Path, book: str, ident: str, events: list[dict[str, Any]] | None = None, **extravars: Any
) -> RunResult:
    job = PlaybookJob(playbook=ROOT / "playbooks" / book, ident=ident, extravars=extravars)
    return run_playbook(job, tmp_path / "runs", on_event=events.append if events is not None else None)


def _messages(events: list[dict[str, Any]]) -> str:
    out = []
    for e in events:
        res = e.get("event_data", {}).get("res") or {}
        if res.get("msg"):
            out.append(str(res["msg"]))
    return "\n".join(out)


def _instances(ec2: Any) -> list[dict[str, Any]]:
    return [
        i
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]


def test_launch_is_hardened_and_a_rerun_changes_nothing(aws, tmp_path):
    # From a stand-in of the default preset's image: the default root volume must fit its root snapshot,
    # which the emulator now enforces as EC2 does (issue 30 item 8).
    ec2 = boto3.client("ec2", region_name="us-east-1")
    dlami = register_preset_image(ec2, "dlami-ubuntu")["image"]
    first = _play(tmp_path, "provision.yml", "first", **_vars(tmp_path, ec2_gpu_ami=dlami))
    assert first.ok, first.failed_tasks
    [inst] = _instances(ec2)
    assert inst["MetadataOptions"]["HttpTokens"] == "required"
    volume_ids = [m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"]]
    volumes = ec2.describe_volumes(VolumeIds=volume_ids)["Volumes"]
    assert volumes and all(v["Encrypted"] for v in volumes)
    assert {v["Size"] for v in volumes} == {100} and {v["VolumeType"] for v in volumes} == {"gp3"}
    user_data = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
    script = base64.b64decode(user_data["UserData"]["Value"]).decode()
    assert "mocha-ansible-guard.timer" in script  # tests/integration/test_cost_guard.py runs it
    shutdown = ec2.describe_instance_attribute(
        InstanceId=inst["InstanceId"], Attribute="instanceInitiatedShutdownBehavior"
    )
    assert shutdown["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    assert tags["mocha-ansible:deployment"] == "t" and tags["mocha-ansible:max-hours"] == "4"
    deadline = datetime.strptime(tags["mocha-ansible:deadline"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((deadline - inst["LaunchTime"]).total_seconds() - 4 * 3600) < 600
    key = tmp_path / "keys" / "mocha-ansible-t.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and "PRIVATE KEY" in key.read_text()

    second = _play(tmp_path, "provision.yml", "second", **_vars(tmp_path, ec2_gpu_ami=dlami))
    assert second.ok, second.failed_tasks
    assert second.changed == 0, [h for h in second.recap.items()]
    assert [i["InstanceId"] for i in _instances(ec2)] == [inst["InstanceId"]]


def test_count_three_then_teardown_leaves_nothing(aws, tmp_path):
    up = _play(tmp_path, "provision.yml", "up", **_vars(tmp_path, ec2_gpu_count=3))
    assert up.ok, up.failed_tasks
    found = project_resources()
    assert len(found["instances"]) == 3
    every = boto3.client("ec2", region_name="us-east-1")
    tagged = every.describe_instances(Filters=[{"Name": "tag:mocha-ansible:project", "Values": ["mocha-ansible"]}])
    assert sum(len(r["Instances"]) for r in tagged["Reservations"]) == 3
    down = _play(tmp_path, "teardown.yml", "down", **_vars(tmp_path))
    assert down.ok, down.failed_tasks
    assert project_resources() == NOTHING
    assert not (tmp_path / "keys" / "mocha-ansible-t.pem").exists()
    again = _play(tmp_path, "teardown.yml", "again", **_vars(tmp_path))
    assert again.ok and again.changed == 0


def test_spot_goes_through_a_launch_template(aws, tmp_path):
    res = _play(tmp_path, "provision.yml", "spot", **_vars(tmp_path, ec2_gpu_spot=True, ec2_gpu_spot_max_price="0.40"))
    assert res.ok, res.failed_tasks
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [template] = ec2.describe_launch_templates(LaunchTemplateNames=["mocha-ansible-t"])["LaunchTemplates"]
    data = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"])[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    assert data["InstanceMarketOptions"]["MarketType"] == "spot"
    assert data["InstanceMarketOptions"]["SpotOptions"]["MaxPrice"] == "0.40"
    assert len(_instances(ec2)) == 1
    assert _play(tmp_path, "teardown.yml", "down", **_vars(tmp_path)).ok
    assert project_resources() == NOTHING


def test_stop_then_start_keeps_the_instance(aws, tmp_path):
    assert _play(tmp_path, "provision.yml", "up", **_vars(tmp_path)).ok
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = _instances(ec2)
    assert _play(tmp_path, "provision.yml", "stop", **_vars(tmp_path, ec2_gpu_state="stopped")).ok
    assert [i["State"]["Name"] for i in _instances(ec2)] == ["stopped"]
    assert _play(tmp_path, "provision.yml", "start", **_vars(tmp_path, ec2_gpu_state="running")).ok
    assert [(i["InstanceId"], i["State"]["Name"]) for i in _instances(ec2)] == [(inst["InstanceId"], "running")]


def test_imported_public_key(aws, tmp_path):
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGj0cs8bE5dGZr0xQ+H9rL1kz1u8tOfE0d8Q1qZ4xYbX test@example"
    assert _play(tmp_path, "provision.yml", "up", **_vars(tmp_path, ec2_gpu_public_key=public)).ok
    assert project_resources()["key_pairs"] == ["mocha-ansible-t"]
    assert not (tmp_path / "keys" / "mocha-ansible-t.pem").exists()


def test_capacity_failover_to_the_next_zone(faulty_aws, instant_clock, tmp_path):
    """The real modules' back-off runs in full (on the instant clock), then the role moves on."""
    faulty_aws.faults.append(Fault("RunInstances", "InsufficientInstanceCapacity", zone="us-east-1a"))
    events: list[dict[str, Any]] = []
    res = _play(tmp_path, "provision.yml", "ice", events, **_vars(tmp_path, ec2_gpu_zones=["us-east-1a", "us-east-1b"]))
    assert res.ok, res.failed_tasks
    [inst] = _instances(boto3.client("ec2", region_name="us-east-1"))
    assert inst["Placement"]["AvailabilityZone"] == "us-east-1b"
    text = _messages(events)
    assert "ec2_gpu: us-east-1a: InsufficientInstanceCapacity" in text
    assert "ec2_gpu: us-east-1b: launched" in text
    # amazon.aws retried the zone ten times with its jittered back-off, and botocore retried
    # each of those HTTP 500 replies: many calls, and sleeps the instant clock skipped.
    assert faulty_aws.launches["us-east-1a"] > 10
    assert len(instant_clock.read_text().split()) >= 10
    assert faulty_aws.launches["us-east-1b"] == 1


def test_a_zone_whose_spot_price_is_above_the_maximum_fails_over(faulty_aws, tmp_path):
    faulty_aws.faults.append(Fault("RunInstances", "SpotMaxPriceTooLow", zone="us-east-1a"))
    events: list[dict[str, Any]] = []
    variables = _vars(
        tmp_path, ec2_gpu_zones=["us-east-1a", "us-east-1b"], ec2_gpu_spot=True, ec2_gpu_spot_max_price="0.20"
    )
    res = _play(tmp_path, "provision.yml", "spot-price", events, **variables)
    assert res.ok, res.failed_tasks
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = _instances(ec2)
    assert (inst["Placement"]["AvailabilityZone"], inst.get("InstanceLifecycle")) == ("us-east-1b", "spot")
    assert "ec2_gpu: us-east-1a: SpotMaxPriceTooLow" in _messages(events)
    # Launched through the template, it still gets the project's group (SSH from the caller only).
    [group] = ec2.describe_security_groups(GroupNames=["mocha-ansible-t"])["SecurityGroups"]
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [group["GroupId"]]


@pytest.mark.parametrize("double", ["aws", "faulty_aws"])
def test_the_ec2_double_refuses_to_stop_a_one_time_spot_instance(request, tmp_path, double):
    """The role launches spot through a template; EC2 then reports a spot instance and will not
    stop it (the role's preflight and the CLI refuse first: test_stop_start). Both the sandbox's
    emulator (aws) and the tests' fault-injecting one carry the rule (mocha_ansible/emulator_ec2.py)."""
    request.getfixturevalue(double)
    assert _play(tmp_path, "provision.yml", "spot", **_vars(tmp_path, ec2_gpu_spot=True)).ok
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = _instances(ec2)
    assert inst.get("InstanceLifecycle") == "spot"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ec2.stop_instances(InstanceIds=[inst["InstanceId"]])
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "associated with a one-time Spot Instance request" in str(refused.value)
    assert [i["State"]["Name"] for i in _instances(ec2)] == ["running"]


@pytest.mark.parametrize("text", ["InsufficientInstanceCapacity", "no capacity for 1 x g4dn.xlarge"])
def test_failover_follows_the_error_code_not_words_in_the_message(faulty_aws, tmp_path, text):
    """An error whose code is not a capacity one stops the play, whatever its message says."""
    faulty_aws.faults.append(
        Fault("RunInstances", "InvalidParameterValue", region="us-east-1", message=f"the text says {text}")
    )
    events: list[dict[str, Any]] = []
    variables = _vars(tmp_path, ec2_gpu_zones=["us-east-1a", "us-east-1b"], ec2_gpu_regions=["us-west-2"])
    res = _play(tmp_path, "provision.yml", "code", events, **variables)
    assert not res.ok
    text_out = _messages(events)
    assert "launching in us-east-1a failed" in text_out and "InvalidParameterValue" in text_out
    assert faulty_aws.calls["ec2:RunInstances"] == 1  # neither the next zone nor the next region was tried
    assert project_resources("us-west-2")["instances"] == []


def test_request_limit_exceeded_is_retried(faulty_aws, tmp_path):
    faulty_aws.faults.append(Fault("RunInstances", "RequestLimitExceeded", times=2))
    res = _play(tmp_path, "provision.yml", "throttled", **_vars(tmp_path))
    assert res.ok, res.failed_tasks
    assert faulty_aws.calls["ec2:RunInstances"] == 3
    assert len(project_resources()["instances"]) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ec2_gpu_region": "moon-base-1"}, "region=moon-base-1"),
        ({"ec2_gpu_instance_type": "m5.large"}, "has no NVIDIA GPU"),
        ({"ec2_gpu_ami": "ami-12"}, "ec2_gpu_ami=ami-12"),
        ({"ec2_gpu_ssh_cidr": "203.0.113.7/40"}, "ec2_gpu_ssh_cidr=203.0.113.7/40"),
        ({"ec2_gpu_ssh_cidr": "0.0.0.0/0"}, "opens SSH to the whole internet"),
        ({"ec2_gpu_count": 0}, "count=0 (accepted: >= 1)"),
        ({"ec2_gpu_count": -2}, "count=-2"),
        ({"ec2_gpu_max_hours": -1}, "max_hours=-1"),
        ({"ec2_gpu_spot_max_price": "0.5"}, "a max price only with spot"),
        ({"ec2_gpu_ami": "ami-0123456789abcdef0"}, "matched no image"),
    ],
)
def test_bad_input_fails_clearly_and_creates_nothing(faulty_aws, tmp_path, extra, message):
    events: list[dict[str, Any]] = []
    res = _play(tmp_path, "provision.yml", "bad", events, **_vars(tmp_path, **extra))
    assert not res.ok
    assert message in _messages(events)
    assert project_resources() == NOTHING
    assert faulty_aws.calls["ec2:RunInstances"] == 0


@pytest.mark.heavy
def test_region_failover_and_a_rerun_that_stays_there(faulty_aws, tmp_path):
    faulty_aws.faults.append(Fault("RunInstances", "Unsupported", region="us-east-1"))
    events: list[dict[str, Any]] = []
    variables = _vars(tmp_path, ec2_gpu_regions=["us-west-2"])
    res = _play(tmp_path, "provision.yml", "region", events, **variables)
    assert res.ok, res.failed_tasks
    assert project_resources("us-east-1") == NOTHING  # what the failed region got was removed
    west = project_resources("us-west-2")
    assert len(west["instances"]) == 1 and len(west["security_groups"]) == 1
    assert "us-east-1 cannot take the fleet; trying the next candidate region" in _messages(events)

    faulty_aws.faults.clear()  # capacity is back in us-east-1: the fleet must still not move or double
    again = _play(tmp_path, "provision.yml", "region-again", **variables)
    assert again.ok and again.changed == 0
    assert project_resources("us-east-1")["instances"] == []
    assert project_resources("us-west-2")["instances"] == west["instances"]

    down = _play(tmp_path, "teardown.yml", "region-down", **variables)
    assert down.ok, down.failed_tasks
    assert project_resources("us-west-2") == NOTHING and project_resources("us-east-1") == NOTHING


def test_each_instance_host_key_is_pinned_per_deployment_and_teardown_forgets_it(aws, tmp_path):
    # Claiming the endpoint is AWS's own lets add_host run; no play below connects to the hosts.
    out = tmp_path / "hostvars.json"
    res = _play(tmp_path, "../tests/integration/playbooks/ec2_gpu_hostvars.yml", "pin",
                **_vars(tmp_path, ec2_gpu_endpoint_is_aws=True, hostvars_out=str(out)))  # fmt: skip
    assert res.ok, res.failed_tasks
    [inst] = _instances(boto3.client("ec2", region_name="us-east-1"))
    args = shlex.split(json.loads(out.read_text())[inst["InstanceId"]])
    known_hosts = tmp_path / "keys" / "mocha-ansible-t.known_hosts"
    assert f"UserKnownHostsFile={known_hosts}" in args
    assert "StrictHostKeyChecking=accept-new" in args
    assert f"HostKeyAlias={inst['InstanceId']}" in args  # an address reused later inherits no trust
    assert stat.S_IMODE(known_hosts.parent.stat().st_mode) == 0o700

    known_hosts.write_text(f"{inst['InstanceId']} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGj0cs8bE5dGZr0xQ+H9rL1k\n")
    assert _play(tmp_path, "teardown.yml", "down", **_vars(tmp_path)).ok
    assert not known_hosts.exists()


def test_teardown_deletes_no_file_outside_the_key_folder(aws, tmp_path):
    key_dir = tmp_path / "a" / "b" / "keys"
    key_dir.mkdir(parents=True)
    outside = tmp_path / "a" / "x.pem"  # where "{key_dir}/../../x.pem" points
    outside.write_text("not a key of ours")
    ours = key_dir / "mocha-ansible-t.pem"
    ours.write_text("ours")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    tags = [
        {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
        {"Key": "mocha-ansible:deployment", "Value": "t"},
        {"Key": "mocha-ansible:owner", "Value": "alice"},
    ]
    for name in ("../../x", "mocha-ansible-t"):
        ec2.create_key_pair(KeyName=name, TagSpecifications=[{"ResourceType": "key-pair", "Tags": tags}])
    variables = _vars(tmp_path, ec2_gpu_key_dir=str(key_dir), ec2_gpu_owner="alice")
    res = _play(tmp_path, "teardown.yml", "down", **variables)
    assert res.ok, res.failed_tasks
    assert outside.read_text() == "not a key of ours"
    assert not ours.exists()
    assert ec2.describe_key_pairs()["KeyPairs"] == []
