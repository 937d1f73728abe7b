"""docker_engine.ensure_docker never starts dockerd inside a loopback-only network namespace.

A daemon started there keeps that namespace: its host-network containers see only lo,
and every apt install in them fails later (found 2026-11-26: a pytest run under
`unshare -n` started the daemon, and the sandbox pipeline then failed in apt).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mocha_ansible import docker_engine
from mocha_ansible.errors import MochaAnsibleError

HEADER = "Inter-|   Receive\n face |bytes    packets\n"


def _net_dev(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "dev"
    path.write_text(HEADER + "".join(f"{n:>6}:       0       0    0\n" for n in names), encoding="utf-8")
    return path


def test_only_lo_is_a_loopback_only_namespace(tmp_path: Path) -> None:
    assert docker_engine.loopback_only_namespace(_net_dev(tmp_path, "lo")) is True
    assert docker_engine.loopback_only_namespace(_net_dev(tmp_path, "lo", "eth0")) is False
    assert docker_engine.loopback_only_namespace(tmp_path / "absent") is False


def test_the_process_own_namespace_is_read(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-n", "true"], check=False, capture_output=True).returncode != 0:
        pytest.skip("unshare -n is not allowed here")
    probe = "from mocha_ansible import docker_engine; print(docker_engine.loopback_only_namespace())"
    inside = subprocess.run(["unshare", "-n", sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert inside.stdout.strip() == "True"


def test_ensure_docker_refuses_to_start_the_daemon_there(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(docker_engine, "docker_ready", lambda: False)
    monkeypatch.setattr(docker_engine.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(docker_engine.os, "geteuid", lambda: 0)
    monkeypatch.setattr(docker_engine, "loopback_only_namespace", lambda: True)
    monkeypatch.setattr(docker_engine.subprocess, "Popen", lambda *a, **k: started.append(a))
    with pytest.raises(MochaAnsibleError, match="loopback-only network namespace"):
        docker_engine.ensure_docker(timeout=0.1)
    assert started == []
