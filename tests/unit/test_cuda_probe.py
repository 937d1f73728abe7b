"""The cuda_verify parsers and verdicts, on real H100 output and hand-made variants."""

from __future__ import annotations

import pytest
import yaml

from mocha_ansible.project import role_python
from tests.helpers import FIXTURES, GPU_PROFILES, ROOT

probe = role_python("cuda_verify", "module_utils/cuda_probe.py")
H100 = FIXTURES / "gpu" / "h100-nvcc13"
# As tasks/probe.yml builds it: cuda_verify's table plus the cuDNN rules from mocha_cifar's one table.
SUPPORT = probe.with_mocha_compat(
    yaml.safe_load((ROOT / "roles/cuda_verify/vars/cuda_support.yml").read_text())["cuda_verify_support"],
    yaml.safe_load((ROOT / "roles/mocha_cifar/vars/mocha_compat.yml").read_text())["mocha_cifar_compat"],
)


def _probe(gpus, *, driver_cuda="13.0", nvcc_release="13.0", present=True, error=None, cudnn=None):
    return {
        "driver": {
            "present": present,
            "error": error,
            "driver_version": "580.159.04",
            "cuda_version": driver_cuda,
            "gpus": gpus,
        },
        "nvcc": {
            "path": "/usr/local/cuda/bin/nvcc" if nvcc_release else None,
            "release": nvcc_release,
            "version": nvcc_release,
        },
        "cudnn": cudnn,
    }


def _gpu(name="NVIDIA H100 80GB HBM3", cap="9.0"):
    return {
        "index": 0,
        "name": name,
        "driver_version": "580.159.04",
        "memory_mib": 81559,
        "compute_cap": cap,
        "pci_bus_id": "x",
    }


def test_query_csv_real_h100_nounits():
    gpus = probe.parse_query_csv((H100 / "query-gpu-noheader-nounits.csv").read_text())
    assert gpus == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "driver_version": "580.159.04",
            "memory_mib": 81559,
            "compute_cap": "9.0",
            "pci_bus_id": "00000000:00:06.0",
        }
    ]


@pytest.mark.parametrize("fixture", ["query-gpu-noheader.csv", "query-gpu-header.csv"])
def test_query_csv_units_and_header_give_the_same_gpu(fixture):
    assert probe.parse_query_csv((H100 / fixture).read_text()) == probe.parse_query_csv(
        (H100 / "query-gpu-noheader-nounits.csv").read_text()
    )


def test_query_csv_multi_gpu():
    gpus = probe.parse_query_csv((GPU_PROFILES / "v100x4-nvcc11" / "query.csv").read_text())
    assert [g["index"] for g in gpus] == [0, 1, 2, 3]
    assert {g["compute_cap"] for g in gpus} == {"7.0"}
    assert gpus[3]["pci_bus_id"] == "00000000:00:1E.0"


def test_query_csv_rejects_garbage():
    with pytest.raises(ValueError, match="unexpected nvidia-smi query line"):
        probe.parse_query_csv("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")


def test_xml_real_h100():
    parsed = probe.parse_smi_xml((H100 / "nvidia-smi-q.xml").read_text())
    assert parsed["driver_version"] == "580.159.04"
    assert parsed["cuda_version"] == "13.0"
    assert len(parsed["gpus"]) == 1
    gpu = parsed["gpus"][0]
    assert gpu["name"] == "NVIDIA H100 80GB HBM3"
    assert gpu["memory_mib"] == 81559
    assert gpu["pci_bus_id"] == "00000000:00:06.0"
    assert gpu["compute_cap"] is None  # the XML does not carry it


def test_old_driver_xml_and_name_table_give_sm37():
    parsed = probe.parse_smi_xml((GPU_PROFILES / "k80-old-driver" / "smi-q.xml").read_text())
    assert parsed["driver_version"] == "418.226.00"
    cap = probe.compute_cap_from_name(parsed["gpus"][0]["name"], SUPPORT["name_compute_caps"])
    assert cap == "3.7"


def test_header_real_h100():
    assert probe.parse_smi_header((H100 / "nvidia-smi.txt").read_text()) == {
        "cuda_version": "13.0",
        "driver_version": "580.159.04",
    }


def test_header_of_failed_smi_is_empty():
    text = (GPU_PROFILES / "driver-unreachable" / "fail.txt").read_text()
    assert probe.DRIVER_UNREACHABLE in text
    assert probe.parse_smi_header(text) == {"cuda_version": None, "driver_version": None}


def test_nvcc_real_and_missing():
    assert probe.parse_nvcc_version((H100 / "nvcc-version.txt").read_text()) == {
        "release": "13.0",
        "version": "13.0.88",
    }
    assert probe.parse_nvcc_version("bash: nvcc: command not found") is None
    assert probe.parse_nvcc_version("") is None


def test_cudnn_header():
    text = "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 14\n#define CUDNN_PATCHLEVEL 0\n"
    assert probe.parse_cudnn_header(text) == "9.14.0"
    assert probe.parse_cudnn_header("/* no version here */") is None


def test_h100_with_cuda13_passes():
    assert probe.evaluate(_probe([_gpu()]), {"min_gpus": 1}, SUPPORT) == []


def test_k80_with_cuda13_fails_on_compute_capability():
    problems = probe.evaluate(_probe([_gpu("Tesla K80", "3.7")], driver_cuda="11.4"), {"min_gpus": 1}, SUPPORT)
    by_check = {p["check"]: p for p in problems}
    assert set(by_check) == {"compute_capability", "driver_vs_toolkit"}
    assert "sm_37, which CUDA 13.0 no longer supports" in by_check["compute_capability"]["message"]
    assert "K80" in by_check["compute_capability"]["fix"] and "CUDA 11" in by_check["compute_capability"]["fix"]
    assert "driver supports CUDA 11.4 but nvcc is 13.0" in by_check["driver_vs_toolkit"]["message"]


def test_cuda13_drops_volta_but_cuda12_keeps_it():
    v100 = [_gpu("Tesla V100", "7.0")]
    assert [p["check"] for p in probe.evaluate(_probe(v100), {}, SUPPORT)] == ["compute_capability"]
    assert probe.evaluate(_probe(v100, driver_cuda="12.2", nvcc_release="12.2"), {}, SUPPORT) == []


def test_missing_driver_and_nvcc():
    problems = probe.evaluate(_probe([], present=False, nvcc_release=None), {"min_gpus": 1}, SUPPORT)
    assert [p["check"] for p in problems] == ["driver", "nvcc"]
    assert "nvidia-smi was not found" in problems[0]["message"]
    assert "install the CUDA toolkit" in problems[1]["fix"]


def test_driver_unreachable_message_names_the_driver():
    problems = probe.evaluate(_probe([], error="NVIDIA-SMI has failed because it couldn't communicate"), {}, SUPPORT)
    assert problems[0]["check"] == "driver"
    assert "couldn't communicate" in problems[0]["message"]
    assert "modprobe nvidia" in problems[0]["fix"]


def test_gpu_count_name_driver_and_version_constraints():
    options = {
        "min_gpus": 2,
        "gpu_name_pattern": "K80",
        "min_driver_version": "590",
        "nvcc_exact_version": "12.4",
        "nvcc_min_version": "13.1",
    }
    checks = [p["check"] for p in probe.evaluate(_probe([_gpu()]), options, SUPPORT)]
    assert checks == ["gpu_count", "gpu_name", "driver_version", "nvcc_version", "nvcc_version"]


def test_cudnn_warning_for_mocha():
    problems = probe.evaluate(_probe([_gpu()], cudnn="9.14.0"), {"mocha_version": "v0.2.0"}, SUPPORT)
    assert [p["check"] for p in problems] == ["cudnn"]
    assert "cuDNN v4" in problems[0]["message"]
    assert probe.evaluate(_probe([_gpu()], cudnn="4.0.7"), {"mocha_version": "v0.2.0"}, SUPPORT) == []
    assert probe.evaluate(_probe([_gpu()], cudnn="5.1.10"), {"mocha_version": "v0.3.1"}, SUPPORT) == []


def test_summary_says_no_gpu():
    text = probe.summary(
        _probe([], present=False, nvcc_release=None),
        [{"check": "driver"}],
        {"ran": False, "reason": "no GPU was found"},
    )
    assert text.startswith("no GPU;")
    assert "smoke test not run: no GPU was found" in text
    assert "1 problem(s)" in text


def test_every_toolkit_in_the_table_is_reachable():
    for release in ("8.0", "9.2", "10.2", "11.0", "11.4", "11.8", "12.0", "12.4", "12.8", "13.0", "13.1"):
        assert probe._toolkit_entry(release, SUPPORT["toolkits"]) is not None, release


def test_the_cudnn_rules_come_from_mocha_cifars_one_table():
    """Issue 15: cuda_verify keeps no copy of the cuDNN <-> Mocha table; a change in
    mocha_cifar's row changes cuda_verify's verdict."""
    raw = yaml.safe_load((ROOT / "roles/cuda_verify/vars/cuda_support.yml").read_text())["cuda_verify_support"]
    assert "cudnn_for_mocha" not in raw
    table = yaml.safe_load((ROOT / "roles/mocha_cifar/vars/mocha_compat.yml").read_text())["mocha_cifar_compat"]
    six = probe.with_mocha_compat(raw, {**table, "0.6": {**table["0.6"], "cudnn_below": 7}})
    assert probe.evaluate(_probe([_gpu()], cudnn="6.0.21"), {"mocha_version": "v0.3.1"}, six) == []
    flagged = probe.evaluate(_probe([_gpu()], cudnn="6.0.21"), {"mocha_version": "v0.3.0"}, SUPPORT)
    assert [p["check"] for p in flagged] == ["cudnn"] and "v5 (5.1)" in flagged[0]["message"]
