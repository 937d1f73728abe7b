"""A root volume smaller than the image's root snapshot (issue 30 item 8, issue 31 item 6), over the EC2 wire.

EC2 refuses it with InvalidBlockDeviceMapping; moto reported 15 GiB for every image and accepted any size. The
emulator now carries EC2's rule (mocha_ansible/emulator_ec2.py), and an image registered from a snapshot of
the DLAMI's size (roles/ec2_gpu/vars/main.yml, root_snapshot_gib, with its sources) stands in for the DLAMI,
which the emulator does not hold. Against it: the image's own snapshot size, and EC2's refusal.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest

from tests.doubles.ec2_images_double import PRESETS, register_preset_image

GIB = int(PRESETS["dlami-ubuntu"]["root_snapshot_gib"])


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
