"""The plan names the AMI id a preset resolves to today (issue 23), as ec2_gpu's ami.yml looks it up: the
preset's owner and name pattern, the newest match."""

from __future__ import annotations

from mocha_ansible import preflight
from mocha_ansible.config import build_settings
from tests.doubles.ec2_images_double import PRESETS, Ec2ImagesDouble, preset_image

PRESET = PRESETS["dlami-ubuntu"]


def test_a_preset_shows_its_newest_image_id() -> None:
    images = [
        preset_image("dlami-ubuntu", "ami-0old", "2026-04-20"),
        preset_image("dlami-ubuntu", "ami-0new", "2026-10-08"),
    ]
    ec2 = Ec2ImagesDouble(str(PRESET["owner"]), images)
    check, image = preflight._ami(build_settings({}, {"ami": "dlami-ubuntu", "extra_vars": {}}), ec2)
    assert (check.name, check.status) == ("ami", "ok")
    assert check.detail.startswith("ami-0new: Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) 2026-10-08")
    assert "preset dlami-ubuntu's newest match now" in check.detail
    assert image is not None and image["ImageId"] == "ami-0new"


def test_no_match_now_leaves_it_to_launch() -> None:
    check, image = preflight._ami(
        build_settings({}, {"ami": "dlami-ubuntu", "extra_vars": {}}),
        Ec2ImagesDouble("someone-else", [preset_image("dlami-ubuntu", "ami-0x", "2026")]),
    )
    assert check.detail == "preset dlami-ubuntu is resolved to the newest match at launch"
    assert image is None
