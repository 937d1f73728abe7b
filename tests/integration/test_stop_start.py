"""`stop` and `start` (issue 23): pause a deployment's billing and resume it, against the emulator.

`start` re-arms the cost guard: before a stopped instance starts, its mocha-ansible:deadline tag
(which the guard on the host reads through instance metadata at every check) moves to
now + max-hours. A running instance is left alone and keeps its deadline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from mocha_ansible import lifecycle
from mocha_ansible.cli import main

DEADLINE = "mocha-ansible:deadline"


def _launch(deadline: datetime | None, max_hours: str = "2", metadata_tags: str = "enabled") -> str:
    tags = {
        "mocha-ansible:project": "mocha-ansible", "mocha-ansible:deployment": "default",
        "mocha-ansible:owner": "alice", "mocha-ansible:max-hours": max_hours,
    }  # fmt: skip
    if deadline is not None:
        tags[DEADLINE] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = ec2.run_instances(
        ImageId="ami-785db401", MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        MetadataOptions={"HttpTokens": "required", "InstanceMetadataTags": metadata_tags},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["Instances"]  # fmt: skip
    return str(inst["InstanceId"])


def _described(instance_id: str) -> dict:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def _state(instance_id: str) -> str:
    return str(_described(instance_id)["State"]["Name"])


def _deadline_tag(instance_id: str) -> datetime | None:
    raw = {t["Key"]: t["Value"] for t in _described(instance_id).get("Tags", [])}.get(DEADLINE)
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if raw else None


def _stopped(instance_id: str) -> str:
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[instance_id])
    return instance_id


def _base(tmp_path: Path) -> list[str]:
    return ["--runs-dir", str(tmp_path / "runs"), "--region", "us-east-1", "--key-dir", str(tmp_path)]


def test_stop_then_start_rearms_the_guard_before_the_instance_starts(
    aws, monkeypatch, tmp_path: Path, isolated_home, capsys
):
    monkeypatch.setenv("LOGNAME", "alice")
    launch_deadline = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    instance_id = _launch(launch_deadline, max_hours="2")

    assert main(["stop", "--json", *_base(tmp_path)]) == 0
    assert _state(instance_id) == "stopped"
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["type"], last["deployment"], last["ok"]) == ("stop", "default", True)
    assert _deadline_tag(instance_id) == launch_deadline  # stop moves nothing

    # What the tag says, and the instance's state, when the start play begins.
    seen: list[tuple[datetime | None, str]] = []
    power = lifecycle.power

    def recording_power(*args, **kwargs):
        seen.append((_deadline_tag(instance_id), _state(instance_id)))
        return power(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "power", recording_power)
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["start", "--json", *_base(tmp_path)]) == 0
    after = datetime.now(UTC)
    assert _state(instance_id) == "running"
    new = _deadline_tag(instance_id)
    assert new is not None and before + timedelta(hours=2) <= new <= after + timedelta(hours=2)  # its max-hours tag
    assert seen == [(new, "stopped")]  # re-armed while still stopped, before the start
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["type"], last["ok"]) == ("start", True)
    assert last["guard_deadlines"] == {instance_id: new.isoformat(timespec="minutes")}


def test_start_past_the_deadline_rearms_with_max_hours(aws, monkeypatch, tmp_path: Path, isolated_home, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    instance_id = _stopped(_launch(datetime.now(UTC) - timedelta(minutes=1)))

    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["start", "--max-hours", "1.5", *_base(tmp_path)]) == 0
    after = datetime.now(UTC)
    assert _state(instance_id) == "running"
    new = _deadline_tag(instance_id)
    assert new is not None and before + timedelta(hours=1.5) <= new <= after + timedelta(hours=1.5)
    out = capsys.readouterr().out
    assert (
        f"Started {instance_id}; its cost guard, re-armed, powers it off at {new.isoformat(timespec='minutes')}" in out
    )


@pytest.mark.usefixtures("isolated_home")
@pytest.mark.parametrize("bad", ["0", "-1", "721", "abc", "nan"])
def test_start_with_bad_max_hours_exits_2_and_changes_nothing(aws, monkeypatch, tmp_path: Path, capsys, bad):
    monkeypatch.setenv("LOGNAME", "alice")
    deadline = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    instance_id = _stopped(_launch(deadline))

    assert main(["start", f"--max-hours={bad}", *_base(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--max-hours" in err[0] and repr(bad) in err[0]
    assert "accepted: a number of hours greater than 0 and at most 720" in err[0]
    assert (_state(instance_id), _deadline_tag(instance_id)) == ("stopped", deadline)
    assert not (tmp_path / "runs").exists()


def test_start_leaves_a_running_instance_and_its_deadline_alone(
    aws, monkeypatch, tmp_path: Path, isolated_home, capsys
):
    monkeypatch.setenv("LOGNAME", "alice")
    deadline = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    instance_id = _launch(deadline)

    assert main(["start", "--max-hours", "5", *_base(tmp_path)]) == 0
    assert (_state(instance_id), _deadline_tag(instance_id)) == ("running", deadline)
    assert f"{instance_id} was already running; its cost guard still powers it off at " in capsys.readouterr().out


def test_start_refuses_past_the_deadline_when_the_guard_cannot_read_tags(
    aws, monkeypatch, tmp_path: Path, isolated_home, capsys
):
    # Launched before the guard read its tag (or with a tag key instance metadata refuses):
    # a new tag would not reach it, so it would power off at boot against the old deadline.
    monkeypatch.setenv("LOGNAME", "alice")
    deadline = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    instance_id = _stopped(_launch(deadline, metadata_tags="disabled"))

    assert main(["start", *_base(tmp_path)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "launched without tags in instance metadata" in err[0]
    assert "teardown --deployment default" in err[0]
    assert (_state(instance_id), _deadline_tag(instance_id)) == ("stopped", deadline)
    assert not (tmp_path / "runs").exists()


def test_start_without_a_guard_starts_and_adds_no_deadline(aws, monkeypatch, tmp_path: Path, isolated_home, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    instance_id = _stopped(_launch(None))  # launched with ec2_gpu_disable_auto_terminate: no guard, no tag

    assert main(["start", "--max-hours", "2", *_base(tmp_path)]) == 0
    assert (_state(instance_id), _deadline_tag(instance_id)) == ("running", None)
    assert "powers it off at never (no guard)" in capsys.readouterr().out


def test_start_refuses_an_unreadable_max_hours_tag_without_max_hours(
    aws, monkeypatch, tmp_path: Path, isolated_home, capsys
):
    monkeypatch.setenv("LOGNAME", "alice")
    deadline = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    instance_id = _stopped(_launch(deadline, max_hours="forever"))

    assert main(["start", *_base(tmp_path)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mocha-ansible:max-hours tag is 'forever'" in err[0] and "--max-hours H" in err[0]
    assert (_state(instance_id), _deadline_tag(instance_id)) == ("stopped", deadline)


def test_stop_refuses_a_one_time_spot_deployment_before_any_change(
    faulty_aws, monkeypatch, tmp_path: Path, isolated_home, capsys
):
    """EC2 cannot stop a one-time spot instance (UnsupportedOperation, which the EC2 double
    answers too: test_ec2_gpu); the CLI says so in one line and changes nothing."""
    monkeypatch.setenv("LOGNAME", "alice")
    on_demand = _launch(None)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [spot] = ec2.run_instances(
        ImageId="ami-785db401", MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {"SpotInstanceType": "one-time"}},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [
            {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
            {"Key": "mocha-ansible:deployment", "Value": "default"},
            {"Key": "mocha-ansible:owner", "Value": "alice"},
        ]}],
    )["Instances"]  # fmt: skip

    assert main(["stop", *_base(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and spot["InstanceId"] in err[0] and "one-time spot" in err[0]
    assert "mocha-ansible teardown --deployment default" in err[0]
    assert faulty_aws.calls["ec2:StopInstances"] == 0
    assert (_state(on_demand), _state(spot["InstanceId"])) == ("running", "running")
