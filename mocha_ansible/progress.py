"""Render runner events: rich on a TTY, plain lines otherwise, JSON lines with --json."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table

from mocha_ansible.runner import HostRecap
from mocha_ansible.terminal_text import printable

_RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_item_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass
class StageResult:
    stage: str
    status: str  # "ok", "failed", "skipped" or "interrupted"
    seconds: float
    changed: int = 0
    failed_tasks: list[dict[str, str]] = field(default_factory=list)


class Progress(Protocol):
    def stage_started(self, stage: str) -> None: ...
    def on_event(self, event: dict[str, Any]) -> None: ...
    def stage_finished(self, result: StageResult) -> None: ...
    def message(self, text: str, **data: Any) -> None: ...
    def finished(self, recap: dict[str, HostRecap], run_dir: str) -> None: ...


def _outcome(event: dict[str, Any]) -> tuple[str, str, str] | None:
    kind = _RESULT_EVENTS.get(str(event.get("event")))
    if kind is None:
        return None
    data = event.get("event_data", {})
    if kind == "ok" and (data.get("res") or {}).get("changed"):
        kind = "changed"
    if kind == "failed" and data.get("ignore_errors"):
        kind = "ignored"
    if event.get("event") == "runner_on_failed" and (data.get("res") or {}).get("results"):
        return None  # a loop's summary; its failed items were shown one by one
    return kind, str(data.get("host", "")), str(data.get("task", ""))


def progress_line(event: dict[str, Any]) -> tuple[str, str] | None:
    """(host, text) of a long step's poll: julia_build's build_progress.sh and mocha_cifar's job_progress.sh
    print one "running: ..." line per retry of their until-loop (ansible-runner's runner_retry event)."""
    if event.get("event") != "runner_retry":
        return None
    data = event.get("event_data", {})
    stdout = str((data.get("res") or {}).get("stdout") or "")
    if not stdout.startswith("running: "):
        return None
    return str(data.get("host", "")), stdout.removeprefix("running: ").strip()


def _failure_message(event: dict[str, Any]) -> str:
    res = event.get("event_data", {}).get("res") or {}
    lines = [ln.strip() for ln in str(res.get("msg") or res.get("stderr") or "").splitlines() if ln.strip()]
    text = " ".join(lines)
    return (text[:297] + "...") if len(text) > 300 else (text or "failed")


class PlainProgress:
    """One line per stage, task failure and change, and a long step's progress at most once a minute per host
    (a build polls every 5 s): for logs and pipes."""

    PROGRESS_EVERY_S = 60.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self.out = stream or sys.stdout
        self._stage = ""
        self._started = time.monotonic()
        self._progress_shown: dict[str, float] = {}

    def _print(self, text: str) -> None:
        # A line may carry a host's words (a long step's progress, a failure's message, a training
        # summary) or a tag's: shown escaped, never acted on by the terminal.
        self.out.write(printable(text) + "\n")
        self.out.flush()

    def stage_started(self, stage: str) -> None:
        self._stage, self._started = stage, time.monotonic()
        self._print(f"[{stage}] started")

    def on_event(self, event: dict[str, Any]) -> None:
        progress = progress_line(event)
        if progress is not None:
            self._show_progress(*progress)
        outcome = _outcome(event)
        if outcome is None:
            return
        kind, host, task = outcome
        elapsed = time.monotonic() - self._started
        if kind in ("changed", "failed", "unreachable"):
            line = f"[{self._stage} {elapsed:6.1f}s] {kind:<11} {host}: {task}"
            if kind != "changed":
                line += f" -- {_failure_message(event)}"
            self._print(line)

    def _show_progress(self, host: str, text: str) -> None:
        now = time.monotonic()
        if now - self._progress_shown.get(host, -self.PROGRESS_EVERY_S) >= self.PROGRESS_EVERY_S:
            self._progress_shown[host] = now
            self._print(f"[{self._stage} {now - self._started:6.1f}s] progress    {host}: {text}")

    def stage_finished(self, result: StageResult) -> None:
        self._print(f"[{result.stage}] {result.status} in {result.seconds:.1f}s, changed={result.changed}")

    def message(self, text: str, **data: Any) -> None:
        self._print(text)

    def finished(self, recap: dict[str, HostRecap], run_dir: str) -> None:
        self._print("PLAY RECAP")
        for host, r in sorted(recap.items()):
            self._print(
                f"  {host:<24} ok={r.ok} changed={r.changed} failed={r.failures} "
                f"unreachable={r.dark} skipped={r.skipped}"
            )
        self._print(f"run directory: {run_dir}")
        self._print(f"log: {run_dir}/ansible/site/stdout")


class RichProgress(PlainProgress):
    """A live status line with stage, task, host and elapsed time."""

    def __init__(self) -> None:
        super().__init__()
        self.console = Console(no_color=bool(os.environ.get("NO_COLOR")))
        self._status: Status | None = None
        self._task = ""

    def _print(self, text: str) -> None:
        # markup=False keeps Rich from reading [..] as style; it still passes ESC through, so escape first.
        self.console.print(printable(text), highlight=False, markup=False)

    def stage_started(self, stage: str) -> None:
        self._stage, self._started = stage, time.monotonic()
        self._status = self.console.status(f"{stage}: starting")
        self._status.start()

    def on_event(self, event: dict[str, Any]) -> None:
        data = event.get("event_data", {})
        if event.get("event") == "playbook_on_task_start":
            self._task = str(data.get("task", ""))
        elif event.get("event") == "runner_on_start":
            self._task = f"{data.get('task', '')} @ {data.get('host', '')}"
        progress = progress_line(event)
        if progress is not None:
            self._task = f"{progress[1]} @ {progress[0]}"
        if self._status is not None:
            elapsed = time.monotonic() - self._started
            # The status line is console markup, and the task may be a host's last log line.
            self._status.update(escape(printable(f"{self._stage} [{elapsed:5.0f}s] {self._task}")))
        if progress is None:
            super().on_event(event)

    def stage_finished(self, result: StageResult) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        self._print(f"{result.stage:<10} {result.status:<11} {result.seconds:7.1f}s  changed={result.changed}")
        for failure in result.failed_tasks:
            self._print(f"  failed on {failure['host']}: {failure['task']}: {failure['msg']}")

    def finished(self, recap: dict[str, HostRecap], run_dir: str) -> None:
        table = Table(title="Recap", show_edge=False)
        for col in ("host", "ok", "changed", "failed", "unreachable", "skipped"):
            table.add_column(col)
        for host, r in sorted(recap.items()):
            table.add_row(
                escape(printable(host)), str(r.ok), str(r.changed), str(r.failures), str(r.dark), str(r.skipped)
            )
        self.console.print(table)
        self._print(f"run directory: {run_dir}")
        self._print(f"log: {run_dir}/ansible/site/stdout")


class JsonProgress:
    """JSON lines on stdout, one object per stage transition and per host result."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.out = stream or sys.stdout
        self._stage = ""

    def _emit(self, **data: Any) -> None:
        self.out.write(json.dumps(data, default=str) + "\n")
        self.out.flush()

    def stage_started(self, stage: str) -> None:
        self._stage = stage
        self._emit(type="stage_started", stage=stage)

    def on_event(self, event: dict[str, Any]) -> None:
        progress = progress_line(event)
        if progress is not None:
            self._emit(type="progress", stage=self._stage, host=progress[0], text=progress[1])
        outcome = _outcome(event)
        if outcome is not None:
            kind, host, task = outcome
            self._emit(type="task", stage=self._stage, result=kind, host=host, task=task)

    def stage_finished(self, result: StageResult) -> None:
        self._emit(type="stage_finished", **{**vars(result), "seconds": round(result.seconds, 2)})

    def message(self, text: str, **data: Any) -> None:
        self._emit(type="message", text=text, **data)

    def finished(self, recap: dict[str, HostRecap], run_dir: str) -> None:
        self._emit(type="recap", hosts={h: vars(r) for h, r in recap.items()}, run_dir=run_dir)


class QuietProgress(PlainProgress):
    """-q: failures and the closing lines only; no stage, change or progress lines."""

    _closing = False

    def _print(self, text: str) -> None:
        if self._closing or " failed" in text or " unreachable" in text:
            super()._print(text)

    def finished(self, recap: dict[str, HostRecap], run_dir: str) -> None:
        self._closing = True
        super().finished(recap, run_dir)


def make_progress(json_mode: bool, quiet: bool = False) -> Progress:
    if json_mode:
        return JsonProgress()
    if quiet:
        return QuietProgress()
    if sys.stdout.isatty():
        return RichProgress()
    return PlainProgress()


class Timeline:
    """The stages a command ran, for the display, the run record and the closing summary."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.stages: list[StageResult] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        self.progress.stage_started(name)
        started = time.monotonic()
        outcome: dict[str, Any] = {"status": "ok", "changed": 0}
        try:
            yield outcome
        except BaseException:
            outcome["status"] = "failed"
            raise
        finally:
            result = StageResult(name, outcome["status"], time.monotonic() - started, outcome["changed"])
            self.stages.append(result)
            self.progress.stage_finished(result)

    def summary(self) -> list[str]:
        """Each stage's time and changes, then the total and when it finished."""
        lines = ["Stage timings:"]
        lines += [f"  {st.stage:<10} {st.status:<11} {st.seconds:7.1f}s  changed={st.changed}" for st in self.stages]
        total = sum(st.seconds for st in self.stages)
        finished = datetime.now(UTC).isoformat(timespec="seconds")
        lines.append(f"  {'total':<10} {'':<11} {total:7.1f}s  (finished {finished})")
        return lines
