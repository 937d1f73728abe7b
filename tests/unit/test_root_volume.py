"""The root volume against the image's root snapshot (issue 30, item 8). EC2 makes the root volume from the
image's root snapshot and refuses a smaller one (InvalidBlockDeviceMapping); the DLAMI's snapshot (about
75 GiB) is larger than the old default of 64. The role's rule (roles/ec2_gpu/filter_plugins/ec2_gpu_image.py)
reads the snapshot and judges a size against it."""

from __future__ import annotations

from mocha_ansible.project import role_python
from mocha_ansible.role_vars import role_defaults
from tests.doubles.ec2_images_double import PRESETS, preset_image

DEFAULT = role_defaults()["ec2_gpu_root_volume_size"]
DLAMI_GIB = PRESETS["dlami-ubuntu"].get("root_snapshot_gib")


def test_the_default_fits_every_tabled_root_snapshot() -> None:
    tabled = {name: row["root_snapshot_gib"] for name, row in PRESETS.items() if "root_snapshot_gib" in row}
    assert "dlami-ubuntu" in tabled, "the default preset's row names its root snapshot"
    too_small = {name: gib for name, gib in tabled.items() if gib > DEFAULT}
    assert too_small == {}, f"ec2_gpu_root_volume_size={DEFAULT} is below these images' root snapshots"


def test_the_rule_reads_describe_images_as_boto3_and_as_ec2_ami_info_give_it() -> None:
    rule = role_python("ec2_gpu", "filter_plugins/ec2_gpu_image.py")
    boto3_shape = preset_image("dlami-ubuntu", "ami-0abc", "2026-10-08")
    ec2_ami_info_shape = {
        "image_id": "ami-0abc",
        "root_device_name": "/dev/sda1",
        "block_device_mappings": [
            {"device_name": "/dev/sdb", "ebs": {"volume_size": 500}},
            {"device_name": "/dev/sda1", "ebs": {"snapshot_id": "snap-0123456789abcdef0", "volume_size": DLAMI_GIB}},
        ],
    }
    for image in (boto3_shape, ec2_ami_info_shape):
        assert rule.ec2_gpu_root_snapshot(image) == {"gib": DLAMI_GIB, "snapshot": "snap-0123456789abcdef0"}
        assert rule.ec2_gpu_root_volume_problem(image, DLAMI_GIB) == ""
        assert "smaller than the root snapshot of ami-0abc" in rule.ec2_gpu_root_volume_problem(image, DLAMI_GIB - 1)
    # An image that names no root snapshot size (instance store, or an endpoint that does not say) is not judged.
    assert rule.ec2_gpu_root_volume_problem({"ImageId": "ami-0abc"}, 8) == ""
