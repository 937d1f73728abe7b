"""Run directories: one per invocation, private (0700), rotated; and what the roles bring home."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mocha_ansible.project import xdg_state_dir

DEFAULT_KEEP = 20
RUN_RECORD = "run.json"


def runs_root(override: str | None = None) -> Path:
    """Where run directories live: --runs-dir, $MOCHA_ANSIBLE_RUNS_DIR, or the XDG state dir."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("MOCHA_ANSIBLE_RUNS_DIR")
    if env:
        return Path(env).expanduser()
    return xdg_state_dir() / "runs"


# A run directory is this tool's only by both its name and the marker it wrote, so
# rotation can never delete a folder that merely sits in the runs root (--runs-dir ~
# holds .ssh; --runs-dir . in a checkout holds .git).
RUN_NAME = re.compile(r"^\d{8}-\d{6}-\d{6}$")
RUN_MARKER = ".mocha-ansible-run"


def new_run_dir(root: Path, keep: int = DEFAULT_KEEP) -> Path:
    if not root.exists():
        # Private from the start; a root that exists already is the user's, mode and all.
        root.mkdir(parents=True, mode=0o700)
    while True:
        # Sortable to the microsecond, so rotation removes the oldest.
        run_dir = root / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        try:
            run_dir.mkdir(mode=0o700)
            break
        except FileExistsError:
            continue
    (run_dir / RUN_MARKER).write_text("made by mocha-ansible; rotated with the runs beside it\n", encoding="utf-8")
    rotate(root, keep)
    return run_dir


def is_run_dir(path: Path) -> bool:
    """A folder this tool made: its name pattern and its marker (run.json for older runs)."""
    if path.is_symlink() or not path.is_dir() or not RUN_NAME.match(path.name):
        return False
    return (path / RUN_MARKER).is_file() or (path / RUN_RECORD).is_file()


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if is_run_dir(p)) if root.is_dir() else []


def rotate(root: Path, keep: int) -> list[Path]:
    """Delete the oldest of this tool's run directories beyond `keep`; return what was removed."""
    runs = _run_dirs(root)
    doomed = runs[: max(0, len(runs) - keep)]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    path: Path
    record: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.record.get("status", "unknown"))


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    tmp = run_dir / (RUN_RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(run_dir / RUN_RECORD)


def list_runs(root: Path) -> list[RunSummary]:
    out = []
    for path in _run_dirs(root):
        record_file = path / RUN_RECORD
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        out.append(RunSummary(path.name, path, record))
    return out


def host_reports(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every JSON report the roles fetched, keyed by host, then by file stem."""
    reports: dict[str, dict[str, Any]] = {}
    hosts_dir = run_dir / "hosts"
    if not hosts_dir.is_dir():
        return reports
    for report in sorted(hosts_dir.glob("*/*.json")):
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        reports.setdefault(report.parent.name, {})[report.stem] = data
    return reports


def trained(run_dir: Path) -> bool:
    """Whether a host of the run brought training results home (mocha_cifar's results.json)."""
    return any("results" in files for files in host_reports(run_dir).values())


# mocha_cifar's results.json names where its numbers come from (the role's log parser).
DOUBLE_SOURCE = "test-double"
DOUBLE_LABEL = "TEST DOUBLE, not a training result"


def from_double(report: dict[str, Any]) -> bool:
    return report.get("source") == DOUBLE_SOURCE


def training_summary(report: dict[str, Any]) -> str:
    """One line from mocha_cifar's results.json; a stand-in's numbers say so first."""
    objective = report.get("objective") or []
    final_obj = objective[-1]["obj_val"] if objective else None
    parts = [
        f"backend {report.get('backend', '?')}",
        f"{report.get('iterations', '?')}/{report.get('max_iter', '?')} iterations",
        f"final accuracy {report['final_accuracy_pct']}%" if report.get("final_accuracy_pct") is not None else None,
        f"objective {final_obj}" if final_obj is not None else None,
        f"{report['seconds_per_200_iter']} s per 200 iterations" if report.get("seconds_per_200_iter") else None,
        f"Julia {report.get('julia', '?')}, Mocha {report.get('mocha', '?')}",
    ]
    line = "; ".join(p for p in parts if p)
    return f"{DOUBLE_LABEL}: {line}" if from_double(report) else line
