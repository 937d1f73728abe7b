"""What `results` shows: the list of runs, one run's stages and training numbers, or a plot of several."""

from __future__ import annotations

import json
from pathlib import Path

from mocha_ansible import plot, results
from mocha_ansible.errors import ConfigError
from mocha_ansible.terminal_text import printable


def _say(text: str) -> None:
    """One line of the view: run records and host reports hold text hosts wrote, shown escaped."""
    print(printable(text))


def print_runs(runs: list[results.RunSummary], root: Path, json_mode: bool) -> None:
    if json_mode:
        listing = [
            {
                "run_id": r.run_id,
                "status": r.status,
                "command": r.record.get("command"),
                "trained": results.trained(r.path),
            }
            for r in runs
        ]
        print(json.dumps({"type": "runs", "root": str(root), "runs": listing}))
    elif not runs:
        print(f"No runs under {root}.")
    else:
        for r in runs:
            what = "trained" if results.trained(r.path) else "no training results"
            _say(f"{r.run_id}  {r.status:<11} {r.record.get('command', '-'):<10} {what}")


def choose(
    runs: list[results.RunSummary], wanted: list[str], root: Path, *, latest_trained: bool = True
) -> list[results.RunSummary]:
    """The runs named by id, in the order asked; an unknown one is bad input. `latest` is the
    newest run that brought training results home (a teardown's run has none), or the newest
    run when none did or `latest_trained` is off."""
    # Reading every run's reports only when `latest` is asked for.
    trained = [r for r in runs if results.trained(r.path)] if latest_trained and "latest" in wanted else []
    newest = (trained or runs)[-1:]
    chosen = []
    for name in wanted:
        match = newest if name == "latest" else [r for r in runs if r.run_id == name]
        if not match:
            known = ", ".join(r.run_id for r in runs[-5:]) or "none"
            raise ConfigError(f"results: no run {name!r} under {root}; accepted: latest or a run id ({known})")
        chosen.append(match[0])
    return chosen


def show_run(run: results.RunSummary, json_mode: bool) -> None:
    reports = results.host_reports(run.path)
    if json_mode:
        print(json.dumps({"type": "run", "run_id": run.run_id, "record": run.record, "hosts": reports}, default=str))
        return
    _say(f"run {run.run_id}: {run.status}")
    for stage in run.record.get("stage_results", []):
        _say(f"  {stage['stage']:<10} {stage['status']:<11} {stage['seconds']:7.1f}s")
    for host, files in reports.items():
        _say(f"  {host}: {', '.join(sorted(files))}")
        if "results" in files:
            _say(f"    {results.training_summary(files['results'])}")
            if files["results"].get("snapshot_file"):
                # mocha_cifar fetched the snapshot taken at max_iter beside results.json
                # (tasks/results.yml); runs before issue 30 item 4 name no iteration.
                at = files["results"].get("snapshot_iteration")
                _say(
                    f"    model: {run.path / 'hosts' / host / files['results']['snapshot_file']}"
                    + (f" (iteration {at})" if at is not None else "")
                )
            objective = plot.curves(files["results"])["objective"][1]
            if objective:
                mark = f" ({results.DOUBLE_SOURCE})" if results.from_double(files["results"]) else ""
                _say(f"    objective{mark} {plot.sparkline(objective)} {objective[0]:.3f} -> {objective[-1]:.3f}")


def plot_runs(chosen: list[results.RunSummary], out: str | None, json_mode: bool) -> None:
    series = [
        (f"{run.run_id} {host}" if len(chosen) > 1 else host, files["results"])
        for run in chosen
        for host, files in results.host_reports(run.path).items()
        if "results" in files
    ]
    if not series:
        raise ConfigError(
            f"results: run {chosen[0].run_id} has no training results to plot; accepted: a run whose mocha stage ran"
        )
    path = Path(out).expanduser() if out else chosen[0].path / "training.png"
    plot.plot_runs(series, path)
    print(json.dumps({"type": "plot", "path": str(path), "series": len(series)}) if json_mode else f"Wrote {path}")
