"""cuda_verify run by ansible-playbook on this machine against the GPU stand-in double.

The double (tests/doubles/gpu_stand_in) replays recorded nvidia-smi/nvcc output;
it drives the role's parsing and compatibility logic, not a GPU.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.helpers import DOUBLES, GPU_PROFILES, ansible_env, run_playbook

STAND_IN_BIN = DOUBLES / "gpu_stand_in" / "bin"


def _verify(tmp_path: Path, profile: str, *extra: str):
    log = tmp_path / "calls.log"
    env = ansible_env(
        {"GPU_STAND_IN_PROFILE": str(GPU_PROFILES / profile), "GPU_STAND_IN_LOG": str(log)},
        path_prefix=str(STAND_IN_BIN),
    )
    results = tmp_path / "results"
    proc = run_playbook(
        "playbooks/verify.yml",
        "-e", "mocha_hosts=localhost",
        "-e", "mocha_become=false",
        "-e", f"mocha_results_dir={results}",
        "-e", f"cuda_verify_facts_dir={tmp_path / 'facts.d'}",
        "-e", f"cuda_verify_work_dir={tmp_path / 'work'}",
        "-e", "cuda_verify_nvcc_search_paths=[]",
        *extra,
        env=env,
    )  # fmt: skip
    report_file = results / "localhost" / "cuda_verify.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, report, calls


def test_k80_with_cuda13_fails_with_both_reasons(tmp_path):
    proc, report, calls = _verify(tmp_path, "k80-nvcc13", "-e", "cuda_verify_smoke_test=false")
    assert proc.returncode != 0
    # Driver 470 rejects the compute_cap field (the double does as the real one does);
    # the role reads the XML and the name table instead.
    assert report["driver"]["source"] == "xml" and report["driver"]["gpus"][0]["compute_cap"] == "3.7"
    assert any(c.startswith("nvidia-smi -q -x") for c in calls)
    assert "cuda_verify compute_capability: Tesla K80 is sm_37, which CUDA 13.0 no longer supports" in proc.stdout
    assert "cuda_verify driver_vs_toolkit: the driver supports CUDA 11.4 but nvcc is 13.0" in proc.stdout
    assert [p["check"] for p in report["problems"]] == ["driver_vs_toolkit", "compute_capability"]


def test_h100_passes_and_reports(tmp_path):
    proc, report, calls = _verify(tmp_path, "h100-nvcc13", "-e", "cuda_verify_smoke_test=false")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert report["problems"] == []
    assert report["driver"]["gpus"][0]["compute_cap"] == "9.0"
    assert report["nvcc"]["version"] == "13.0.88"
    assert report["nvcc"]["path"] == str(STAND_IN_BIN / "nvcc")
    assert "smoke test not run: disabled" in report["summary"]
    assert not [c for c in calls if c.startswith("nvcc -arch")]
    fact = json.loads((tmp_path / "facts.d" / "cuda.fact").read_text())
    assert fact["gpu_present"] is True


def test_smoke_compiles_for_the_gpus_own_arch_and_a_failed_build_is_a_problem(tmp_path):
    proc, report, calls = _verify(tmp_path, "h100-nvcc13")
    compile_calls = [c for c in calls if c.startswith("nvcc -arch")]
    assert len(compile_calls) == 1 and compile_calls[0].startswith("nvcc -arch=sm_90 -o ")
    assert proc.returncode != 0
    assert report["smoke"]["ran"] is True and report["smoke"]["passed"] is False
    assert "nvcc could not compile SAXPY for sm_90" in report["smoke"]["error"]
    assert "cuda_verify smoke: SAXPY on the GPU failed" in proc.stdout


def test_old_driver_falls_back_to_xml_and_the_name_table(tmp_path):
    proc, report, calls = _verify(tmp_path, "k80-old-driver", "-e", "cuda_verify_smoke_test=false")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert report["driver"]["source"] == "xml"
    assert report["driver"]["gpus"][0]["compute_cap"] == "3.7"
    assert report["driver"]["cuda_version"] == "10.1"
    assert any(c.startswith("nvidia-smi -q -x") for c in calls)


def test_driver_unreachable(tmp_path):
    proc, report, _ = _verify(tmp_path, "driver-unreachable", "-e", "cuda_verify_smoke_test=false")
    assert proc.returncode != 0
    assert "couldn't communicate with the NVIDIA driver" in proc.stdout
    assert "modprobe nvidia" in proc.stdout
    assert report["gpu_present"] is False


@pytest.mark.parametrize(("min_gpus", "ok"), [(4, True), (5, False)])
def test_multi_gpu_count(tmp_path, min_gpus, ok):
    proc, report, _ = _verify(
        tmp_path, "v100x4-nvcc11", "-e", "cuda_verify_smoke_test=false",
        "-e", f"cuda_verify_min_gpus={min_gpus}", "-e", "cuda_verify_gpu_name_pattern=V100",
    )  # fmt: skip
    assert (proc.returncode == 0) is ok
    assert len(report["driver"]["gpus"]) == 4
    assert (report["problems"] == []) is ok


def test_report_only_mode_passes_with_problems(tmp_path):
    proc, report, _ = _verify(
        tmp_path, "k80-nvcc13", "-e", "cuda_verify_smoke_test=false", "-e", "cuda_verify_required=false"
    )
    assert proc.returncode == 0
    assert len(report["problems"]) == 2
    assert "(not required)" in proc.stdout


def test_disabled_role_does_nothing(tmp_path):
    proc, report, calls = _verify(tmp_path, "h100-nvcc13", "-e", "cuda_verify_enabled=false")
    assert proc.returncode == 0
    assert report is None and calls == []
    assert not (tmp_path / "facts.d").exists()


NOBODY = 65534


@pytest.mark.parametrize("plant", ["foreign-owner", "link", "open-mode", "foreign-parent", "sticky-parent"])
def test_a_work_folder_others_control_is_refused_before_anything_runs(tmp_path, plant):
    """Issue 22: root compiles and runs the SAXPY binary from the work folder, and
    skips the compile when the binary is there, so a folder another user owns, can
    write to or points elsewhere would let that user's binary run as root. In a sticky
    shared parent another user could make the folder between the role's check and its
    mkdir (issue 32 item 12), so such a parent is refused too."""
    work = tmp_path / "work"
    if plant == "foreign-owner":
        work.mkdir(mode=0o700)
        os.chown(work, NOBODY, NOBODY)
    elif plant == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        work.symlink_to(tmp_path / "elsewhere")
    elif plant == "open-mode":
        work.mkdir()
        work.chmod(0o777)
    elif plant == "foreign-parent":
        parent = tmp_path / "shared"
        parent.mkdir()
        os.chown(parent, NOBODY, NOBODY)
        work = parent / "work"
    else:  # issue 32 item 12: root's sticky /tmp-like folder, where anyone may create `work` first
        parent = tmp_path / "tmp"
        parent.mkdir()
        parent.chmod(0o1777)
        work = parent / "work"
    proc, _, calls = _verify(tmp_path, "h100-nvcc13", "-e", f"cuda_verify_work_dir={work}")
    assert proc.returncode != 0
    refusals = [line for line in proc.stdout.splitlines() if f"cuda_verify_work_dir={work}:" in line]
    assert refusals and "accepted: a folder that user owns with mode 0700" in refusals[0]
    assert not [c for c in calls if c.startswith("nvcc -arch")]
    assert not (work / "saxpy.cu").exists()


def test_the_work_folder_is_created_private(tmp_path):
    _, _, calls = _verify(tmp_path, "h100-nvcc13")
    assert [c for c in calls if c.startswith("nvcc -arch")]  # the smoke test got as far as compiling
    assert stat.S_IMODE((tmp_path / "work").stat().st_mode) == 0o700
