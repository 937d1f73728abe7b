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
