"""The compiler verdict per Julia minor x toolchain x preset (issue 16).

With julia_toolchain container the era's image builds (its GCC is judged, not the preset's);
with host the refusal stays, and its fix names --julia-toolchain container. The expected
images and GCCs are the facts of roles/julia_build/vars/julia_toolchain.yml, written out.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from mocha_ansible import route
from mocha_ansible.config import build_settings

PRESETS = ("ubuntu-20.04", "dlami-ubuntu", "dlami-al2023")
JULIAS = {"v0.4.7": ("ubuntu:16.04", "5.4"), "v0.5.0": ("ubuntu:16.04", "5.4"), "v0.6.4": ("ubuntu:18.04", "7.5")}
TOOLCHAINS = ("host", "container")
A_CHECKSUM = "sha256:" + "ab" * 32
CASES = list(itertools.product(PRESETS, JULIAS, TOOLCHAINS))


def _julia_link(preset: str, julia: str, toolchain: str, **extra: Any) -> Any:
    settings = build_settings(
        {},
        {
            "ami": preset, "julia_version": julia, "julia_from": "source-full", "cuda": False,
            "julia_toolchain": toolchain,
            "extra_vars": {"julia_build_source_full_checksum": A_CHECKSUM, **extra},
        },
    )  # fmt: skip
    chosen = route.evaluate(settings)
    return chosen, next(x for x in chosen.links if x.name == "julia")


@pytest.mark.parametrize(("preset", "julia", "toolchain"), CASES, ids=["-".join(c) for c in CASES])
def test_compiler_verdict_per_minor_toolchain_and_preset(preset: str, julia: str, toolchain: str) -> None:
    chosen, link = _julia_link(preset, julia, toolchain)
    image, gcc = JULIAS[julia]
    if toolchain == "host":
        # Every preset's default GCC (9 or 11) is above what 0.4-0.6 build with.
        assert link.status == "fail", chosen.line()
        assert "needs GCC <=" in link.detail
        assert f"--julia-toolchain container (builds in {image}, GCC {gcc})" in (link.fix or "")
        assert "--julia-from binary" in (link.fix or "")
    else:
        assert link.status == "ok", link.detail
        assert f"in container {image} with its GCC {gcc}" in link.detail
        assert f"built in {image} (GCC {gcc})" in chosen.line()


def test_an_untabled_image_is_checked_in_the_container() -> None:
    chosen, link = _julia_link("dlami-ubuntu", "v0.5.0", "container", julia_build_toolchain_image="debian:bullseye")
    assert link.status == "warn"
    assert "debian:bullseye" in link.detail and "built in debian:bullseye" in chosen.line()


def test_the_host_toolchain_still_judges_a_known_host_compiler() -> None:
    settings = build_settings({}, {"julia_version": "v0.5.0", "julia_from": "source-full", "cuda": False,
                                   "extra_vars": {"julia_build_source_full_checksum": A_CHECKSUM}})  # fmt: skip
    link = next(x for x in route.evaluate(settings, host_gcc="12.2.0").links if x.name == "julia")
    assert link.status == "fail" and "--julia-toolchain container" in (link.fix or "")
