"""The embedded AWS emulator: moto in server mode on 127.0.0.1, detached.

Detached so that `status` and `teardown` in later commands see the same state;
`provision --sandbox --down` stops it. The test harness starts and records it
through the same functions, so both exercise one start-up path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mocha_ansible.errors import MochaAnsibleError
from mocha_ansible.project import sandbox_dir

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Emulator:
    pid: int
    port: int
    # An emulated IAM user's keys when the emulator enforces IAM (enforce_iam); else
    # any key is accepted and dummy ones are used.
    credentials: tuple[str, str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        if self.credentials is None:
            return {"AWS_ENDPOINT_URL": self.url, **DUMMY_CREDENTIALS}
        key, secret = self.credentials
        return {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}

    def alive(self) -> bool:
        # The dashboard page, not /moto-api/data.json: that one serializes the whole
        # state (megabytes, seconds under load), so a busy but live emulator timed out
        # and a fresh, empty one was started in its place.
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):  # noqa: S310 (loopback)
                return True
        except (urllib.error.URLError, OSError):
            return False

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310
            pass


def _record(base: Path) -> Path:
    return base / "emulator.json"


def _credentials_file(base: Path) -> Path:
    return base / "emulator-credentials.json"


def record_emulator(emu: Emulator, base: Path | None = None, *, managed: bool = True) -> None:
    """Make `emu` the sandbox's emulator for later commands (the test harness uses this too).

    `managed`: started by start_emulator, so stop_emulator may end it; an emulator
    someone else runs (managed=False) is only forgotten.
    """
    base = base or sandbox_dir()
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {"pid": emu.pid, "port": emu.port, "managed": managed}
    _record(base).write_text(json.dumps(record), encoding="utf-8")
    creds = _credentials_file(base)
    if emu.credentials is None:
        with contextlib.suppress(FileNotFoundError):
            creds.unlink()
    else:
        # Keys of a user that exists only inside the emulator; still kept private.
        creds.touch(mode=0o600)
        creds.write_text(json.dumps(list(emu.credentials)), encoding="utf-8")


def running_emulator(base: Path | None = None) -> Emulator | None:
    base = base or sandbox_dir()
    try:
        data = json.loads(_record(base).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        key, secret = json.loads(_credentials_file(base).read_text(encoding="utf-8"))
        credentials: tuple[str, str] | None = (str(key), str(secret))
    except (OSError, ValueError):
        credentials = None
    emu = Emulator(int(data["pid"]), int(data["port"]), credentials)
    return emu if emu.alive() else None


def enforce_iam(emu: Emulator, policy: dict[str, object], user: str = "mocha-ansible") -> Emulator:
    """Turn on the emulator's IAM checks, as a user holding only `policy`.

    The user and its key are made while checks are off; then /moto-api/reset-auth
    makes every later request count. Moto judges actions, not resources or conditions.
    """
    import boto3

    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=emu.url,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="mocha-ansible", PolicyDocument=json.dumps(policy))
    # A form content type would hide the body from moto; the count goes as plain text.
    req = urllib.request.Request(  # noqa: S310
        f"{emu.url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(req, timeout=10):  # noqa: S310
        pass
    return Emulator(emu.pid, emu.port, (key["AccessKeyId"], key["SecretAccessKey"]))


def start_emulator(base: Path | None = None, timeout: float = 30.0) -> Emulator:
    """Start (or reuse) a detached moto server on a free loopback port."""
    base = base or sandbox_dir()
    existing = running_emulator(base)
    if existing is not None:
        return existing
    try:
        import moto.server  # noqa: F401
    except ImportError:
        raise MochaAnsibleError("the sandbox needs moto", fix="pip install 'mocha-ansible[sandbox]'") from None
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    port = free_port()
    log = open(base / "emulator.log", "ab")  # noqa: SIM115 (handed to the child)
    # moto's server with the EC2 rules it lacks (mocha_ansible/emulator_ec2.py).
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocha_ansible.emulator_ec2", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    log.close()
    emu = Emulator(proc.pid, port)
    deadline = time.monotonic() + timeout
    while not emu.alive():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise MochaAnsibleError(f"the AWS emulator did not start; see {base / 'emulator.log'}")
        time.sleep(0.2)
    record_emulator(emu, base)
    return emu


def stop_emulator(base: Path | None = None) -> bool:
    base = base or sandbox_dir()
    emu = running_emulator(base)
    try:
        managed = bool(json.loads(_record(base).read_text(encoding="utf-8")).get("managed", True))
    except (OSError, ValueError):
        managed = False
    for path in (_record(base), _credentials_file(base)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    if emu is None or not managed:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(emu.pid, signal.SIGTERM)
    return True
