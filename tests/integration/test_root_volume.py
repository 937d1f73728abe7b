"""A root volume smaller than the image's root snapshot (issue 30 item 8, issue 31 item 6), over the EC2 wire.

EC2 refuses it with InvalidBlockDeviceMapping; moto reported 15 GiB for every image and accepted any size. The
emulator now carries EC2's rule (mocha_ansible/emulator_ec2.py), and an image registered from a snapshot of
the DLAMI's size (roles/ec2_gpu/vars/main.yml, root_snapshot_gib, with its sources) stands in for the DLAMI,
which the emulator does not hold. Against it: EC2's refusal, the role's refusal before it creates anything,
and the CLI's plan line and its one line with exit 2. The default size launching from it:
tests/integration/test_ec2_gpu.py::test_launch_is_hardened_and_a_rerun_changes_nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from mocha_ansible.role_vars import role_defaults
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.conftest import project_resources
from tests.doubles.ec2_images_double import PRESETS, register_preset_image
from tests.helpers import NOTHING, ROOT, ec2_gpu_vars, private_cli

GIB = int(PRESETS["dlami-ubuntu"]["root_snapshot_gib"])
DEFAULT = int(role_defaults()["ec2_gpu_root_volume_size"])


@pytest.fixture
def dlami(aws: Any) -> dict[str, str]:
    return register_preset_image(boto3.client("ec2", region_name="us-east-1"), "dlami-ubuntu")


def _instances(ec2: Any) -> list[dict[str, Any]]:
    return [
        i
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]


def test_the_image_reports_its_own_root_snapshot(dlami: dict[str, str]) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [image] = ec2.describe_images(ImageIds=[dlami["image"]])["Images"]
    [root] = [m for m in image["BlockDeviceMappings"] if m["DeviceName"] == image["RootDeviceName"]]
    assert (root["Ebs"]["SnapshotId"], root["Ebs"]["VolumeSize"]) == (dlami["snapshot"], GIB)
    assert image["Architecture"] == "x86_64"


def test_run_instances_below_the_snapshot_gets_ec2s_refusal(dlami: dict[str, str]) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch = {"ImageId": dlami["image"], "InstanceType": "g4dn.xlarge", "MinCount": 1, "MaxCount": 1}
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ec2.run_instances(**launch, BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": GIB - 11}}])
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidBlockDeviceMapping"
    assert error["Error"]["Message"] == (
        f"Volume of size {GIB - 11}GB is smaller than  snapshot '{dlami['snapshot']}', expect size >= {GIB}GB"
    )
    assert _instances(ec2) == []
    # The snapshot's own size is what EC2 asks for ("size >= ..."), and it launches.
    [inst] = ec2.run_instances(**launch, BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": GIB}}])[
        "Instances"
    ]
    [volume] = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [inst["InstanceId"]]}])[
        "Volumes"
    ]
    assert volume["Size"] == GIB


def _provision(tmp_path: Path, image: str, **extra: Any) -> Any:
    extravars = ec2_gpu_vars(tmp_path / "keys", **{"ec2_gpu_ami": image, **extra})
    events: list[dict[str, Any]] = []
    job = PlaybookJob(playbook=ROOT / "playbooks" / "provision.yml", ident="volume", extravars=extravars)
    result = run_playbook(job, tmp_path / "runs", on_event=events.append)
    messages = [str((e.get("event_data", {}).get("res") or {}).get("msg", "")) for e in events]
    return result, "\n".join(m for m in messages if m)


def test_the_role_refuses_a_volume_below_the_snapshot_before_creating_anything(dlami, tmp_path):
    result, messages = _provision(tmp_path, dlami["image"], ec2_gpu_root_volume_size=64)
    assert not result.ok
    assert (
        f"ec2_gpu: ec2_gpu_root_volume_size=64 is smaller than the root snapshot of {dlami['image']}"
        f" ({dlami['snapshot']}, {GIB} GiB), so EC2 would refuse the launch (InvalidBlockDeviceMapping);"
        f" accepted: {GIB} or more (GiB)"
    ) in messages
    assert project_resources() == NOTHING


def test_the_cli_shows_the_volume_in_the_plan_and_refuses_one_below_the_snapshot(dlami, tmp_path):
    plan = private_cli(tmp_path, "provision", "--check", "--ssh-cidr", "203.0.113.7/32", "--ami", dlami["image"])
    assert plan.returncode == 0, plan.stderr
    assert f"  [  ok] root volume: {DEFAULT} GiB fits {dlami['image']}'s {GIB} GiB root snapshot" in plan.stdout
    assert (
        f"  - 1 x {DEFAULT} GiB gp3 root volume, encrypted, deleted with its instance"
        f" (the image's root snapshot: {GIB} GiB)"
    ) in plan.stdout
    for command in (["provision", "--yes"], ["preflight"]):
        proc = private_cli(
            tmp_path,
            *command,
            "--ssh-cidr",
            "203.0.113.7/32",
            "--ami",
            dlami["image"],
            "-e",
            "ec2_gpu_root_volume_size=64",
        )
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        [line] = proc.stderr.strip().splitlines()
        assert "ec2_gpu_root_volume_size=64 is smaller than the root snapshot of" in line
        assert f"accepted: {GIB} or more (GiB)" in line
    assert project_resources() == NOTHING
    assert not (tmp_path / "runs").exists()
