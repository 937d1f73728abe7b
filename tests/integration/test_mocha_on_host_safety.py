"""mocha_cifar on the host (issue 22): user values reach Julia as ARGS, never as
code; Pkg.dir is checked before root acts on it; and what root writes after the
Mocha user's code has run cannot be redirected by a link that code planted.

julia is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_mocha_stand_in/julia; the Mocha tree
is its stand-in repository. The marker test runs the double as the real
unprivileged user `nobody`, in a throwaway folder under /var/tmp.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import SANDBOX_DOUBLES, ansible_env, run_playbook

JULIA = SANDBOX_DOUBLES / "julia_mocha_stand_in" / "julia"
NOBODY = 65534


def _tasks(tasks: str, home: Path, env_extra: dict[str, str] | None = None, **variables):
    values = {
        "mocha_tasks": tasks,
        "mocha_cifar_julia": str(JULIA),
        "mocha_cifar_home": str(home),
        "mocha_cifar_runner": [],
        "mocha_cifar_cuda_on": False,
        "mocha_cifar_julia_minor": "0.5",
        "mocha_cifar_version": "v0.2.0",
        "mocha_cifar_omp_threads": 2,  # preflight.yml would count the vCPUs
        **variables,
    }
    # The async jobs' status files go to one fixed folder, not to a ~ that differs
    # between the job and the poll.
    env = ansible_env(
        {
            "JULIA_STAND_IN_VERSION": "0.5.0",
            "HOME": str(home),
            "ANSIBLE_ASYNC_DIR": str(home.parent / "async"),
            **(env_extra or {}),
        }
    )
    return run_playbook("tests/integration/playbooks/mocha_tasks.yml", "-e", json.dumps(values), env=env)


def _calls(home: Path) -> list[str]:
    log = home / "julia-calls.log"
    return log.read_text().splitlines() if log.exists() else []


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    return home


def test_a_source_url_reaches_julia_as_args_not_as_code(tmp_path):
    """A path with Julia syntax in it ($, quotes, backticks) is cloned as a path:
    pasted into Pkg.clone("...") it would have been code."""
    source = tmp_path / 'src"); run(`touch PWNED`); ("$(x)'
    subprocess.run([str(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "make_mocha_repo.sh"), str(source)], check=True)
    home = _home(tmp_path)
    proc = _tasks("pkg.yml", home, mocha_cifar_source=str(source))
    assert proc.returncode == 0, proc.stdout[-3000:]
    calls = _calls(home)
    assert f'-e Pkg.setprotocol!("https"); Pkg.clone(ARGS[1], "Mocha") -- {source}' in calls  # Julia 0.5: over https
    assert '-e Pkg.pin("Mocha", VersionNumber(ARGS[1])) -- 0.2.0' in calls
    assert not [c for c in calls if "PWNED" in c.split(" -- ")[0]]  # never inside the code
    assert (home / ".julia" / "v0.5" / "Mocha" / "VERSION").exists()


def test_a_version_reaches_julia_as_args_not_as_code(tmp_path):
    """Past the role's input check (tested elsewhere), the version is still data."""
    source = tmp_path / "mocha"
    subprocess.run([str(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "make_mocha_repo.sh"), str(source)], check=True)
    home = _home(tmp_path)
    hostile = '0.2.0"); run(`touch PWNED`); ("'
    proc = _tasks("pkg.yml", home, mocha_cifar_source=str(source), mocha_cifar_version=hostile)
    pins = [c for c in _calls(home) if "Pkg.pin" in c]
    assert pins == [f'-e Pkg.pin("Mocha", VersionNumber(ARGS[1])) -- {hostile}']
    assert proc.returncode != 0  # no such tag: the stand-in's git checkout fails, as Pkg.pin would


@pytest.mark.parametrize("where", ["Mocha", "depot"])
def test_a_pkg_dir_reached_through_a_link_is_refused(tmp_path, where):
    """Pkg.dir is the Mocha user's output, and every folder on its way is that
    user's: a link there (the package, or the depot above it) would send root's
    later work in that tree (data, kernels) anywhere."""
    home = _home(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (home / ".julia").mkdir()
    if where == "Mocha":
        shutil.copytree(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "mocha_tree", elsewhere)
        (home / ".julia" / "v0.5").mkdir()
        (home / ".julia" / "v0.5" / "Mocha").symlink_to(elsewhere)
    else:
        shutil.copytree(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "mocha_tree", elsewhere / "Mocha")
        (home / ".julia" / "v0.5").symlink_to(elsewhere)
    proc = _tasks("pkg.yml", home, mocha_cifar_source="pkg")  # Mocha 0.2.0 "installed": no Pkg.add
    assert proc.returncode != 0
    assert f'mocha_cifar: Pkg.dir("Mocha") gave "{home}/.julia/v0.5/Mocha"' in proc.stdout
    assert f"accepted: a real folder {home}/.julia/vX.Y/Mocha with no link on the way" in proc.stdout


@pytest.fixture
def shared_home() -> Iterator[Path]:
    """A folder the unprivileged user `nobody` can reach (pytest's tmp_path is root's, 0700)."""
    base = Path(tempfile.mkdtemp(prefix="mocha-ansible-h3-", dir="/var/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def test_the_tested_marker_is_not_followed_into_roots_files(shared_home):
    """Pkg.test runs third-party code as the Mocha user; the stand-in plants the
    marker as a link to a root-owned file, as that code could. Touching the marker
    as root with owner=mocha would hand that file to the Mocha user."""
    home = shared_home / "home"
    (home / "logs").mkdir(parents=True)
    for path in (home, home / "logs"):
        os.chown(path, NOBODY, NOBODY)
    victim = shared_home / "victim"
    victim.write_text("root's file\n")
    before = victim.stat()
    marker = home / ".mocha-ansible-tested-0.2.0-cpu"
    proc = _tasks(
        "test.yml",
        home,
        {"JULIA_STAND_IN_PLANT_LINK": f"{marker}={victim}"},
        mocha_cifar_runner=["runuser", "-u", "nobody", "--"],
        mocha_cifar_user="nobody",
        mocha_cifar_wanted="0.2.0",
        mocha_cifar_native_ext=False,  # no Mocha tree here to build libmochaext.so in; backend "cpu"
    )
    assert marker.is_symlink(), proc.stdout[-3000:]  # the plant happened
    after = victim.stat()
    assert (after.st_uid, after.st_gid) == (0, 0)
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
    assert after.st_mtime_ns == before.st_mtime_ns
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.parametrize("published_md5_matches", [True, False])
def test_the_published_md5_is_checked_beside_the_sha256(tmp_path, published_md5_matches):
    """Issue 22: the download is checked by sha256; for the URL the table knows, the
    md5 the dataset's page publishes must match too. (The table is replaced here by
    one naming the test's own file:// URL: the real one needs the network.)"""
    archive = tmp_path / "www" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    subprocess.run(
        [sys.executable, str(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "make_dataset.py"), str(archive), "10"],
        check=True,
    )
    data = archive.read_bytes()
    md5 = hashlib.md5(data).hexdigest() if published_md5_matches else "0" * 32
    mocha = tmp_path / "Mocha"
    shutil.copytree(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "mocha_tree", mocha)
    home = _home(tmp_path)
    proc = _tasks(
        "dataset.yml",
        home,
        mocha_cifar_pkg_dir={"stdout": str(mocha)},
        mocha_cifar_wanted="0.2.0",  # pkg.yml would settle it; dataset.yml copies that tag's example
        mocha_cifar_dataset_url=archive.as_uri(),
        mocha_cifar_dataset_checksum=f"sha256:{hashlib.sha256(data).hexdigest()}",
        mocha_cifar_dataset_cache=str(tmp_path / "cache"),
        mocha_cifar_cifar10={"url": archive.as_uri(), "md5": md5, "md5_source": "the test"},
    )
    converted = home / "cifar10" / "data" / "train.hdf5"  # the role's run folder, not Mocha's tree
    if published_md5_matches:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert converted.exists()
    else:
        assert proc.returncode != 0
        assert f"not the published {'0' * 32} (the test)" in proc.stdout
        assert not converted.exists()
