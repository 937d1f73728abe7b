"""What cuda_verify left on a GPU-less host in report-only mode."""

import json


def _fact(host):
    return json.loads(host.file("/etc/ansible/facts.d/cuda.fact").content_string)


def test_fact_says_no_gpu(host):
    fact = _fact(host)
    assert fact["gpu_present"] is False
    assert fact["summary"].startswith("no GPU;")
    assert fact["smoke"] == {"ran": False, "reason": "no GPU was found"}


def test_fact_lists_the_driver_and_toolkit_problems_with_fixes(host):
    problems = {p["check"]: p for p in _fact(host)["problems"]}
    assert set(problems) == {"driver", "nvcc"}
    assert "nvidia-smi was not found" in problems["driver"]["message"]
    assert problems["nvcc"]["fix"].startswith("install the CUDA toolkit")


def test_required_mode_wrote_its_own_fact(host):
    assert host.file("/tmp/required-mode-facts/cuda.fact").exists


def test_nothing_was_compiled(host):
    assert not host.file("/var/lib/mocha-ansible/cuda_verify").exists
