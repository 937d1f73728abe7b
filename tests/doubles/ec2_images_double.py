"""A test double for the one EC2 call the plan's AMI check makes (describe_images), answering like AWS for
an owner alias such as "amazon", which the emulator cannot give images it registers.

`preset_image` describes an image of a preset as DescribeImages does, with the root snapshot size the
preset's row in roles/ec2_gpu/vars/main.yml gives (root_snapshot_gib, its sources beside it: about 75 GiB
for dlami-ubuntu); the snapshot id is made up. `register_preset_image` puts a stand-in for such an image
into the emulator, which holds no DLAMI, the way EC2 makes one: a snapshot of that size, then
RegisterImage with it as the root device's (the emulator keeps both: mocha_ansible/emulator_ec2.py)."""

from __future__ import annotations

import fnmatch
from typing import Any

from mocha_ansible.project import role_yaml

PRESETS: dict[str, dict[str, Any]] = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_ami_presets"]


class Ec2ImagesDouble:
    def __init__(self, owner: str, images: list[dict[str, Any]]) -> None:
        self.owner, self.images = owner, images

    def describe_images(self, *, Owners: list[str], Filters: list[dict[str, Any]]) -> dict[str, Any]:
        [pattern] = [f["Values"][0] for f in Filters if f["Name"] == "name"]
        if self.owner not in Owners:
            return {"Images": []}
        return {"Images": [i for i in self.images if fnmatch.fnmatchcase(i["Name"], pattern)]}


def preset_image(preset: str, image_id: str, date: str) -> dict[str, Any]:
    """One image of `preset` dated `date`: its name pattern filled in, and (where the table has it) its root
    snapshot, as DescribeImages's RootDeviceName and BlockDeviceMappings[].Ebs carry it."""
    row = PRESETS[preset]
    image: dict[str, Any] = {
        "ImageId": image_id,
        "Name": str(row["name"]).replace("*", date),
        "CreationDate": f"{date}T00:00:00.000Z",
        "Architecture": "x86_64",
        # The device name ec2_gpu falls back to (tasks/launch_zone.yml); DescribeImages names it.
        "RootDeviceName": "/dev/sda1",
    }
    if "root_snapshot_gib" in row:
        ebs = {"SnapshotId": "snap-0123456789abcdef0", "VolumeSize": int(row["root_snapshot_gib"])}
        image["BlockDeviceMappings"] = [{"DeviceName": "/dev/sda1", "Ebs": ebs}]
    return image


def register_preset_image(ec2: Any, preset: str, date: str = "20261008") -> dict[str, str]:
    """Register in the emulator an image standing in for `preset`'s: its name, x86_64, and a root snapshot of
    the tabled size. Returns the image and snapshot ids."""
    row = PRESETS[preset]
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=int(row["root_snapshot_gib"]))["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    ec2.delete_volume(VolumeId=volume)
    image = ec2.register_image(
        Name=str(row["name"]).replace("*", date),
        Architecture="x86_64",
        RootDeviceName="/dev/sda1",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snapshot}}],
    )["ImageId"]
    return {"image": image, "snapshot": snapshot}
