"""results --plot: a PNG of objective and validation accuracy, one series per run and host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocha_ansible import plot, results
from mocha_ansible.cli import main


def _run(root: Path, host: str, final_obj: float) -> results.RunSummary:
    run_dir = results.new_run_dir(root)
    results.write_record(run_dir, {"command": "provision", "status": "ok"})
    report = {
        "backend": "cpu", "iterations": 400, "max_iter": 400, "julia": "0.5", "mocha": "0.2.0",
        "objective": [{"iter": 0, "obj_val": 2.3}, {"iter": 200, "obj_val": 2.1}, {"iter": 400, "obj_val": final_obj}],
        "validation_accuracy": [{"iter": 0, "accuracy_pct": 10.0, "over": 10000},
                                {"iter": 400, "accuracy_pct": 31.5, "over": 10000}],
    }  # fmt: skip
    (run_dir / "hosts" / host).mkdir(parents=True)
    (run_dir / "hosts" / host / "results.json").write_text(json.dumps(report))
    return results.list_runs(root)[-1]


def test_one_run_gives_a_png_with_both_axes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path, "i-0abc", 2.04)
    assert main(["--runs-dir", str(tmp_path), "results", "latest", "--plot"]) == 0
    png = run.path / "training.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().out


def test_the_figure_holds_one_series_per_run_with_the_data(tmp_path: Path) -> None:
    first, second = _run(tmp_path, "i-1", 2.04), _run(tmp_path, "i-2", 1.8)
    series = [(r.run_id, results.host_reports(r.path)[h]["results"]) for r, h in ((first, "i-1"), (second, "i-2"))]
    fig = plot.plot_runs(series, tmp_path / "both.png")
    objective, accuracy = fig.axes
    assert (objective.get_xlabel(), objective.get_ylabel()) == ("iteration", "objective (loss)")
    assert (accuracy.get_xlabel(), accuracy.get_ylabel()) == ("iteration", "accuracy (%)")
    assert len(objective.get_lines()) == 2 and len(accuracy.get_lines()) == 2
    assert list(objective.get_lines()[1].get_ydata()) == [2.3, 2.1, 1.8]
    assert list(accuracy.get_lines()[0].get_xdata()) == [0, 400]
    assert [t.get_text() for t in objective.get_legend().get_texts()] == [first.run_id, second.run_id]


def test_the_terminal_view_has_a_sparkline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, "i-0abc", 2.04)
    assert main(["--runs-dir", str(tmp_path), "results", "latest"]) == 0
    out = capsys.readouterr().out
    assert "objective █▃▁ 2.300 -> 2.040" in out
    assert "backend cpu; 400/400 iterations" in out


def test_a_run_without_training_results_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = results.new_run_dir(tmp_path)
    results.write_record(run_dir, {"command": "provision", "status": "failed"})
    assert main(["--runs-dir", str(tmp_path), "results", "latest", "--plot"]) == 2
    assert "has no training results to plot" in capsys.readouterr().err
