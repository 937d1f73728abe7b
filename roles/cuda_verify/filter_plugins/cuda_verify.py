"""Filters over the probe: verdicts, smoke-test parsing and the summary.

The logic lives in ../module_utils/cuda_probe.py, shared with the module and pytest.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "cuda_verify_cuda_probe", Path(__file__).resolve().parent.parent / "module_utils" / "cuda_probe.py"
)
assert _spec is not None and _spec.loader is not None
cuda_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cuda_probe)


def cuda_verify_problems(probe, options, support):
    return cuda_probe.evaluate(probe, options, support)


def cuda_verify_with_mocha(support, mocha_compat):
    return cuda_probe.with_mocha_compat(support, mocha_compat)


def cuda_verify_smoke(stdout):
    """The smoke program prints one JSON line; anything else is a failed run."""
    for raw in reversed((stdout or "").splitlines()):
        line = raw.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    return {"ran": True, "passed": False, "error": "no result line in the smoke test's output"}


def cuda_verify_summary(probe, problems, smoke):
    return cuda_probe.summary(probe, problems, smoke)


def cuda_verify_arch(compute_cap):
    return f"sm_{cuda_probe.sm_number(compute_cap)}"


class FilterModule:
    def filters(self):
        return {
            "cuda_verify_problems": cuda_verify_problems,
            "cuda_verify_smoke": cuda_verify_smoke,
            "cuda_verify_summary": cuda_verify_summary,
            "cuda_verify_arch": cuda_verify_arch,
            "cuda_verify_with_mocha": cuda_verify_with_mocha,
        }
