"""Issue 30 item 15: julia_build and mocha_cifar refuse an Amazon Linux 2 host before
changing anything, in one line with the reason and the fix; Amazon Linux 2023 and
Rocky are not refused. Runs in check mode on localhost: Ansible's distribution facts
are overridden by extra vars (which outrank facts), so nothing is installed here."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import run_playbook

AL2 = {"ansible_distribution": "Amazon", "ansible_distribution_major_version": "2", "ansible_os_family": "RedHat"}


def _play(role: str, facts: dict[str, str]) -> subprocess.CompletedProcess[str]:
    variables = {"refused_role": role, "ansible_pkg_mgr": "dnf", **facts}
    return run_playbook("tests/integration/playbooks/refused_hosts.yml", "--check", "-e", json.dumps(variables))


@pytest.mark.parametrize("role", ["julia_build", "mocha_cifar"])
def test_amazon_linux_2_is_refused_with_the_reason_and_the_fix(role: str) -> None:
    proc = _play(role, AL2)
    assert proc.returncode != 0
    line = next(x for x in proc.stdout.splitlines() if f"{role}: Amazon Linux 2 cannot be managed here" in x)
    assert "Python is 3.7" in line and "yum 3" in line and "EPEL 7" in line
    assert "Fix: use Amazon Linux 2023 (provision --ami dlami-al2023)" in line
    # Refused before the package manager is settled: nothing after the refusal ran.
    assert "Settle the package-manager flavor" not in proc.stdout


@pytest.mark.parametrize("role", ["julia_build", "mocha_cifar"])
@pytest.mark.parametrize("major", ["2023", "9"])
def test_amazon_linux_2023_and_rocky_are_not_refused(role: str, major: str) -> None:
    facts = {**AL2, "ansible_distribution_major_version": major}
    if major == "9":
        facts["ansible_distribution"] = "Rocky"
    proc = _play(role, facts)
    assert "cannot be managed here" not in proc.stdout
    assert "Settle the package-manager flavor" in proc.stdout
