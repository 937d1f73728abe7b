"""No AWS secret reaches the disk through the wrapper or ansible-runner.

ansible-runner records the environment of a run in artifacts/<ident>/command; the
wrapper must keep secrets out of it while the modules still authenticate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

SECRET = "CanarySecretKey0123456789abcdefGHIJKLMNOP"
TOKEN = "CanarySessionToken9876543210zyxwvuTSRQPONMLKJ"
PROBE = ROOT / "tests/integration/playbooks/aws_probe.yml"
SNIPPET = """
import json, sys
from pathlib import Path
from mocha_ansible.runner import PlaybookJob, run_playbook
job = PlaybookJob(playbook=Path(sys.argv[1]), ident="canary", verbosity=int(sys.argv[3]))
res = run_playbook(job, Path(sys.argv[2]))
print(json.dumps({"status": res.status, "rc": res.rc, "failed": res.failed_tasks}))
"""


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def _hits(paths: list[Path], needles: tuple[str, ...]) -> list[str]:
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found += [f"{path}: {n[:8]}..." for n in needles if n.encode() in data]
    return found


@pytest.mark.parametrize("verbosity", [0, 3])
def test_canary_secrets_never_reach_disk(aws, tmp_path: Path, verbosity: int):
    home, tmp, runs = tmp_path / "home", tmp_path / "tmp", tmp_path / "runs"
    for d in (home, tmp, runs):
        d.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG")},
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIACANARYKEYID00000",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
    }
    proc = subprocess.run(
        [sys.executable, "-c", SNIPPET, str(PROBE), str(runs), str(verbosity)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    # The modules authenticated (botocore raises NoCredentialsError otherwise), so
    # the keys did reach them, through the credential_process hand-off.
    assert outcome["status"] == "successful", outcome
    written = _files_under(runs, home, tmp)
    assert any(p.name == "command" for p in written), "ansible-runner wrote no command file: test is not testing"
    assert _hits(written, (SECRET, TOKEN)) == []
    assert SECRET not in proc.stdout + proc.stderr and TOKEN not in proc.stdout + proc.stderr
    # What ansible-runner writes sits in a private folder; the command file is 0600 itself.
    assert (runs / "canary").stat().st_mode & 0o777 == 0o700
    assert (runs / "canary" / "command").stat().st_mode & 0o777 == 0o600


def test_without_the_handoff_the_keys_would_be_recorded(aws, tmp_path: Path):
    """Guards the test above: the canary does land on disk if passed the naive way."""
    import ansible_runner

    (tmp_path / "pdd").mkdir()
    os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET
    try:
        ansible_runner.run(
            private_data_dir=str(tmp_path / "pdd"),
            playbook=str(PROBE),
            quiet=True,
        )
    finally:
        os.environ["AWS_SECRET_ACCESS_KEY"] = aws.env()["AWS_SECRET_ACCESS_KEY"]
    assert _hits(_files_under(tmp_path / "pdd"), (SECRET,)) != []
