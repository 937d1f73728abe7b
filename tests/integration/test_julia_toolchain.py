"""julia_build_toolchain=container (issue 16) before the role's container build exists: a source
build is refused at preflight with one message and nothing under the prefix, never quietly
built on the host. Runs ansible-playbook on this machine; it stops before any package or clone.

The repository is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_source_stand_in.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import SANDBOX_DOUBLES, julia_play_on_localhost


@pytest.mark.parametrize("method", ["source", "source-full"])
def test_container_toolchain_is_refused_until_built(tmp_path: Path, method: str) -> None:
    repo = tmp_path / "repo"
    subprocess.run([str(SANDBOX_DOUBLES / "julia_source_stand_in" / "make_repo.sh"), str(repo)], check=True)
    proc = julia_play_on_localhost(
        tmp_path,
        "-e", f"julia_build_repo_url=file://{repo}",
        "-e", f"julia_build_method={method}", "-e", "julia_build_toolchain=container",
        "-e", "julia_build_version=v0.5.0",
    )  # fmt: skip
    assert proc.returncode != 0
    assert "julia_build_toolchain=container (accepted for now: host)" in proc.stdout
    assert not (tmp_path / "opt").exists() and not (tmp_path / "cache").exists()
