"""Issue 18: bench.run records a benchmark as measured only when its run finished.

The 19:02 run's routes benchmark failed, yet bench/results/2026-11-26.json named it in
`measured_by` (the names were recorded before anything ran). No timings are checked here.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.run import measure

_EARLIER = {"date": "2026-11-26T19:02:19+0000"}
_NOW = {"date": "2026-11-26T22:00:00+0000"}


def _fail() -> None:
    raise SystemExit("mocha-ansible provision failed: no tag v0.6.4")


def test_a_failed_benchmark_is_not_recorded_as_measured() -> None:
    results: dict[str, Any] = {"measured_by": {"routes": _EARLIER, "wrapper": _EARLIER}}
    saved: list[dict[str, Any]] = []
    with pytest.raises(SystemExit):
        measure(("routes",), _fail, results, _NOW, lambda: saved.append(dict(results)))
    assert "routes" not in results["measured_by"]
    assert results["failed_by"]["routes"]["date"] == _NOW["date"]
    assert "v0.6.4" in results["failed_by"]["routes"]["error"]
    assert results["measured_by"]["wrapper"] == _EARLIER  # another benchmark's record stays
    assert saved, "the failure is written to the results file before the run stops"


def test_a_finished_benchmark_is_recorded_and_clears_an_earlier_failure() -> None:
    results: dict[str, Any] = {"failed_by": {"routes": _EARLIER}}
    ran: list[str] = []
    measure(("routes",), lambda: ran.append("routes"), results, _NOW, lambda: None)
    assert ran == ["routes"]
    assert results["measured_by"]["routes"] == _NOW
    assert "routes" not in results["failed_by"]
