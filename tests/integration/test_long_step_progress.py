"""Live progress of long steps (issue 23): while mocha_cifar's async job runs, each poll prints one line read
from the job's log (iteration, objective, elapsed, time left), and the CLI's progress views show it.

The "training" here is a shell stand-in that writes two lines of Mocha's TRAIN format and sleeps; the poll
task and its script are the role's own (roles/mocha_cifar/tasks/run.yml, files/job_progress.sh), and so is
julia_build's build_progress.sh, run directly."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from mocha_ansible.progress import JsonProgress, PlainProgress
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.helpers import ROOT

STAND_IN = 'echo "TRAIN iter=000100 obj_val=2.5"; echo "TRAIN iter=000200 obj_val=2.25"; sleep 8; echo done'


def test_training_polls_report_iteration_and_objective(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANSIBLE_ASYNC_DIR", str(tmp_path / "async"))
    extravars = {
        "mocha_tasks": "run.yml", "mocha_cifar_home": str(home), "mocha_cifar_runner": [],
        "mocha_cifar_job": "train", "mocha_cifar_timeout": 120, "mocha_cifar_max_iter": 1000,
        "mocha_cifar_chdir": str(home), "mocha_cifar_argv": ["sh", "-c", STAND_IN],
        "mocha_cifar_cuda_on": False, "mocha_cifar_omp_threads": 1,
    }  # fmt: skip
    events: list[dict] = []
    job = PlaybookJob(ROOT / "tests/integration/playbooks/mocha_tasks.yml", "progress", extravars, needs_aws=False)
    result = run_playbook(job, tmp_path / "artifacts", on_event=events.append)
    assert result.rc == 0, result.failed_tasks

    text, lines = io.StringIO(), io.StringIO()
    plain, as_json = PlainProgress(text), JsonProgress(lines)
    for event in events:
        plain.on_event(event)
        as_json.on_event(event)
    shown = text.getvalue()
    assert "progress    localhost: iteration 200/1000, objective 2.25, " in shown and "s left" in shown
    progress = [json.loads(line) for line in lines.getvalue().splitlines() if '"progress"' in line]
    assert progress and progress[0]["host"] == "localhost" and progress[0]["text"].startswith("iteration 200/1000")


def test_the_build_polls_report_log_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """julia_build's make step against a Makefile stand-in that prints two lines and sleeps.

    The sleep outlasts the poll's 5 s delay with room for a loaded machine: with 8 s, a
    first poll that came late under load found make finished and showed no progress line.
    """
    cache, src = tmp_path / "cache", tmp_path / "cache" / "build-v0.6.4"
    src.mkdir(parents=True)
    (src / "Makefile").write_text(
        "all:\n\t@echo '    CC src/gf.o'; echo '    CC src/jltypes.o'; sleep 20\n"
        "install:\n\tmkdir -p $(DESTDIR)$(prefix)/bin && touch $(DESTDIR)$(prefix)/bin/julia\n"
    )
    monkeypatch.setenv("ANSIBLE_ASYNC_DIR", str(tmp_path / "async"))
    extravars = {
        "julia_build_cache_dir": str(cache), "julia_build_tag": "v0.6.4", "julia_build_method": "source",
        "julia_build_user": "root", "julia_build_effective_jobs": 1, "julia_build_make_user": {},
        "julia_build_timeout": 120, "julia_build_prefix": str(tmp_path / "opt"),
    }  # fmt: skip
    events: list[dict] = []
    job = PlaybookJob(ROOT / "tests/integration/playbooks/julia_make.yml", "make", extravars, needs_aws=False)
    result = run_playbook(job, tmp_path / "artifacts", on_event=events.append)
    assert result.rc == 0, result.failed_tasks

    out = io.StringIO()
    view = PlainProgress(out)
    for event in events:
        view.on_event(event)
    assert "progress    localhost: make: 2 log lines, " in out.getvalue()
    assert "last:     CC src/jltypes.o" in out.getvalue()
    assert (src / ".mocha-ansible-built").exists()


def test_build_progress_counts_log_lines_and_says_when_finished(tmp_path: Path):
    script = ROOT / "roles/julia_build/files/build_progress.sh"
    results, log = tmp_path / "job", tmp_path / "build.log"
    results.write_text('{"started": true, "finished": false, "ansible_job_id": "1"}')
    log.write_text("    CC src/jltypes.o\n    CC src/gf.o\n    LINK usr/lib/libjulia.so\n")

    running = subprocess.run(["sh", str(script), str(results), str(log)], capture_output=True, text=True, check=True)
    assert running.stdout.startswith("running: make: 3 log lines, ")
    assert running.stdout.rstrip().endswith("last:     LINK usr/lib/libjulia.so")

    results.write_text('{"rc": 0, "cmd": "make"}')  # async_wrapper's final record: the module's result
    done = subprocess.run(["sh", str(script), str(results), str(log)], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("finished: make: 3 log lines")
