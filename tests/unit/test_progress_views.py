"""The progress views (issue 23): a long step's poll line shows in each mode, the plain mode at most once a
minute per host, and the rich mode names the log file as the plain mode does."""

from __future__ import annotations

import io
import json

from mocha_ansible.progress import JsonProgress, PlainProgress, QuietProgress, RichProgress, StageResult, progress_line
from mocha_ansible.runner import HostRecap


def _retry(stdout: str, host: str = "mocha-1") -> dict:
    return {
        "event": "runner_retry",
        "event_data": {"host": host, "task": "Progress of train", "res": {"stdout": stdout}},
    }


def test_only_a_running_poll_line_is_progress():
    assert progress_line(_retry("running: iteration 5/10")) == ("mocha-1", "iteration 5/10")
    assert progress_line(_retry("finished: iteration 10/10")) is None
    assert progress_line({"event": "runner_on_ok", "event_data": {"res": {"stdout": "running: x"}}}) is None


def test_plain_shows_a_hosts_progress_once_per_interval():
    out = io.StringIO()
    view = PlainProgress(out)
    view.stage_started("mocha")
    view.on_event(_retry("running: iteration 200/1000, objective 2.25"))
    view.on_event(_retry("running: iteration 201/1000, objective 2.2"))  # within the minute: not repeated
    view.on_event(_retry("running: make: 10 log lines", host="mocha-2"))  # another host: shown
    lines = out.getvalue().splitlines()[1:]
    assert len(lines) == 2
    assert lines[0].endswith("progress    mocha-1: iteration 200/1000, objective 2.25")
    assert lines[1].endswith("progress    mocha-2: make: 10 log lines")


def test_json_emits_every_progress_line():
    out = io.StringIO()
    view = JsonProgress(out)
    view.stage_started("julia")
    view.on_event(_retry("running: make: 10 log lines"))
    progress = json.loads(out.getvalue().splitlines()[-1])
    assert progress == {"type": "progress", "stage": "julia", "host": "mocha-1", "text": "make: 10 log lines"}


def test_quiet_shows_failures_and_the_closing_lines_only():
    out = io.StringIO()
    view = QuietProgress(out)
    view.stage_started("mocha")
    view.on_event(_retry("running: iteration 200/1000"))
    view.stage_finished(StageResult("mocha", "ok", 1.0))
    view.stage_finished(StageResult("after", "failed", 1.0))
    view.finished({"mocha-1": HostRecap()}, "/runs/r1")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[after] failed in 1.0s, changed=0"
    assert lines[1:3] == ["PLAY RECAP", "  mocha-1                  ok=0 changed=0 failed=0 unreachable=0 skipped=0"]
    assert lines[-1] == "log: /runs/r1/ansible/site/stdout"


def test_rich_mode_prints_the_log_path(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    RichProgress().finished({"mocha-1": HostRecap()}, "/runs/r1")
    out = capsys.readouterr().out
    assert "run directory: /runs/r1" in out and "log: /runs/r1/ansible/site/stdout" in out
