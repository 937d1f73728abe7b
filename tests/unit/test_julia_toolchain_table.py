"""The role-side verdicts of julia_build's container toolchain (issue 16), from its own data and
filter plugin: per Julia minor, the image row tasks/toolchain_container.yml picks (the same
filter as the compiler table), the packages it installs into the image, and the compiler check
of tasks/gcc.yml, judged on the image's GCC (container) or on each preset's host GCC (host).
"""

from __future__ import annotations

import itertools

import pytest
import yaml

from mocha_ansible.project import role_python
from tests.helpers import ROOT

jb = role_python("julia_build", "filter_plugins/julia_build.py")
FILTERS = jb.FilterModule().filters()
VARS = ROOT / "roles/julia_build/vars"
GCC = yaml.safe_load((VARS / "julia_gcc.yml").read_text())["julia_build_gcc_defaults"]
IMAGES = yaml.safe_load((VARS / "julia_toolchain.yml").read_text())["julia_build_toolchain_images"]
# The host GCC major of each preset, from ec2_gpu's AMI table (9 on Ubuntu 20.04, 11 on the DLAMIs).
PRESETS = yaml.safe_load((ROOT / "roles/ec2_gpu/vars/main.yml").read_text())["ec2_gpu_ami_presets"]
PRESET_GCC = {name: PRESETS[name]["gcc"] for name in ("ubuntu-20.04", "dlami-ubuntu", "dlami-al2023")}
JULIAS = {"v0.4.7": ("ubuntu:16.04", "5.4"), "v0.5.0": ("ubuntu:16.04", "5.4"), "v0.6.4": ("ubuntu:18.04", "7.5")}
CASES = list(itertools.product(JULIAS, ("host", "container"), PRESET_GCC))


@pytest.mark.parametrize(("julia", "toolchain", "preset"), CASES, ids=["-".join(c) for c in CASES])
def test_compiler_verdict_per_minor_toolchain_and_preset(julia: str, toolchain: str, preset: str) -> None:
    row = FILTERS["julia_build_gcc_range"](julia, IMAGES)
    image, gcc = JULIAS[julia]
    assert (row["image"], row["gcc"]) == (image, gcc)
    judged = row["gcc"] if toolchain == "container" else PRESET_GCC[preset]
    refusal = FILTERS["julia_build_gcc_check"](julia, judged, GCC)
    if toolchain == "container":
        assert refusal is None
    else:
        assert refusal is not None and f"this host has GCC {judged}" in refusal


@pytest.mark.parametrize("row", IMAGES, ids=[r["image"] for r in IMAGES])
def test_each_image_row_lists_its_build_packages_with_a_source(row: dict[str, object]) -> None:
    packages = row["packages"]
    assert isinstance(packages, list)
    # The era's toolchain: C, C++ and Fortran compilers and the tools Julia's Makefiles call.
    assert {"build-essential", "gfortran", "m4", "cmake", "python", "perl", "patch"} <= set(packages)
    assert str(row["packages_source"]).strip()


def test_a_minor_no_image_is_tabled_for_picks_none() -> None:
    assert FILTERS["julia_build_gcc_range"]("v1.6.7", IMAGES) is None
