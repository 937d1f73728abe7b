"""The SSH rule an IPv6 network gets, and the CIDRs the role refuses even when -e carries them.

Runs provision with the CLI against the AWS emulator, then reads the security group back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3

from tests.conftest import project_resources
from tests.helpers import ROOT, VENV_BIN, provision_on_emulator


def _provision(aws, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return provision_on_emulator(aws, tmp_path, "six", *extra)


def test_an_ipv6_network_goes_in_cidr_ipv6(aws, tmp_path: Path) -> None:
    """Issue 22: as cidr_ip, an IPv6 network is refused or mangled; it belongs in the rule's Ipv6Ranges."""
    proc = _provision(aws, tmp_path, "--ssh-cidr", "2001:db8:1:2300::/56")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (group,) = [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
    rules = [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), p["IpRanges"],
              [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])]) for p in group["IpPermissions"]]  # fmt: skip
    assert rules == [("tcp", 22, 22, [], ["2001:db8:1:2300::/56"])]
    down = subprocess.run(
        [sys.executable, "-m", "mocha_ansible", "teardown", "--yes", "--deployment", "six",
         "--key-dir", str(tmp_path / "home" / ".ssh")],
        cwd=ROOT, env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
                       "MOCHA_ANSIBLE_RUNS_DIR": str(tmp_path / "runs"), **aws.env()},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert down.returncode == 0, down.stdout[-2000:] + down.stderr
    assert project_resources()["security_groups"] == []
