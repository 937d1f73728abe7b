"""Issue 32, item 9: text a host or a tag wrote never reaches the operator's terminal raw.

A terminal acts on ESC sequences (an OSC 52 write to the clipboard, a CSI screen clear), on C1
controls (U+009B is CSI alone), on newlines that fake a line and on bidi controls that reorder one.
They are planted where the views read them: a host's results.json (`results`), an instance's tags
(`status`; EC2's XML answers cannot carry ESC, so tags get the other controls), a long step's poll
line and a failed task's message (the progress views, Rich's included), and resource names (the
teardown plan). `logs` is tested in test_logs_command.py. Each view must show the text escaped.
"""

from __future__ import annotations

import io
from pathlib import Path

import boto3
import pytest
from rich.console import Console

from mocha_ansible import aws, teardown_view
from mocha_ansible.cli import main
from mocha_ansible.errors import ExitCode
from mocha_ansible.progress import PlainProgress, RichProgress, StageResult
from tests.integration.test_taint import _provisioned, _tags, payloads, raw_controls

HOSTILE = {kind: payloads(Path("/"))[kind] for kind in ("escape", "control")}
# What a terminal would act on, beyond raw_controls: a planted newline starting a line of its own.
FAKE_LINE = "\n\tfake line"


def _shown_escaped(text: str, out: str) -> None:
    assert raw_controls(out) == [], raw_controls(out)
    assert FAKE_LINE not in out
    assert repr(text)[1:-1] in out  # still there, each control written as its escape


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("field", ["julia", "mocha", "backend", "snapshot_file"])
def test_results_shows_a_hosts_fields_escaped(tmp_path: Path, capfd, field, kind):
    hostile = HOSTILE[kind]
    report = {"backend": "cpu", "iterations": 200, "max_iter": 200, "julia": "0.5", "mocha": "0.2.0", field: hostile}
    _provisioned(tmp_path / "runs", report)

    assert main(["--runs-dir", str(tmp_path / "runs"), "results", "latest"]) == ExitCode.OK
    _shown_escaped(hostile, capfd.readouterr().out)


@pytest.mark.usefixtures("aws", "isolated_home")
def test_status_shows_an_instances_tags_escaped(monkeypatch, capfd):
    monkeypatch.setenv("LOGNAME", "alice")
    hostile = payloads(Path("/"), escape=False)["control"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.run_instances(
        ImageId="ami-785db401", MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(hostile)}],
    )  # fmt: skip

    assert main(["status", "--region", "us-east-1"]) == ExitCode.OK
    out = capfd.readouterr()
    _shown_escaped(hostile, out.out + out.err)


def test_the_teardown_plan_shows_aws_names_escaped(capsys):
    hostile = HOSTILE["escape"]
    before = [
        aws.Footprint(
            "us-east-1", security_groups=[{"id": "sg-1", "name": hostile}], key_pairs=[{"name": hostile}],
            launch_templates=[{"name": hostile}], images=[{"id": "ami-1", "name": hostile}],
        )
    ]  # fmt: skip
    teardown_view.print_doomed(before, [], amis=True)
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 4
    _shown_escaped(hostile, out)


def _events(text: str) -> list[dict]:
    """A long step's poll line (julia_build's build_progress.sh prints the build log's last line), then a
    failed task whose message is the host's stderr."""
    return [
        {"event": "playbook_on_task_start", "event_data": {"task": "Progress of make"}},
        {"event": "runner_retry", "event_data": {"host": "mocha-1", "res": {"stdout": f"running: last: {text}"}}},
        {
            "event": "runner_on_failed",
            "event_data": {"host": "mocha-1", "task": "make", "res": {"msg": "", "stderr": f"make: {text}"}},
        },
    ]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_the_plain_progress_view_shows_a_hosts_lines_escaped(kind):
    hostile = HOSTILE[kind].replace("\n", " ")  # the failure message is joined from stripped lines
    out = io.StringIO()
    view = PlainProgress(out)
    view.stage_started("julia")
    for event in _events(hostile):
        view.on_event(event)
    view.message(f"  mocha-1: Julia {HOSTILE[kind]}")  # provision's training summary line
    shown = out.getvalue()
    assert raw_controls(shown) == [] and FAKE_LINE not in shown
    assert repr(hostile)[1:-1] in shown


# Rich writes its own ESC sequences to a terminal (cursor, erase line); these are only a host's.
PLANTED = ("\x1b]52", "\x07", "\x1b[2J", "\x9b", "\u202e", "\x7f")


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_the_rich_progress_view_shows_a_hosts_lines_escaped(monkeypatch, kind):
    monkeypatch.setenv("NO_COLOR", "1")
    hostile = HOSTILE[kind].replace("\n", " ")
    view = RichProgress()
    terminal = io.StringIO()
    view.console = Console(file=terminal, force_terminal=True, width=400)
    view.stage_started("julia")
    for event in _events(hostile):
        view.on_event(event)  # the status line shows the poll's text; the failure is printed
    view.stage_finished(StageResult("julia", "failed", 1.0, failed_tasks=[{"host": "h", "task": "t", "msg": hostile}]))
    shown = terminal.getvalue()
    assert [p for p in PLANTED if p in shown] == []
    assert "\\x1b]52;c;" in shown if kind == "escape" else "\\x9b2J" in shown
