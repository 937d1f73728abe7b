"""The root volume against the image's root snapshot (issue 30, item 8). EC2 makes the root volume from the
image's root snapshot and refuses a smaller one (InvalidBlockDeviceMapping); the DLAMI's snapshot (about
75 GiB) is larger than the old default of 64. The plan shows the volume, and a size below the snapshot is bad
input before anything exists, judged by the role's own rule (roles/ec2_gpu/filter_plugins/ec2_gpu_image.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mocha_ansible import preflight
from mocha_ansible.config import build_settings
from mocha_ansible.errors import ConfigError, ExitCode
from mocha_ansible.project import role_python
from mocha_ansible.role_vars import role_defaults
from tests.doubles.ec2_images_double import PRESETS, Ec2ImagesDouble, preset_image

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


def _plan_image(**extra_vars: Any) -> tuple[Any, dict[str, Any] | None]:
    settings = build_settings({}, {"ami": "dlami-ubuntu", "extra_vars": extra_vars})
    ec2 = Ec2ImagesDouble(
        str(PRESETS["dlami-ubuntu"]["owner"]), [preset_image("dlami-ubuntu", "ami-0b2c3d4e", "2026-10-08")]
    )
    return settings, preflight._ami(settings, ec2)[1]


def test_the_plan_shows_the_volume_against_the_images_snapshot() -> None:
    settings, image = _plan_image()
    check, line = preflight._root_volume(settings, image)
    assert (check.name, check.status) == ("root volume", "ok")
    assert check.detail == f"{DEFAULT} GiB fits ami-0b2c3d4e's {DLAMI_GIB} GiB root snapshot"
    assert line == f"{DEFAULT} GiB gp3 root volume, encrypted, deleted with its instance" + (
        f" (the image's root snapshot: {DLAMI_GIB} GiB)"
    )
    # No image found now: the role checks at launch, and the plan says so.
    assert (
        preflight._root_volume(settings, None)[0].detail
        == f"{DEFAULT} GiB; the image's root snapshot is checked at launch"
    )


@pytest.mark.parametrize("size", [64, "64"], ids=["json", "key=value"])
def test_a_volume_below_the_snapshot_is_bad_input_in_one_line(size: Any) -> None:
    settings, image = _plan_image(ec2_gpu_root_volume_size=size)
    with pytest.raises(ConfigError) as refused:
        preflight._root_volume(settings, image)
    text = str(refused.value)
    assert refused.value.exit_code == ExitCode.BAD_INPUT and "\n" not in text
    assert text.startswith("preflight: ec2_gpu_root_volume_size=64 is smaller than the root snapshot of ami-0b2c3d4e")
    assert f"(snap-0123456789abcdef0, {DLAMI_GIB} GiB)" in text
    assert f"accepted: {DLAMI_GIB} or more (GiB)" in text and "InvalidBlockDeviceMapping" in text
    # The snapshot's own size is accepted: EC2 asks for "size >= snapshot".
    settings, image = _plan_image(ec2_gpu_root_volume_size=DLAMI_GIB)
    assert preflight._root_volume(settings, image)[0].status == "ok"
