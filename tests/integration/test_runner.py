"""The ansible-runner wrapper on its own: statuses, recap, cancellation, run directories."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mocha_ansible import results
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.helpers import ROOT

SNIPPET = """
import json, sys
from pathlib import Path
from mocha_ansible.runner import Cancel, PlaybookJob, run_playbook
cancel = Cancel()
with cancel.installed():
    res = run_playbook(PlaybookJob(playbook=Path(sys.argv[1]), ident="sleep"), Path(sys.argv[2]), cancel=cancel)
print(json.dumps({"status": res.status, "statuses": res.statuses, "signal": cancel.requested}))
"""


def test_statuses_and_recap(tmp_path):
    res = run_playbook(PlaybookJob(playbook=ROOT / "playbooks/verify.yml", ident="v",
                                   extravars={"mocha_hosts": "localhost", "cuda_verify_enabled": False}),
                       tmp_path)  # fmt: skip
    assert res.ok
    assert res.statuses == ["starting", "running", "successful"]
    assert res.recap["localhost"].failures == 0 and res.recap["localhost"].changed == 0
    saved = (tmp_path / "v" / "stdout").read_text(encoding="utf-8")
    assert "PLAY RECAP" in saved and "\x1b[" not in saved  # plain text, not the pty's colours


def test_sigint_cancels_the_playbook_cleanly(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", SNIPPET, str(ROOT / "tests/integration/playbooks/sleep.yml"), str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("sleep/job_events/*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 30, "cancel took too long"
    outcome = json.loads(out.strip().splitlines()[-1])
    assert outcome["status"] == "canceled", err
    assert outcome["signal"] == signal.SIGINT
    leftover = subprocess.run(["pgrep", "-f", "sleep 120"], capture_output=True, text=True, check=False)
    assert leftover.stdout.strip() == "" or all(not Path(f"/proc/{pid}").exists() for pid in leftover.stdout.split()), (
        "the playbook's sleep outlived the cancel"
    )


def test_run_directories_are_private_and_rotated(tmp_path):
    root = tmp_path / "runs"
    made = []
    for _ in range(4):
        made.append(results.new_run_dir(root, keep=3))
        time.sleep(0.01)
    left = sorted(p.name for p in root.iterdir())
    assert len(left) == 3
    assert made[0].name not in left and made[-1].name in left
    assert all(os.stat(root / name).st_mode & 0o777 == 0o700 for name in left)
    assert os.stat(root).st_mode & 0o777 == 0o700
