"""scripts/test's closing summary of a failed molecule scenario.

CI keeps only the last lines of the output, and molecule's log is printed far above them.
The summary must name the task that failed, or the tasks that broke idempotence, and
must not blame a failure that a `rescue` recovered earlier in the same log.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

LOGS = ROOT / "tests" / "fixtures" / "molecule_logs"


def _summary(log: Path) -> str:
    argv = [str(ROOT / "scripts" / "test"), "_molecule_failure_summary", str(log)]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def test_a_failed_verify_is_named_with_its_task_and_message() -> None:
    out = _summary(LOGS / "verify_failed.out")
    assert "TASK [A failing assert with a long message" in out
    assert '"msg": "the verify failed: this is a long message' in out
    assert "verify: Executed: Failed" in out
    assert "\x1b[" not in out and "│" not in out  # plain text, as a CI record shows it
    assert "rescued" not in out


def test_an_idempotence_failure_names_the_changed_task_not_the_rescued_failure() -> None:
    out = _summary(LOGS / "idempotence_failed.out")
    assert "Idempotence test failed" in out
    assert "=> Changes every time" in out
    assert "expected and rescued" not in out  # recovered by rescue: not the cause
    assert out.count("=> Changes every time") == 1


def test_a_passing_log_gives_no_failure_block(tmp_path: Path) -> None:
    log = tmp_path / "ok.out"
    text = (LOGS / "verify_failed.out").read_text(encoding="utf-8")
    log.write_text(text.split("PLAY [Verify]")[0], encoding="utf-8")  # converge and idempotence only
    assert _summary(log).strip() == ""


def test_a_failed_verify_stays_named_after_cleanup_succeeds() -> None:
    """side_effect's rescued failures come first, cleanup's clean recap after: neither hides it."""
    out = _summary(LOGS / "julia_container_verify_failed.out")
    assert out.startswith("TASK [The first converge started containers, the second (idempotence) none]")
    assert '"assertion": "verify_starts.results[0].stdout_lines | length >= 3"' in out
    assert "julia_build: make" not in out  # side_effect's expected, rescued build failure
    assert "julia_container ➜ verify: Executed: Failed" in out


# Hand-written logs in ansible-playbook's own layout (molecule's box prefix and colours
# are what the recorded logs above add), one per shape the recorded ones lack.
def _play(tasks: str, recap: str) -> str:
    return f"PLAY [Converge] ****\n\n{tasks}\nPLAY RECAP ****\n{recap}\n"


FAILED_ON_SECOND_HOST = _play(
    "TASK [Install the packages] ****\nok: [mocha-yum-al2023]\n"
    'fatal: [mocha-yum-rocky9]: FAILED! => {"msg": "No package"}\n',
    "mocha-yum-al2023           : ok=1    changed=0    unreachable=0    failed=0\n"
    "mocha-yum-rocky9           : ok=0    changed=0    unreachable=0    failed=1",
)
UNREACHABLE = _play(
    'TASK [Gathering Facts] ****\nfatal: [i-0abc]: UNREACHABLE! => {"msg": "Connection timed out"}\n',
    "i-0abc                     : ok=0    changed=0    unreachable=1    failed=0",
)
CUT_SHORT = 'PLAY [Converge] ****\n\nTASK [Build] ****\nfatal: [localhost]: FAILED! => {"msg": "make: *** Error 2"}\n'
HANDLER = _play(
    "TASK [Write the unit] ****\nchanged: [localhost]\n\nRUNNING HANDLER [Restart the guard] ****\n"
    'fatal: [localhost]: FAILED! => {"msg": "Unit not found"}\n',
    "localhost                  : ok=1    changed=1    unreachable=0    failed=1",
)
RESCUED = _play(
    'TASK [Expected to fail] ****\nfatal: [localhost]: FAILED! => {"msg": "rescued one"}\n\n'
    "TASK [ok] ****\nok: [localhost]\n",
    "localhost                  : ok=1    changed=0    unreachable=0    failed=0    skipped=0    rescued=1",
)
SCENARIO_RECAP = "SCENARIO RECAP\nx                         : actions=3  successful=2  failed=1\n"


@pytest.mark.parametrize(
    ("log", "task", "message"),
    [
        (FAILED_ON_SECOND_HOST, "TASK [Install the packages]", "No package"),
        (UNREACHABLE, "TASK [Gathering Facts]", "Connection timed out"),
        (HANDLER, "RUNNING HANDLER [Restart the guard]", "Unit not found"),
    ],
    ids=["failed-on-the-second-host", "unreachable", "handler"],
)
def test_each_shape_of_failure_is_named(tmp_path: Path, log: str, task: str, message: str) -> None:
    path = tmp_path / "scenario.out"
    path.write_text(RESCUED + log + SCENARIO_RECAP, encoding="utf-8")
    out = _summary(path)
    assert out.startswith(task), out
    assert message in out
    assert "rescued one" not in out


@pytest.mark.parametrize("after", ["", SCENARIO_RECAP], ids=["log-ends", "scenario-recap-follows"])
def test_a_run_cut_short_shows_its_last_failure_labelled(tmp_path: Path, after: str) -> None:
    path = tmp_path / "scenario.out"
    path.write_text(RESCUED + CUT_SHORT + after, encoding="utf-8")
    out = _summary(path)
    assert out.startswith(
        "no play recap followed (the run was cut short); its last failure, possibly rescued:\nTASK [Build]"
    )
    assert "make: *** Error 2" in out
    assert "rescued one" not in out and "SCENARIO RECAP" not in out


WRAPPED_RECAP = _play(
    'TASK [Build] ****\nfatal: [localhost]: FAILED! => {"msg": "make failed"}\n',
    "localhost                  : ok=1    changed=0    unreachable=0\n"
    "  failed=1    skipped=0    rescued=0    ignored=0",
)
# Host a fails for real first; host b's later failure is rescued, and c's ignored.
REAL_THEN_RESCUED_ON_ANOTHER_HOST = _play(
    'TASK [Install] ****\nfatal: [a]: FAILED! => {"msg": "a broke"}\nok: [b]\nok: [c]\n\n'
    'TASK [Probe] ****\nfatal: [b]: FAILED! => {"msg": "b rescued"}\n'
    'fatal: [c]: FAILED! => {"msg": "c ignored"}\n...ignoring\n\nTASK [Recover] ****\nok: [b]\n',
    "a                          : ok=0    changed=0    unreachable=0    failed=1\n"
    "b                          : ok=2    changed=0    unreachable=0    failed=0    skipped=0    rescued=1\n"
    "c                          : ok=2    changed=0    unreachable=0    failed=0    ignored=1",
)


def test_a_recap_wrapped_before_failed_still_names_the_failure(tmp_path: Path) -> None:
    path = tmp_path / "scenario.out"
    path.write_text(WRAPPED_RECAP, encoding="utf-8")
    assert _summary(path).startswith('TASK [Build] ****\nfatal: [localhost]: FAILED! => {"msg": "make failed"}')


def test_the_failed_host_is_blamed_not_a_later_rescued_or_ignored_one(tmp_path: Path) -> None:
    path = tmp_path / "scenario.out"
    path.write_text(REAL_THEN_RESCUED_ON_ANOTHER_HOST, encoding="utf-8")
    out = _summary(path)
    assert out.startswith("TASK [Install] ****\nfatal: [a]: FAILED!") and "a broke" in out
    assert "b rescued" not in out and "c ignored" not in out


def test_a_rescued_failure_is_not_named_by_a_later_failing_scenario_recap(tmp_path: Path) -> None:
    path = tmp_path / "scenario.out"
    path.write_text(RESCUED + SCENARIO_RECAP, encoding="utf-8")
    assert _summary(path) == ""


def test_a_relative_log_path_is_read_from_where_the_caller_is(tmp_path: Path) -> None:
    (tmp_path / "scenario.out").write_text(CUT_SHORT, encoding="utf-8")
    argv = [str(ROOT / "scripts" / "test"), "_molecule_failure_summary", "scenario.out"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert "TASK [Build]" in out and "make: *** Error 2" in out
