"""One list of GPU families: every family an AMI preset's driver supports can be launched."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.helpers import ROOT

VARS = ROOT / "roles" / "ec2_gpu" / "vars"
FAMILIES = yaml.safe_load((VARS / "instance_types.yml").read_text(encoding="utf-8"))["ec2_gpu_gpu_families"]
PRESETS = yaml.safe_load((VARS / "main.yml").read_text(encoding="utf-8"))["ec2_gpu_ami_presets"]
PATTERN = yaml.safe_load((VARS / "input_patterns.yml").read_text(encoding="utf-8"))["ec2_gpu_input_patterns"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_family_a_preset_driver_supports_is_a_gpu_family(preset: str) -> None:
    listed = PRESETS[preset].get("driver_gpu_families") or []
    assert sorted(set(listed) - set(FAMILIES)) == []


def test_every_family_is_the_part_of_a_real_type_name_before_the_dot() -> None:
    # A type is FAMILY.SIZE (p6-b200.48xlarge): a family with a dot, or one the type
    # pattern cannot begin, would match no instance type.
    type_pattern = PATTERN["ec2_gpu_instance_type"]
    for family in FAMILIES:
        assert re.match(type_pattern, f"{family}.48xlarge"), family
