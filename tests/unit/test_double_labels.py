"""Numbers a test double produced say so: results.json, the summary line, `results`, the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocha_ansible import plot, results
from mocha_ansible.cli import main
from mocha_ansible.project import role_python

STAND_IN_LOG = """ * Mocha stand-in (TEST DOUBLE)
 * CUDA       disabled by default
26-Nov 10:00:00:INFO:root:TRAIN iter=000000 obj_val=2.30258500
26-Nov 10:00:03:INFO:root:TRAIN iter=000200 obj_val=2.16400000
26-Nov 10:00:03:INFO:root:## Performance on Validation Set after 200 iterations
26-Nov 10:00:03:INFO:root:  Accuracy (avg over 10000) = 80.0000%
"""
MOCHA_LOG = STAND_IN_LOG.replace(" * Mocha stand-in (TEST DOUBLE)\n", "")


def _parse(text: str) -> dict:
    parser = role_python("mocha_cifar", "filter_plugins/mocha_cifar.py")
    return dict(parser.mocha_cifar_parse_log(text, 2026, "cpu"))


def test_results_json_names_its_source() -> None:
    double, real = _parse(STAND_IN_LOG), _parse(MOCHA_LOG)
    assert double["source"] == "test-double" and "TEST DOUBLE" in double["source_note"]
    assert real["source"] == "mocha"


def test_the_summary_line_of_a_double_says_so_first() -> None:
    report = {**_parse(STAND_IN_LOG), "max_iter": 200, "julia": "0.5", "mocha": "0.2.0"}
    line = results.training_summary(report)
    assert line.startswith("TEST DOUBLE, not a training result: ")
    assert "final accuracy 80.0%" in line
    real = results.training_summary({**report, "source": "mocha"})
    assert "TEST DOUBLE" not in real and real.startswith("backend cpu")


def _run_with(root: Path, report: dict) -> results.RunSummary:
    run_dir = results.new_run_dir(root)
    results.write_record(run_dir, {"command": "provision", "status": "ok"})
    (run_dir / "hosts" / "i-1").mkdir(parents=True)
    (run_dir / "hosts" / "i-1" / "results.json").write_text(json.dumps(report))
    return results.list_runs(root)[-1]


def test_results_command_labels_double_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run_with(tmp_path, {**_parse(STAND_IN_LOG), "max_iter": 200})
    assert main(["--runs-dir", str(tmp_path), "results", "latest"]) == 0
    out = capsys.readouterr().out
    assert "TEST DOUBLE, not a training result" in out
    assert "objective (test-double)" in out


def test_the_plot_title_and_legend_label_double_numbers(tmp_path: Path) -> None:
    run = _run_with(tmp_path, {**_parse(STAND_IN_LOG), "max_iter": 200})
    report = results.host_reports(run.path)["i-1"]["results"]
    fig = plot.plot_runs([("run", report)], tmp_path / "p.png")
    assert fig._suptitle is not None and "TEST DOUBLE" in fig._suptitle.get_text()
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "run (test-double)"
    fig = plot.plot_runs([("run", {**report, "source": "mocha"})], tmp_path / "q.png")
    assert fig._suptitle is None
