"""julia_build's refusals, run by ansible-playbook on this machine: they stop before any
package, clone or build, so they run here without a container.

The repository is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_source_stand_in, created by the test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import SANDBOX_DOUBLES, julia_play_on_localhost


@pytest.fixture(scope="module")
def stand_in_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    dest = tmp_path_factory.mktemp("julia") / "repo"
    subprocess.run([str(SANDBOX_DOUBLES / "julia_source_stand_in" / "make_repo.sh"), str(dest)], check=True)
    return f"file://{dest}"


def _julia(tmp_path: Path, repo: str, *extra: str) -> subprocess.CompletedProcess[str]:
    # The git-tag build these checks are about (the default method is binary).
    return julia_play_on_localhost(
        tmp_path, "-e", f"julia_build_repo_url={repo}", "-e", "julia_build_method=source", *extra
    )


@pytest.mark.parametrize("version", ["v9.9.9", "v0.4.8"])
def test_missing_tag_lists_the_nearest(tmp_path, stand_in_repo, version):
    proc = _julia(tmp_path, stand_in_repo, "-e", f"julia_build_version={version}")
    assert proc.returncode != 0
    assert f"julia_build_version={version} is not a tag of the repository; nearest real tags:" in proc.stdout
    assert not (tmp_path / "cache").exists()


def test_old_julia_on_a_new_gcc_is_refused_before_cloning(tmp_path, stand_in_repo):
    proc = _julia(tmp_path, stand_in_repo, "-e", "julia_build_version=v0.4.7")
    assert proc.returncode != 0
    assert "Julia v0.4.7 builds with GCC 4.7 to 5.x" in proc.stdout
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("julia_build_jobs=0", "jobs=0 (an integer >= 1, or auto"),
        ("julia_build_pkg_manager=pacman", "julia_build_pkg_manager"),
        ("julia_build_user=root", "user=root (not root)"),
        # The pattern in vars/input_patterns.yml, the one the CLI reads too
        ("julia_build_version=0.4.7x", "version=0.4.7x (accepted: a tag like v0.5.0"),
        ("julia_build_repo_url=ssh://git@github.com/JuliaLang/julia.git", "no SSH"),
    ],
)
def test_bad_input(tmp_path, stand_in_repo, extra, message):
    proc = _julia(tmp_path, stand_in_repo, "-e", extra)
    assert proc.returncode != 0
    assert message in proc.stdout
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("make_user", "shown"),
    [
        ({"CC": "$(shell id > /tmp/pwned)"}, "CC='$(shell id > /tmp/pwned)'"),
        ({"MARCH": "x86-64\\"}, "MARCH='x86-64\\\\'"),
    ],
)
def test_make_user_values_make_would_expand_are_refused_before_anything(tmp_path, stand_in_repo, make_user, shown):
    """Issue 22: Make.user is a makefile; $(shell ...) runs and a trailing backslash joins lines."""
    proc = _julia(tmp_path, stand_in_repo, "-e", json.dumps({"julia_build_make_user": make_user}))
    assert proc.returncode != 0
    assert f"julia_build_make_user: {shown} is not a plain value; accepted:" in proc.stdout
    assert not (tmp_path / "cache").exists()


def test_a_malformed_commit_pin_is_refused(tmp_path, stand_in_repo):
    proc = _julia(tmp_path, stand_in_repo, "-e", "julia_build_commit=abc123")
    assert proc.returncode != 0
    assert "julia_build_commit=abc123; accepted: auto, none, or a full 40-hex commit SHA" in proc.stdout
    assert not (tmp_path / "cache").exists()
