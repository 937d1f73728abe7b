"""First boot (issue 30 item 12): each role waits for cloud-init before its first
package task, within a bound, and skips the wait where cloud-init is absent.

The roles' real package task files run on a throw-away container of the sandbox's
Debian image (never apt on this machine), with the TEST DOUBLE
tests/doubles/cloud_init_double/cloud-init as cloud-init. The container has no
network: apt's cache is marked fresh (the stamp ansible.builtin.apt reads for
cache_valid_time), so no update is tried, and the names asked for are installed
already. Without the stamp the test passed only while the image was under an hour
old (the fresh-clone CI of 82c1a53 failed it: "Failed to update apt cache").
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import DOUBLES, ansible_env, run_playbook

DOUBLE = DOUBLES / "cloud_init_double" / "cloud-init"
ROLES = ("julia_build", "mocha_cifar")
WAIT = "Wait for cloud-init (cloud-init status --wait)"
INSTALL = {
    "julia_build": "Install what unpacking a tarball needs (binary, apt)",
    "mocha_cifar": "Install HDF5 and the build tools (apt)",
}


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def box(debian_image: str, tmp_path: Path) -> Iterator[str]:
    # Unique across xdist workers: their tmp_path names repeat (test_..._cl0 in each worker's base).
    name = f"mocha-first-boot-{uuid.uuid4().hex[:12]}"
    _docker("run", "-d", "--network", "none", "--name", name, debian_image, "sleep", "infinity")
    stamp = "/var/lib/apt/periodic/update-success-stamp"
    _docker("exec", name, "sh", "-c", f"mkdir -p {stamp.rsplit('/', 1)[0]} && touch {stamp}")
    yield name
    subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True)


def _cloud_init(box: str, polls: int, final: str = "done") -> None:
    _docker("cp", str(DOUBLE), f"{box}:/usr/bin/cloud-init")
    _docker("exec", box, "sh", "-c", f"printf 'polls={polls}\\nfinal={final}\\n' > /etc/cloud-init-double.conf")


def _play(box: str, roles: tuple[str, ...] = ROLES, **overrides: object) -> subprocess.CompletedProcess[str]:
    variables = {
        "first_boot_roles": list(roles),
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        # Names the image already has: the apt transactions change nothing.
        "mocha_cifar_hdf5_packages": ["gzip"],
        "mocha_cifar_distro_packages": ["tar"],
        **overrides,
    }
    return run_playbook("tests/integration/playbooks/first_boot.yml", "-i", f"{box},", "-e", json.dumps(variables),
                        env=ansible_env(), timeout=300)  # fmt: skip


def _task_at(out: str, role: str, task: str) -> int:
    at = out.find(f"TASK [{role} : {task}]")
    assert at >= 0, f"{role}: no task {task!r} in\n{out[-3000:]}"
    return at


@pytest.mark.parametrize("final", ["done", "degraded"])
def test_each_role_waits_for_cloud_init_before_its_first_package_task(box: str, final: str) -> None:
    _cloud_init(box, polls=3, final=final)
    proc = _play(box)
    assert proc.returncode == 0, proc.stdout[-3000:]
    for role in ROLES:
        assert _task_at(proc.stdout, role, WAIT) < _task_at(proc.stdout, role, INSTALL[role])
    calls = _docker("exec", box, "cat", "/var/log/cloud-init-double.log").splitlines()
    # The first wait sat through the three running polls; both waited to the end.
    assert calls == ["status --wait start", f"status --wait end {final}"] * 2
    assert _docker("exec", box, "cat", "/run/cloud-init-double.polls").strip() == "0"


@pytest.mark.parametrize("role", ROLES)
def test_cloud_init_stuck_past_the_bound_fails_with_the_bound_and_what_to_check(box: str, role: str) -> None:
    _cloud_init(box, polls=-1)
    proc = _play(box, (role,), **{f"{role}_cloud_init_timeout": 2})
    assert proc.returncode != 0
    assert f"{role}: cloud-init was still running after {role}_cloud_init_timeout=2 s" in proc.stdout
    assert "check `cloud-init status --long` on the host" in proc.stdout
    assert f"TASK [{role} : {INSTALL[role]}]" not in proc.stdout


def test_no_cloud_init_skips_the_wait(box: str) -> None:
    proc = _play(box)
    assert proc.returncode == 0, proc.stdout[-3000:]
    for role in ROLES:
        wait = _task_at(proc.stdout, role, WAIT)
        assert wait < _task_at(proc.stdout, role, INSTALL[role])
        # The wait's own output, up to the next task (a dpkg-query may run before the install).
        shown = proc.stdout[wait : proc.stdout.index("TASK [", wait + 1)]
        assert f"skipping: [{box}]" in shown and f"ok: [{box}]" not in shown
