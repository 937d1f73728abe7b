"""Hand AWS keys to Ansible's modules without putting them in an environment or a file.

ansible-runner records the whole environment of a run in ``artifacts/<ident>/command``.
So the runner's environment must not hold ``AWS_SECRET_ACCESS_KEY`` or a session
token. When the caller's credentials arrive through the environment, they are held
in this process's memory and served over a Unix socket in a private 0700 folder;
botocore in each module fetches them through a ``credential_process`` profile, the
standard hook of the AWS credential chain. The temporary config file that names the
profile holds no secret.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

SECRET_ENV_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
PROFILE = "mocha-ansible-runner"
HELPER = Path(__file__).with_name("credential_helper.py")


def env_credentials(environ: Mapping[str, str]) -> dict[str, str | int] | None:
    key = environ.get("AWS_ACCESS_KEY_ID")
    secret = environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None
    creds: dict[str, str | int] = {"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret}
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN")
    if token:
        creds["SessionToken"] = token
    return creds


class _Server(threading.Thread):
    def __init__(self, sock: socket.socket, payload: bytes) -> None:
        super().__init__(daemon=True, name="mocha-ansible-credentials")
        self._sock = sock
        self._payload = payload
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                if _peer_uid(conn) in (None, os.getuid()):
                    conn.sendall(self._payload)

    def stop(self) -> None:
        self._stopped.set()
        self._sock.close()


def _peer_uid(conn: socket.socket) -> int | None:
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:
        return None
    import struct

    raw = conn.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


@contextmanager
def credential_handoff(environ: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Yield the environment overrides that route credentials through the helper.

    Yields an empty mapping when the environment holds no keys (profiles, SSO and
    instance roles already keep secrets out of the environment).
    """
    creds = env_credentials(environ)
    if creds is None:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="mocha-ansible-cred-") as tmp:
        os.chmod(tmp, 0o700)
        sock_path = os.path.join(tmp, "s")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(sock_path)
        os.chmod(sock_path, 0o600)
        sock.listen(16)
        server = _Server(sock, json.dumps(creds).encode())
        server.start()
        config = Path(tmp) / "config"
        command = " ".join(shlex.quote(p) for p in (sys.executable, str(HELPER), sock_path))
        lines = [f"[profile {PROFILE}]", f"credential_process = {command}"]
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        if region:
            lines.append(f"region = {region}")
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        try:
            yield {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": PROFILE}
        finally:
            server.stop()
