"""`results RUN` names the trained model that mocha_cifar fetched beside results.json (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

from mocha_ansible import results, results_view


def test_show_run_names_the_fetched_model(tmp_path: Path, capsys):
    run_dir = results.new_run_dir(tmp_path)
    host = run_dir / "hosts" / "mocha-1"
    host.mkdir(parents=True)
    report = {
        "backend": "cpu", "iterations": 1000, "max_iter": 1000, "objective": [],
        "snapshot": "/var/lib/mocha/x/snapshots/snapshot-001000.jld", "snapshot_file": "snapshot-001000.jld",
        "snapshot_iteration": 1000,
    }  # fmt: skip
    (host / "results.json").write_text(json.dumps(report))
    [run] = results.list_runs(tmp_path)

    results_view.show_run(run, json_mode=False)
    assert f"    model: {host / 'snapshot-001000.jld'} (iteration 1000)\n" in capsys.readouterr().out


def _run(root: Path, command: str, trained: bool) -> str:
    run_dir = results.new_run_dir(root)
    (run_dir / "run.json").write_text(json.dumps({"command": command, "status": "ok"}))
    if trained:
        host = run_dir / "hosts" / "mocha-1"
        host.mkdir(parents=True)
        (host / "results.json").write_text(json.dumps({"backend": "cpu", "iterations": 400, "objective": []}))
    return run_dir.name


def test_latest_is_the_newest_run_that_trained_and_the_list_says_which_did(tmp_path: Path, capsys):
    """issue 34 item 6: after a teardown, `results latest` showed the teardown's run ("unknown")."""
    trained = _run(tmp_path, "provision", trained=True)
    torn = _run(tmp_path, "teardown", trained=False)
    runs = results.list_runs(tmp_path)
    assert [r.run_id for r in results_view.choose(runs, ["latest"], tmp_path)] == [trained]
    assert [r.run_id for r in results_view.choose(runs, [torn], tmp_path)] == [torn]  # by id: any run
    results_view.print_runs(runs, tmp_path, json_mode=False)
    listing = capsys.readouterr().out.splitlines()
    assert "trained" in listing[0] and "no training results" in listing[1], listing
    results_view.print_runs(runs, tmp_path, json_mode=True)
    shown = json.loads(capsys.readouterr().out)["runs"]
    assert [r["trained"] for r in shown] == [True, False]


def test_latest_with_no_trained_run_is_the_newest_run(tmp_path: Path):
    _run(tmp_path, "provision", trained=False)  # --stages verify, say
    newest = _run(tmp_path, "teardown", trained=False)
    assert [r.run_id for r in results_view.choose(results.list_runs(tmp_path), ["latest"], tmp_path)] == [newest]
