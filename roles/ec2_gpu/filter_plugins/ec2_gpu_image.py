"""An image's root snapshot, and whether a root volume fits it: one rule for the role's
tasks/ami.yml and mocha_ansible's plan (which imports this file, as it does ec2_gpu_cidr.py).

EC2 makes an instance's root volume from the image's root snapshot and refuses a smaller
volume before anything runs: InvalidBlockDeviceMapping, "Volume of size 64GB is smaller than
snapshot 'snap-...', expect size >= 75GB" (the error text as users report it:
scylladb/scylladb#6999, openshift/origin-ci-tool#153). The snapshot's size is the root
device's Ebs.VolumeSize (GiB) in DescribeImages.

Reads an image as boto3 gives it (RootDeviceName, BlockDeviceMappings, Ebs.VolumeSize) and as
amazon.aws's ec2_ami_info gives it (root_device_name, block_device_mappings, ebs.volume_size).
"""

from __future__ import annotations

import re

# Ids are the only AWS text a message repeats; anything else an image carries (its name)
# is someone else's and stays out.
_ID = re.compile(r"^(ami|snap)-[0-9a-f]{1,40}\Z")


def _get(mapping, camel, snake):
    if not isinstance(mapping, dict):
        return None
    return mapping.get(camel, mapping.get(snake))


def ec2_gpu_root_snapshot(image):
    """The image's root snapshot: {'gib': its size (0 when the image does not say), 'snapshot': its id or ''}."""
    root = _get(image, "RootDeviceName", "root_device_name")
    for mapping in _get(image, "BlockDeviceMappings", "block_device_mappings") or []:
        if root is None or _get(mapping, "DeviceName", "device_name") != root:
            continue
        ebs = _get(mapping, "Ebs", "ebs") or {}
        try:
            gib = int(_get(ebs, "VolumeSize", "volume_size"))
        except (TypeError, ValueError):
            gib = 0
        snapshot = str(_get(ebs, "SnapshotId", "snapshot_id") or "")
        return {"gib": max(gib, 0), "snapshot": snapshot if _ID.match(snapshot) else ""}
    return {"gib": 0, "snapshot": ""}


def ec2_gpu_root_volume_problem(image, size):
    """'' when a root volume of `size` GiB fits the image's root snapshot (or the image does not say);
    else one line naming both sizes and what is accepted."""
    root = ec2_gpu_root_snapshot(image)
    if root["gib"] == 0 or int(size) >= root["gib"]:
        return ""
    image_id = str(_get(image, "ImageId", "image_id") or "")
    which = image_id if _ID.match(image_id) else "the image"
    snapshot = f"{root['snapshot']}, " if root["snapshot"] else ""
    return (
        f"ec2_gpu_root_volume_size={int(size)} is smaller than the root snapshot of {which} ({snapshot}{root['gib']}"
        f" GiB), so EC2 would refuse the launch (InvalidBlockDeviceMapping); accepted: {root['gib']} or more"
        f" (GiB), e.g. -e ec2_gpu_root_volume_size={root['gib']}"
    )


class FilterModule:
    def filters(self):
        return {
            "ec2_gpu_root_snapshot": ec2_gpu_root_snapshot,
            "ec2_gpu_root_volume_problem": ec2_gpu_root_volume_problem,
        }
