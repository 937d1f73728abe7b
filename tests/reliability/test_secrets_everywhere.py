"""Canary secrets through the CLI: a successful run, a failing run and a -vvv run
against the emulator. Every file they leave under the runs directory, HOME (~/.ansible,
the saved key) and TMPDIR, and their captured stdout/stderr, are searched for the AWS
secret key, the session token and the created private key's contents. The only allowed
copy of the key is its own 0600 file. The full sandbox pipeline gets the same search
over the README's journey (tests/integration/test_sandbox_journey.py), which shares
its one converge with other proofs.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, VENV_BIN

SECRET = "CanarySecretKey0123456789abcdefGHIJKLMNOP"
TOKEN = "CanarySessionToken9876543210zyxwvuTSRQPONMLKJ"
LAUNCH = ["provision", "--yes", "--instance-type", "g4dn.xlarge", "--ami", "ami-785db401",
          "--ssh-cidr", "203.0.113.7/32", "-e", "ec2_gpu_wait_for_ssh=false"]  # fmt: skip


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.fixture
def world(aws, tmp_path: Path) -> dict[str, object]:
    dirs = {name: tmp_path / name for name in ("home", "tmp", "runs", "sandbox")}
    # The runs folder is the tool's to make (0700); it leaves a folder it did not make as it is.
    for name, d in dirs.items():
        if name != "runs":
            d.mkdir()
    env = {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(dirs["home"]),
        "TMPDIR": str(dirs["tmp"]),
        "MOCHA_ANSIBLE_RUNS_DIR": str(dirs["runs"]),
        "MOCHA_ANSIBLE_SANDBOX_DIR": str(dirs["sandbox"]),
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIACANARYKEYID00000",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
    }
    return {"env": env, **dirs}


def _cli(world: dict[str, object], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args],
        cwd=ROOT, env=world["env"], capture_output=True, text=True, timeout=600, check=False,  # type: ignore[arg-type]
    )  # fmt: skip


def test_no_secret_in_any_file_or_output(world) -> None:
    outputs = []
    ok = _cli(world, *LAUNCH, "--stages", "provision")
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr
    failing = _cli(world, *LAUNCH, "--stages", "provision", "-e", "ec2_gpu_spot_max_price=0.5")
    assert failing.returncode == 1, failing.stdout[-3000:] + failing.stderr
    assert "a max price only with spot" in failing.stdout
    loud = _cli(world, *LAUNCH, "--stages", "provision", "-vvv")
    assert loud.returncode == 0, loud.stdout[-3000:] + loud.stderr
    log = Path(loud.stdout.split("log: ")[-1].split()[0]).read_text()
    assert "ESTABLISH LOCAL CONNECTION" in log, "the -vvv run was not verbose: test is not testing"
    outputs += [ok, failing, loud]

    key_file = Path(world["home"]) / ".ssh" / "mocha-ansible-default.pem"  # type: ignore[arg-type]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_body = key_file.read_text().splitlines()[3]  # a line from the middle of the key
    assert len(key_body) > 40

    files = _files(world["runs"], world["home"], world["tmp"], world["sandbox"])  # type: ignore[arg-type]
    assert any(p.name == "command" for p in files), "no runner artifacts were searched: the test is not testing"
    hits = []
    for path in files:
        data = path.read_bytes()
        for needle in (SECRET, TOKEN, key_body):
            if needle.encode() in data and not (needle == key_body and path == key_file):
                hits.append(f"{path}: {needle[:10]}...")
    for proc in outputs:
        hits += [f"output of {proc.args[3:6]}" for n in (SECRET, TOKEN, key_body) if n in proc.stdout + proc.stderr]
    assert hits == []

    runs = Path(world["runs"])  # type: ignore[arg-type]
    assert stat.S_IMODE(runs.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(d.stat().st_mode) == 0o700 for d in runs.iterdir() if d.is_dir())
