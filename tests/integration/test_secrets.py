"""No AWS secret reaches the disk through the wrapper or ansible-runner.

ansible-runner records the environment of a run in artifacts/<ident>/command; the
wrapper must keep secrets out of it while the modules still authenticate.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mocha_ansible.config import build_settings
from mocha_ansible.credentials import credential_handoff
from mocha_ansible.pipeline import build_job
from mocha_ansible.runner import PlaybookJob, run_playbook
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


def _server_thread() -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == "mocha-ansible-credentials"), None)


def _fetch(config: str) -> subprocess.CompletedProcess[str]:
    """Run the profile's credential_process the way botocore does, as a child of this process."""
    command = next(line for line in Path(config).read_text().splitlines() if line.startswith("credential_process"))
    argv = shlex.split(command.partition("=")[2])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


ORPHAN = """
import os, socket, sys
intermediate = os.getpid()
if os.fork():
    os._exit(0)  # the intermediate exits: the child is re-parented away from the test process
# Connect only once re-parented. Waiting on the test's pid instead (as this once did)
# let a busy machine connect while the intermediate still lived, a child of the test.
while os.getppid() == intermediate:
    os.sched_yield()
with socket.socket(socket.AF_UNIX) as sock:
    sock.connect(sys.argv[1])
    data = sock.recv(65536)
with open(sys.argv[2], "w") as out:
    out.write("got:" + data.decode())
"""


def test_the_credential_server_stops_and_forgets_the_secret_on_close():
    env = {"AWS_ACCESS_KEY_ID": "AKIACANARYKEYID00000", "AWS_SECRET_ACCESS_KEY": SECRET}
    with credential_handoff(env) as overrides:
        server = _server_thread()
        assert server is not None and server.is_alive()
        fetched = _fetch(overrides["AWS_CONFIG_FILE"])
        assert json.loads(fetched.stdout)["SecretAccessKey"] == SECRET  # a child of this process is served
    # accept() used to stay blocked after close(): the thread and its copy of the secret lived on.
    assert not server.is_alive() and _server_thread() is None
    assert SECRET.encode() not in repr(vars(server)).encode()
    assert all(SECRET not in repr(v) for v in vars(server).values())


def test_a_process_outside_the_run_is_refused(tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "AKIACANARYKEYID00000", "AWS_SECRET_ACCESS_KEY": SECRET}
    out = tmp_path / "orphan.txt"
    with credential_handoff(env) as overrides:
        command = next(
            line for line in Path(overrides["AWS_CONFIG_FILE"]).read_text().splitlines() if "credential_process" in line
        )
        sock_path = shlex.split(command.partition("=")[2])[-1]
        subprocess.run([sys.executable, "-c", ORPHAN, sock_path, str(out)], check=True, timeout=60)
        server = _server_thread()
        assert server is not None
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.read_text() == "got:"  # same user, same socket, but not of the playbook's tree
        assert server.refused == 1  # type: ignore[attr-defined]


def test_target_runs_open_no_credential_socket(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACANARYKEYID00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    seen: dict[bool, list[str]] = {}
    for needs_aws in (True, False):
        configs: list[str] = []

        def note(_event: dict[str, object], configs: list[str] = configs) -> None:
            if _server_thread() is not None:
                configs.append("served")

        job = PlaybookJob(
            playbook=ROOT / "playbooks/verify.yml", ident=f"aws-{needs_aws}", needs_aws=needs_aws,
            extravars={"mocha_hosts": "localhost", "cuda_verify_enabled": False},
        )  # fmt: skip
        assert run_playbook(job, tmp_path / "runs", on_event=note).ok
        seen[needs_aws] = configs
    assert seen[True] and not seen[False]
    settings = build_settings({}, {"target": "localhost"}, source="test")
    assert build_job(settings, tmp_path, check=False).needs_aws is False
    assert build_job(build_settings({}, {}, source="test"), tmp_path, check=False).needs_aws is True
