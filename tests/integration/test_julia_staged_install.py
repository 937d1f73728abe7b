"""julia_build installs what the build user staged as root's own (issue 32 item 3).

The staged tree is the build user's: `cp -a` run by root kept a setuid bit the user had set (a
4755 bin/rootsh became root's setuid program under /opt/julia/<tag>/bin), a link in place of
the version folder made the install point into the user's space, and links inside could lead
out of it. Runs tasks/install_staged.yml on localhost as root over trees made here.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.helpers import ansible_env, run_playbook

TAG = "v0.6.4"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs as root, as the role does")


def _staged(tmp_path: Path) -> tuple[Path, Path]:
    """(the staged version folder, the prefix): bin/julia, a versioned library and its link."""
    prefix = tmp_path / "opt" / "julia"
    prefix.mkdir(parents=True)
    staged = tmp_path / "stage" / str(prefix).lstrip("/") / TAG
    (staged / "bin").mkdir(parents=True)
    (staged / "lib").mkdir()
    (staged / "bin" / "julia").write_text("#!/bin/sh\n")
    (staged / "bin" / "julia").chmod(0o755)
    (staged / "lib" / "libjulia.so.0.6").write_text("lib\n")
    (staged / "lib" / "libjulia.so").symlink_to("libjulia.so.0.6")
    return staged, prefix


def _install(tmp_path: Path, prefix: Path):
    values = {"julia_build_stage": str(tmp_path / "stage"), "julia_build_prefix": str(prefix), "julia_build_tag": TAG}
    return run_playbook(
        "tests/integration/playbooks/julia_install_staged.yml", "-e", json.dumps(values), env=ansible_env()
    )


def test_an_honest_tree_is_installed_without_set_id_bits(tmp_path):
    staged, prefix = _staged(tmp_path)
    (staged / "bin" / "rootsh").write_text("#!/bin/sh\n")
    (staged / "bin" / "rootsh").chmod(0o4755)
    (staged / "lib" / "shared").mkdir()
    (staged / "lib" / "shared").chmod(0o3777)
    proc = _install(tmp_path, prefix)
    assert proc.returncode == 0, proc.stdout[-3000:]
    dest = prefix / TAG
    assert stat.S_IMODE((dest / "bin" / "rootsh").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "lib" / "shared").stat().st_mode) == 0o777
    assert stat.S_IMODE((dest / "bin" / "julia").stat().st_mode) == 0o755
    assert os.readlink(dest / "lib" / "libjulia.so") == "libjulia.so.0.6"
    assert not (prefix / f"{TAG}.partial").exists()
    again = _install(tmp_path, prefix)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-2000:]


@pytest.mark.parametrize("kind", ["climbs out", "absolute", "into the stage", "version folder is a link"])
def test_a_tree_that_reaches_outside_itself_installs_nothing(tmp_path, kind):
    staged, prefix = _staged(tmp_path)
    users = tmp_path / "home" / "build"
    users.mkdir(parents=True)
    (users / "evil").write_text("#!/bin/sh\n")
    if kind == "climbs out":
        (staged / "bin" / "julia-debug").symlink_to("../../../../../../home/build/evil")
    elif kind == "absolute":
        (staged / "bin" / "julia-debug").symlink_to(users / "evil")
    elif kind == "into the stage":
        (staged / "bin" / "julia-debug").symlink_to(staged / "bin" / "julia")
    else:
        real = users / "tree"
        staged.rename(real)
        staged.symlink_to(real)
    proc = _install(tmp_path, prefix)
    assert proc.returncode != 0
    assert "julia_build: nothing was installed from" in proc.stdout, proc.stdout[-3000:]
    assert "accepted: a folder whose links are relative and stay inside it" in proc.stdout
    assert sorted(p.name for p in prefix.iterdir()) == []
