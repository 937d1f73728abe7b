"""julia_build's tag resolution and compiler check (the role's filter plugin)."""

from __future__ import annotations

import pytest
import yaml

from mocha_ansible.project import role_python
from tests.helpers import ROOT

jb = role_python("julia_build", "filter_plugins/julia_build.py")
GCC = yaml.safe_load((ROOT / "roles/julia_build/vars/julia_gcc.yml").read_text())["julia_build_gcc_defaults"]
LS_REMOTE = "\n".join(
    [
        "2e89\trefs/tags/v0.4.7",
        "6566\trefs/tags/v0.5.0",
        "6567\trefs/tags/v0.5.0^{}",
        "cc0b\trefs/tags/v0.5.0-rc1",
        "69fb\trefs/tags/v0.6.0-rc2",
        "aaaa\trefs/heads/master",
    ]
)
TAGS = jb.julia_build_tags(LS_REMOTE)


def test_tags_from_ls_remote():
    assert TAGS == ["v0.4.7", "v0.5.0", "v0.5.0-rc1", "v0.6.0-rc2"]


def test_latest_stable_skips_release_candidates():
    assert jb.julia_build_resolve(TAGS, "latest-stable") == {"tag": "v0.5.0", "error": None}
    assert (
        jb.julia_build_resolve(["v1.10.0", "v1.9.4", "v1.11.0-beta1", "v1.10.1-alpha"], "latest-stable")["tag"]
        == "v1.10.0"
    )


def test_an_existing_tag_resolves_to_itself():
    assert jb.julia_build_resolve(TAGS, "v0.4.7")["tag"] == "v0.4.7"


def test_missing_tags_name_the_nearest_real_ones():
    for requested, nearest in (
        ("v9.9.9", "v0.6.0-rc2, v0.5.0, v0.5.0-rc1"),
        ("0.4.7x", "v0.4.7, v0.5.0, v0.5.0-rc1"),
        ("v0.4.8", "v0.4.7, v0.5.0, v0.5.0-rc1"),
    ):
        verdict = jb.julia_build_resolve(TAGS, requested)
        assert verdict["tag"] is None
        assert f"julia_build_version={requested} is not a tag" in verdict["error"]
        assert f"nearest real tags: {nearest};" in verdict["error"]


def test_no_stable_tag_at_all():
    assert jb.julia_build_resolve(["v2.0.0-rc1"], "latest-stable")["error"].endswith("has no vX.Y.Z tag")


def test_gcc_check():
    refusal = jb.julia_build_gcc_check("v0.4.7", "12.2.0", GCC)
    assert refusal.startswith("Julia v0.4.7 builds with GCC 4.7 to 5.x, and this host has GCC 12.2.0.")
    assert "Ubuntu 16.04" in refusal and "julia_build_allow_unsupported_gcc" in refusal
    assert jb.julia_build_gcc_check("v0.5.0", "5.4.0", GCC) is None
    assert jb.julia_build_gcc_check("v1.8.5", "13.1.0", GCC).startswith("Julia v1.8.5 builds with GCC 5.1 to 12.x")
    assert jb.julia_build_gcc_check("v1.5.3", "10.2.1", GCC) is None
    assert jb.julia_build_gcc_check("v1.10.0", "13.2.0", GCC) is None
    assert jb.julia_build_gcc_check("v1.10.0", "6.3.0", GCC).startswith("Julia v1.10.0 builds with GCC 7.1 or newer")


def _vars(name: str) -> dict:
    return yaml.safe_load((ROOT / "roles/julia_build/vars" / name).read_text())


def test_package_selection_per_flavor_and_distro():
    debian12 = _vars("apt-Debian-12.yml")["julia_build_packages"]
    assert "libopenblas0" in debian12 and "libopenblas-base" not in debian12
    for name in ("apt-Debian-12.yml", "apt-Debian-11.yml", "apt-Ubuntu-20.yml", "apt.yml"):
        packages = _vars(name)["julia_build_packages"]
        assert {"g++", "gfortran", "m4", "cmake", "pkg-config", "git", "hdf5-tools"} <= set(packages), name
    for name in ("yum-RedHat.yml", "yum-Amazon.yml", "yum.yml"):
        packages = _vars(name)["julia_build_packages"]
        assert {"git", "gcc-gfortran", "clang", "m4", "patch", "ncurses-devel", "hdf5"} <= set(packages), name


def test_epel_is_enabled_the_distros_way():
    assert _vars("yum-RedHat.yml")["julia_build_epel"] == "package"
    assert _vars("yum-Amazon.yml")["julia_build_epel"] == "repo-flag"
    tasks = yaml.safe_load((ROOT / "roles/julia_build/tasks/epel.yml").read_text())
    by_mode = {t["when"].split("==")[1].strip().strip("'"): t for t in tasks}
    assert by_mode["package"]["ansible.builtin.package"]["name"] == "epel-release"
    assert set(by_mode) == {"package", "repo-flag"}  # Amazon Linux 2 is refused, not enabled
    assert by_mode["repo-flag"]["ansible.builtin.replace"]["path"] == "/etc/yum.repos.d/epel.repo"


def test_plain_make_user_values_pass():
    assert jb.julia_build_make_user_refusal({"MARCH": "x86-64", "USE_SYSTEM_LIBM": 1, "CC": "gcc-5"}) is None
    assert jb.julia_build_make_user_refusal({"JULIA_CPU_TARGET": "generic;sandybridge,-xsaveopt"}) is None


@pytest.mark.parametrize(
    "value",
    ["$(shell id > /tmp/x)", "x86-64\\", "gcc # comment", "`id`", '"quoted"', "two\nlines", True, ["x"]],
)
def test_make_user_values_make_would_expand_are_refused(value):
    message = jb.julia_build_make_user_refusal({"MARCH": "x86-64", "CC": value})
    assert message is not None and message.startswith("julia_build_make_user: CC=")
    assert "\n" not in message and "no $, backslash, #" in message


def test_the_commit_pins_name_full_shas_of_stable_tags():
    table = yaml.safe_load((ROOT / "roles/julia_build/vars/julia_commits.yml").read_text())["julia_build_commits"]
    assert table["pins"] and all(jb.STABLE_TAG.match(tag) for tag in table["pins"])
    assert all(len(sha) == 40 and int(sha, 16) >= 0 for sha in table["pins"].values())
