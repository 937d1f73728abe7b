"""mocha_cifar's kernel build on its own: a real make of the stand-in Mocha tree's
kernel Makefile, with the TEST DOUBLE tests/doubles/nvcc_recorder as nvcc."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from tests.helpers import DOUBLES, SANDBOX_DOUBLES, ansible_env, run_playbook

TREE = SANDBOX_DOUBLES / "julia_mocha_stand_in" / "mocha_tree"
JULIA = SANDBOX_DOUBLES / "julia_mocha_stand_in" / "julia"


def _run(tmp_path: Path, _path_prefix: str = str(DOUBLES / "nvcc_recorder"), **overrides):
    mocha = tmp_path / "Mocha"
    variables = {
        "mocha_cifar_pkg_dir": {"stdout": str(mocha)},
        "mocha_cifar_cuda_on": True,
        "mocha_cifar_runner": [],
        "mocha_cifar_home": str(tmp_path / "home"),
        "mocha_cifar_julia": str(JULIA),
        "mocha_cifar_nvcc_flags": "-arch=compute_90",
        "mocha_cifar_curand_paths": [str(tmp_path / "include")],
        "mocha_cifar_profile_file": str(tmp_path / "mocha.sh"),
        **overrides,
    }
    env = ansible_env({"NVCC_RECORD_LOG": str(tmp_path / "nvcc.log")}, path_prefix=_path_prefix)
    return run_playbook("tests/integration/playbooks/mocha_kernels.yml", "-e", json.dumps(variables), env=env)


def _calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "nvcc.log"
    return log.read_text().splitlines() if log.exists() else []


def _prepare(tmp_path: Path) -> Path:
    shutil.copytree(TREE, tmp_path / "Mocha")
    (tmp_path / "home").mkdir()
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "curand_kernel.h").write_text("/* stand-in */\n")
    return tmp_path / "Mocha" / "src" / "cuda" / "kernels"


def test_flags_reach_nvcc_and_rebuilds_happen_only_for_newer_impl(tmp_path):
    kernels = _prepare(tmp_path)
    first = _run(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    assert _calls(tmp_path) == ["args=-ptx kernels.cu append=-arch=compute_90"]
    assert (kernels / "kernels.ptx").exists()
    assert "export MOCHA_USE_CUDA=true" in (tmp_path / "mocha.sh").read_text()

    again = _run(tmp_path)
    assert again.returncode == 0 and len(_calls(tmp_path)) == 1  # up to date: no rebuild

    later = time.time() + 60
    os.utime(kernels / "dropout.impl", (later, later))
    third = _run(tmp_path)
    assert third.returncode == 0 and len(_calls(tmp_path)) == 2  # an .impl is newer: rebuilt


def test_empty_flags_keep_mochas_own_rule(tmp_path):
    _prepare(tmp_path)
    assert _run(tmp_path, mocha_cifar_nvcc_flags="").returncode == 0
    assert _calls(tmp_path) == ["args=-ptx kernels.cu append="]


def test_missing_curand_headers_fail_with_what_to_install(tmp_path):
    _prepare(tmp_path)
    (tmp_path / "include" / "curand_kernel.h").unlink()
    proc = _run(tmp_path)
    assert proc.returncode != 0
    assert "curand_kernel.h is missing" in proc.stdout and "libcurand-dev" in proc.stdout
    assert _calls(tmp_path) == []


def test_cuda_off_unsets_the_variable_and_builds_nothing(tmp_path):
    _prepare(tmp_path)
    proc = _run(tmp_path, mocha_cifar_cuda_on=False, mocha_cifar_native_ext=False)  # pure Julia: no libmochaext here
    assert proc.returncode == 0, proc.stdout[-3000:]
    profile = (tmp_path / "mocha.sh").read_text()
    assert "unset MOCHA_USE_CUDA" in profile and "export" not in profile
    assert _calls(tmp_path) == []


def test_the_build_finds_the_nvcc_cuda_verify_found_off_path(tmp_path):
    """Issue 30 item 13: nvcc under /usr/local/cuda*/bin is not on the PATH runuser passes on."""
    _prepare(tmp_path)
    cuda_bin = tmp_path / "cuda-12.4" / "bin"
    cuda_bin.mkdir(parents=True)
    shutil.copy(DOUBLES / "nvcc_recorder" / "nvcc", cuda_bin / "nvcc")
    found = {"cuda": {"nvcc": {"path": str(cuda_bin / "nvcc"), "on_path": False}}}
    proc = _run(tmp_path, ansible_local=found, _path_prefix="")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _calls(tmp_path) == ["args=-ptx kernels.cu append=-arch=compute_90"]
