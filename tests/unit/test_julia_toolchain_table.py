"""The role-side verdicts of julia_build's container toolchain (issue 16), from its own data and
filter plugin: per Julia minor, the image row tasks/toolchain_container.yml picks (the same
filter as the compiler table), the packages it installs into the image, and the compiler check
of tasks/gcc.yml, judged on the image's GCC (container) or on each preset's host GCC (host).
"""

from __future__ import annotations

import copy
import itertools

import pytest
import yaml

from mocha_ansible import route, route_model
from mocha_ansible.config import build_settings
from mocha_ansible.project import role_python
from tests.helpers import ROOT

jb = role_python("julia_build", "filter_plugins/julia_build.py")
FILTERS = jb.FilterModule().filters()
VARS = ROOT / "roles/julia_build/vars"
GCC = yaml.safe_load((VARS / "julia_gcc.yml").read_text())["julia_build_gcc_defaults"]
IMAGES = yaml.safe_load((VARS / "julia_toolchain.yml").read_text())["julia_build_toolchain_images"]
RELEASES = yaml.safe_load((VARS / "julia_releases.yml").read_text())["julia_build_releases"]
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


# -- a git-tag build (source) whose dependency hosts are gone (issue 16) --------------------


def _source_link(julia: str, toolchain: str, **extra: str) -> tuple[route_model.Route, route_model.Link]:
    settings = build_settings(
        {}, {"julia_version": julia, "julia_from": "source", "cuda": False, "julia_toolchain": toolchain,
             "extra_vars": extra},
    )  # fmt: skip
    chosen = route.evaluate(settings)
    return chosen, next(x for x in chosen.links if x.name == "julia")


@pytest.mark.parametrize("julia", JULIAS)
def test_a_git_tag_build_takes_its_dependency_sources_from_the_full_tarball(julia: str) -> None:
    """The table says the tag's dependency hosts are gone and names the -full tarball: the route
    builds it in the era's image, the dependency sources taken from that tarball."""
    row = RELEASES[julia]
    assert row["git"]["deps_reachable"] is False and row["git"]["deps_from"] == "source_full"
    assert "JuliaLang/julia#6773" in row["git"]["deps_verified_by"]
    chosen, link = _source_link(julia, "container")
    image, gcc = JULIAS[julia]
    assert link.status == "ok", link.detail
    assert f"source build of {julia} in container {image} with its GCC {gcc}" in link.detail
    assert (
        f"git tag {julia}; dependency sources from julia-{julia[1:]}-full.tar.gz, each checked against the tag's"
        " deps/checksums"
    ) in chosen.line()


def test_a_given_full_url_names_its_tarball_in_the_route() -> None:
    chosen, link = _source_link("v0.5.0", "container", julia_build_source_full_url="file:///srv/j/mirror-full.tar.gz")
    assert link.status == "ok" and "dependency sources from mirror-full.tar.gz" in chosen.line()


def test_dead_dependency_hosts_and_no_full_tarball_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    tables = route._tables()
    releases = copy.deepcopy(tables["releases"])
    del releases["julia_build_releases"]["v0.5.0"]["source_full"]
    monkeypatch.setattr(route, "_tables", lambda: {**tables, "releases": releases})
    _, link = _source_link("v0.5.0", "container")
    assert link.status == "fail"
    assert link.detail.startswith("a git-tag build of v0.5.0 downloads dependencies from hosts that are gone (")
    assert "no -full tarball is known" in link.detail and "\n" not in link.detail
    assert link.fix is not None and "-e julia_build_source_full_url=URL" in link.fix


OFFICIAL_REPOS = yaml.safe_load((VARS / "julia_commits.yml").read_text())["julia_build_commits"]["official_repos"]


@pytest.mark.parametrize(
    ("url", "official"),
    [
        ("https://github.com/JuliaLang/julia", True),
        ("https://github.com/JuliaLang/julia.git", True),
        ("https://github.com/JuliaLang/julia.git/", True),
        ("git://github.com/JuliaLang/julia//", True),
        ("https://github.com/JuliaLang/julia-mirror.git", False),
        ("https://gitlab.example/JuliaLang/julia.git", False),
        ("file:///srv/mirrors/julia", False),
        ("", False),
    ],
)
def test_one_rule_says_which_repository_is_the_official_one(url: str, official: bool) -> None:
    """vars/main.yml (the commit pins, the -full tarball) and route.py ask the same filter."""
    assert FILTERS["julia_build_official_repo"](url, OFFICIAL_REPOS) is official
    if url:
        settings = build_settings(
            {}, {"julia_version": "v0.5.0", "julia_from": "source", "cuda": False, "julia_toolchain": "container",
                 "julia_repo": url},
        )  # fmt: skip
        seeded = "dependency sources from julia-0.5.0-full.tar.gz" in route.evaluate(settings).line()
        assert seeded is official  # a mirror or local repository brings its own dependency sources


def test_without_deps_from_a_dead_host_row_is_refused_even_with_a_full_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """git.deps_from is what lets the -full tarball stand in for the dependency hosts."""
    tables = route._tables()
    releases = copy.deepcopy(tables["releases"])
    del releases["julia_build_releases"]["v0.5.0"]["git"]["deps_from"]
    monkeypatch.setattr(route, "_tables", lambda: {**tables, "releases": releases})
    row = releases["julia_build_releases"]["v0.5.0"]
    assert FILTERS["julia_build_deps_full_url"](row, "source", "file:///srv/j/full.tar.gz", True) == ""
    _, link = _source_link("v0.5.0", "container", julia_build_source_full_url="file:///srv/j/full.tar.gz")
    assert link.status == "fail" and "the release table names no other source for them (git.deps_from)" in link.detail
    assert link.fix == "--julia-from source-full or --julia-from binary"  # a -full URL would not help here


def test_every_row_whose_dependency_hosts_are_gone_names_where_its_sources_come_from() -> None:
    """A typo in deps_from would quietly turn the -full seeding into a refusal."""
    gone = {tag: row["git"] for tag, row in RELEASES.items() if row["git"]["deps_reachable"] is False}
    assert gone, "the table records no dead dependency hosts"
    for tag, git in gone.items():
        assert git["deps_from"] == "source_full", tag
        assert RELEASES[tag]["source_full"]["url"].endswith(f"julia-{tag[1:]}-full.tar.gz"), tag
