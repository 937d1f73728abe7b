"""scripts/test's closing summary of a failed molecule scenario.

CI keeps only the last lines of the output, and molecule's log is printed far above them.
The summary must name the task that failed, or the tasks that broke idempotence, and
must not blame a failure that a `rescue` recovered earlier in the same log.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

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
