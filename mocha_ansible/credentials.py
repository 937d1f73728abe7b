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
import selectors
import shlex
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
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
    """Serves the payload to processes descended from this one, until `stop()`.

    `accept()` is never left blocking: the loop waits on the socket and on a stop
    pipe together, so `stop()` wakes it, joins it and drops the payload.
    """

    def __init__(self, sock: socket.socket, payload: bytes) -> None:
        super().__init__(daemon=True, name="mocha-ansible-credentials")
        self._sock = sock
        self._payload: bytes | None = payload
        self._wake_r, self._wake_w = os.pipe()
        self.refused = 0

    def run(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._sock, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in sel.select()}
                if self._wake_r in ready:
                    return
                try:
                    conn, _ = self._sock.accept()
                except OSError:
                    return
                with conn:
                    payload = self._payload
                    if payload is not None and _peer_allowed(conn):
                        conn.sendall(payload)
                    else:
                        self.refused += 1

    def stop(self) -> None:
        if self.is_alive():
            os.write(self._wake_w, b"x")
            self.join()
        self._payload = None
        self._sock.close()
        for fd in (self._wake_r, self._wake_w):
            with suppress(OSError):
                os.close(fd)


def _peer_allowed(conn: socket.socket) -> bool:
    """The peer runs as this user and descends from this process (the playbook's tree).

    The socket already sits in a 0700 folder; the ancestry check also turns away other
    processes of the same user (an editor plugin, another shell) that find the path.
    Without SO_PEERCRED (not Linux) only the folder's permissions protect it.
    """
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:
        return True
    raw = conn.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return uid == os.getuid() and is_descendant(pid, os.getpid())


def is_descendant(pid: int, ancestor: int) -> bool:
    """Whether `ancestor` is a strict ancestor of `pid`, following /proc's parent links."""
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid == ancestor:
            return True
    return False


@contextmanager
def credential_handoff(environ: Mapping[str, str], *, needed: bool = True) -> Iterator[dict[str, str]]:
    """Yield the environment overrides that route credentials through the helper.

    Yields an empty mapping when the environment holds no keys (profiles, SSO and
    instance roles already keep secrets out of the environment), or when the run
    needs no AWS at all (`needed=False`: --target runs), so no socket is opened.
    """
    creds = env_credentials(environ) if needed else None
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
        del creds
        server.start()
        try:
            config = Path(tmp) / "config"
            command = " ".join(shlex.quote(p) for p in (sys.executable, str(HELPER), sock_path))
            lines = [f"[profile {PROFILE}]", f"credential_process = {command}"]
            region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
            if region:
                lines.append(f"region = {region}")
            fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            yield {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": PROFILE}
        finally:
            server.stop()
