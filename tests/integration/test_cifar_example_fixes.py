"""mocha_cifar runs its own copy of Mocha's CIFAR-10 example, with the fixes each Julia minor
needs (issue 30, items 1-3): Julia 0.6 has no readbytes (convert.jl line 25) and no @windows
(cifar10.jl line 3), and the data lists that get-cifar10.sh writes after convert.jl must exist
before cifar10.jl builds its nets. Mocha's tree is never edited.

julia is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_mocha_stand_in/julia: it ends a
script as real Julia does where its version lacks a name the script uses, and where Mocha's
HDF5DataLayer would open a missing data list or a missing file the list names. The Mocha tree
is the real one where ../shared/upstream holds pluskid/Mocha.jl's repository (its released
tags), else the test is skipped; the stand-in tree's example scripts are checked to carry the
same constructs on the same lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, SANDBOX_DOUBLES, ansible_env, run_playbook

STAND_IN = SANDBOX_DOUBLES / "julia_mocha_stand_in"
JULIA = STAND_IN / "julia"
MOCHA_BUNDLE = ROOT.parent / "shared" / "upstream" / "pluskid+Mocha.jl.bundle"
VARS = yaml.safe_load((ROOT / "roles/mocha_cifar/vars/example_patches.yml").read_text())
FIXES, PATCHES, LISTS = (
    VARS["mocha_cifar_example_fixes"],
    VARS["mocha_cifar_example_patches"],
    VARS["mocha_cifar_example_lists"],
)
COMPAT = yaml.safe_load((ROOT / "roles/mocha_cifar/vars/mocha_compat.yml").read_text())["mocha_cifar_compat"]
PATCH_SCRIPT = ROOT / "roles/mocha_cifar/files/patch_example.sh"
# (Julia, Mocha tag): the pairs Pkg resolves (vars/mocha_compat.yml).
ROUTE = [("0.4.7", "v0.1.2"), ("0.5.0", "v0.2.0"), ("0.6.4", "v0.3.1")]


@pytest.fixture(scope="module")
def mocha_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pluskid/Mocha.jl's real repository, every released tag."""
    if not MOCHA_BUNDLE.is_file():
        pytest.skip(f"no {MOCHA_BUNDLE} (the real Mocha repository) beside this checkout")
    repo = tmp_path_factory.mktemp("upstream") / "Mocha"
    subprocess.run(["git", "clone", "-q", str(MOCHA_BUNDLE), str(repo)], check=True)
    return repo


def _show(repo: Path, tag: str, path: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(repo), "show", f"{tag}:{path}"], check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def _fixes(tag: str, minor: str) -> list[dict[str, Any]]:
    return [FIXES[name] for name in PATCHES[tag][minor]["fixes"]]


# -- the table against the released tree ----------------------------------------------------


def test_every_pair_the_route_resolves_has_a_row():
    assert {(row["mocha"], minor) for minor, row in COMPAT.items()} <= {
        (tag, minor) for tag, minors in PATCHES.items() for minor in minors
    }
    assert {name for row in PATCHES.values() for pair in row.values() for name in pair["fixes"]} <= set(FIXES)


@pytest.mark.parametrize("tag", sorted(PATCHES))
def test_each_fix_is_on_its_line_in_the_released_example(mocha_repo, tag):
    for fix in FIXES.values():
        line = _show(mocha_repo, tag, f"examples/cifar10/{fix['file']}")[fix["line"] - 1]
        assert fix["old"] in line, (tag, fix["file"], fix["line"], line)
    # get-cifar10.sh writes the lists from data/, after convert.jl, with these names.
    script = _show(mocha_repo, tag, "examples/cifar10/get-cifar10.sh")
    assert script.index("cd data") < script.index("julia ../convert.jl")
    for entry in LISTS:
        assert script.index(f"echo {entry['names']} > {entry['list']}") > script.index("julia ../convert.jl")


def test_the_stand_in_examples_carry_the_same_constructs_on_the_same_lines():
    for fix in FIXES.values():
        line = (STAND_IN / "mocha_tree/examples/cifar10" / fix["file"]).read_text().splitlines()[fix["line"] - 1]
        assert fix["old"] in line, (fix["file"], line)


# -- each fix is needed, and enough: the patch script, then julia (TEST DOUBLE) -------------


def _copy(src: Path, dest: Path, fixes: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    argv = [str(v) for fix in fixes for v in (fix["line"], fix["old"], fix["new"])]
    return subprocess.run(
        ["sh", "-c", PATCH_SCRIPT.read_text(), "sh", str(src), str(dest), *argv],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def _julia(version: str, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JULIA_STAND_IN_VERSION": version, "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, str(JULIA), script], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _run_folder(tmp_path: Path, example: Path, fixes: list[dict[str, Any]]) -> Path:
    """The role's layout: the fixed copies, data/ with batches, stand-in HDF5 files and the lists."""
    run = tmp_path / "run"
    (run / "data" / "cifar-10-batches-bin").mkdir(parents=True)
    for name in ("convert.jl", "cifar10.jl"):
        done = _copy(example / name, run / name, [f for f in fixes if f["file"] == name])
        assert done.returncode == 0, done.stderr
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (run / "data" / "cifar-10-batches-bin" / name).write_bytes(bytes(3073))
    return run


@pytest.mark.parametrize("left_out", sorted(FIXES))
def test_julia_06_ends_the_released_example_where_a_fix_is_left_out(mocha_repo, tmp_path, left_out):
    subprocess.run(["git", "-C", str(mocha_repo), "checkout", "-q", "v0.3.1"], check=True)
    example = mocha_repo / "examples" / "cifar10"
    fixes = [fix for name, fix in FIXES.items() if name != left_out]
    run = _run_folder(tmp_path, example, fixes)
    converted = _julia("0.6.4", "../convert.jl", run / "data")
    for entry in LISTS:
        (run / "data" / entry["list"]).write_text(entry["names"] + "\n")
    trained = _julia("0.6.4", "cifar10.jl", run)
    failed = converted if left_out == "readbytes" else trained
    name = {"readbytes": "readbytes", "windows": "@windows"}[left_out]
    script = run / FIXES[left_out]["file"]
    # The first line and the last of real Julia 0.6's report (Mocha#237, Snappy.jl#15).
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[0] == f"ERROR: LoadError: UndefVarError: {name} not defined"
    starts = {"readbytes": 15, "windows": 3}[left_out]  # the top-level expression holding the line
    assert failed.stderr.splitlines()[-1] == f"while loading {script}, in expression starting on line {starts}"


@pytest.mark.parametrize(("julia", "tag"), ROUTE)
def test_the_tabled_fixes_run_the_released_example_on_each_julia(mocha_repo, tmp_path, julia, tag):
    subprocess.run(["git", "-C", str(mocha_repo), "checkout", "-q", tag], check=True)
    run = _run_folder(tmp_path, mocha_repo / "examples" / "cifar10", _fixes(tag, julia[:3]))
    converted = _julia(julia, "../convert.jl", run / "data")
    assert converted.returncode == 0, converted.stderr
    assert (run / "data" / "train.hdf5").is_file() and not list((run / "data").glob("*.txt"))  # get-cifar10.sh's
    for entry in LISTS:
        (run / "data" / entry["list"]).write_text(entry["names"] + "\n")
    (run / "cifar10.jl").write_text((run / "cifar10.jl").read_text().replace("max_iter=70000", "max_iter=400"))
    trained = _julia(julia, "cifar10.jl", run)
    assert trained.returncode == 0, trained.stderr
    assert "TRAIN iter=000400" in trained.stdout


def test_the_fixes_of_06_would_end_julia_04(mocha_repo, tmp_path):
    """Why 0.4's row has none: read(s, nb), @static and is_windows() came with 0.5."""
    subprocess.run(["git", "-C", str(mocha_repo), "checkout", "-q", "v0.1.2"], check=True)
    run = _run_folder(tmp_path, mocha_repo / "examples" / "cifar10", list(FIXES.values()))
    for entry in LISTS:
        (run / "data" / entry["list"]).write_text(entry["names"] + "\n")
    trained = _julia("0.4.7", "cifar10.jl", run)
    assert trained.returncode == 1
    assert trained.stderr.splitlines()[0] == "ERROR: LoadError: UndefVarError: @static not defined"


def test_the_patch_script_refuses_a_file_whose_line_does_not_hold_the_text(tmp_path):
    src, dest = tmp_path / "convert.jl", tmp_path / "copy.jl"
    src.write_text("line one\nmat = read(f, n)\n")
    done = _copy(src, dest, [{"line": 2, "old": "readbytes(", "new": "read("}])
    assert done.returncode == 3 and not dest.exists()
    assert done.stderr.strip() == (
        f"mocha_cifar: {src} line 2 does not hold 'readbytes(' as the released Mocha's does; the fixes in"
        " roles/mocha_cifar/vars/example_patches.yml were read from the released tree"
    )
    assert _copy(src, dest, [{"line": 7, "old": "read(", "new": "x("}]).returncode == 3  # no such line


# -- Mocha's data lists (TEST DOUBLE julia, as Mocha's HDF5DataLayer opens them) ------------


@pytest.mark.parametrize(
    ("lists", "error"),
    [
        ({}, "SystemError: opening file data/train.txt: No such file or directory"),
        ({"train.txt": "\n"}, "AssertionError: length(sources) > 0"),
        ({"train.txt": "data/missing.hdf5\n"}, "Cannot access file data/missing.hdf5"),
        ({"train.txt": "data/train.hdf5\n"}, "SystemError: opening file data/test.txt: No such file or directory"),
    ],
)
def test_training_ends_where_mocha_opens_a_missing_list_or_file(tmp_path, lists, error):
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    (run / "data" / "train.hdf5").write_text("stand-in\n")
    (run / "cifar10.jl").write_text((STAND_IN / "mocha_tree/examples/cifar10/cifar10.jl").read_text())
    for name, text in lists.items():
        (run / "data" / name).write_text(text)
    trained = _julia("0.5.0", "cifar10.jl", run)
    assert trained.returncode == 1
    assert trained.stderr.splitlines()[0] == f"ERROR: LoadError: {error}"
    assert "TRAIN" not in trained.stdout


# -- the role: dataset and training over the released example ------------------------------


def _dataset(tmp_path: Path) -> tuple[Path, str]:
    archive = tmp_path / "www" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    subprocess.run([sys.executable, str(STAND_IN / "make_dataset.py"), str(archive), "10"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return archive, "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()


def test_dataset_and_training_run_the_fixed_copy_and_leave_mocha_as_released(mocha_repo, tmp_path):
    """The default route's pair through the role (the other pairs' fixes are run above, without Ansible)."""
    julia, tag = "0.6.4", "v0.3.1"
    mocha = tmp_path / "Mocha"
    subprocess.run(["git", "clone", "-q", "--branch", tag, str(mocha_repo), str(mocha)], check=True,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    home, facts = tmp_path / "home", tmp_path / "facts"
    (home / "logs").mkdir(parents=True)
    facts.mkdir()
    archive, checksum = _dataset(tmp_path)
    values = {
        "mocha_steps": ["dataset.yml", "train.yml"], "mocha_steps_out": str(tmp_path / "decided.json"),
        "mocha_cifar_julia": str(JULIA), "mocha_cifar_home": str(home), "mocha_cifar_runner": [],
        "mocha_cifar_facts_dir": str(facts), "mocha_cifar_pkg_dir": {"stdout": str(mocha)},
        "mocha_cifar_cuda_on": False, "mocha_cifar_native_ext": False, "mocha_cifar_julia_minor": julia[:3],
        "mocha_cifar_version": tag, "mocha_cifar_wanted": tag[1:], "mocha_cifar_max_iter": 400,
        "mocha_cifar_dataset_url": archive.as_uri(), "mocha_cifar_dataset_checksum": checksum,
        "mocha_cifar_dataset_cache": str(tmp_path / "cache"),
    }  # fmt: skip
    env = ansible_env({"JULIA_STAND_IN_VERSION": julia, "HOME": str(home), "ANSIBLE_ASYNC_DIR": str(tmp_path / "a")})
    proc = run_playbook("tests/integration/playbooks/mocha_steps.yml", "-e", json.dumps(values), env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]

    run = home / "cifar10"
    for fix in _fixes(tag, julia[:3]):
        assert fix["new"] in (run / fix["file"]).read_text().splitlines()[fix["line"] - 1]
    for entry in LISTS:
        assert (run / "data" / entry["list"]).read_text() == entry["names"] + "\n"
    assert "TRAIN iter=000400" in (home / "logs" / "train.log").read_text()
    # Mocha's tree is as released: no tracked file changed, and nothing added, not even ignored files.
    status = ["git", "-C", str(mocha), "status", "--porcelain", "--ignored"]
    assert subprocess.run(status, capture_output=True, text=True, check=True).stdout == ""

    # A second run changes nothing: the copies and the lists are rewritten only when they differ.
    again = run_playbook("tests/integration/playbooks/mocha_steps.yml", "-e", json.dumps(values), env=env)
    assert again.returncode == 0, again.stdout[-3000:]
    for task in ("Copy the example's scripts with this Julia's fixes", "Write data/train.txt and data/test.txt"):
        block = again.stdout.split(f"TASK [mocha_cifar : {task}")[1].split("TASK [")[0]
        assert "changed:" not in block, block


@pytest.mark.parametrize(
    ("julia", "version", "refused"),
    [("0.6.4", "v0.1.3", True), ("0.5.0", "v0.3.1", True), ("0.6.4", "", False)],
)
def test_a_mocha_tag_without_a_row_for_its_julia_is_refused_in_preflight(tmp_path, julia, version, refused):
    home, facts = tmp_path / "home", tmp_path / "facts"
    (home / "logs").mkdir(parents=True)
    facts.mkdir()
    values = {
        "mocha_steps": ["preflight.yml"], "mocha_steps_out": str(tmp_path / "decided.json"),
        "mocha_cifar_julia": str(JULIA), "mocha_cifar_home": str(home), "mocha_cifar_runner": [],
        "mocha_cifar_facts_dir": str(facts), "mocha_cifar_version": version,
        "mocha_cifar_source": "/srv/mirrors/Mocha.jl",
    }  # fmt: skip
    env = ansible_env({"JULIA_STAND_IN_VERSION": julia, "HOME": str(home)})
    proc = run_playbook("tests/integration/playbooks/mocha_steps.yml", "-e", json.dumps(values), env=env)
    out = " ".join(proc.stdout.split())
    if not refused:
        assert proc.returncode == 0, out[-3000:]
        return
    assert proc.returncode == 2
    accepted = ", ".join(tag for tag, minors in PATCHES.items() if julia[:3] in minors)
    assert (
        f"mocha_cifar: mocha_cifar_version={version} has no row for Julia {julia[:3]} in vars/example_patches.yml,"
        f" so its CIFAR-10 example is unchecked there; accepted on Julia {julia[:3]}: {accepted}"
    ) in out
