"""inventory/aws_ec2.yml (the amazon.aws aws_ec2 plugin) finds what provision launched."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import project_resources
from tests.helpers import ROOT, VENV_BIN, ansible_env


def test_the_dynamic_inventory_groups_instances_by_type_and_run(aws, tmp_path) -> None:
    env = ansible_env({"HOME": str(tmp_path), "MOCHA_ANSIBLE_RUNS_DIR": str(tmp_path / "runs")})
    launch = subprocess.run(
        [sys.executable, "-m", "mocha_ansible", "provision", "--yes", "--stages", "provision", "--count", "2",
         "--instance-type", "g4dn.xlarge", "--ami", "ami-785db401", "--ssh-cidr", "203.0.113.7/32",
         "--deployment", "inv", "-e", "ec2_gpu_wait_for_ssh=false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert launch.returncode == 0, launch.stdout[-3000:] + launch.stderr
    instances = sorted(project_resources()["instances"])

    listed = subprocess.run(
        [str(VENV_BIN / "ansible-inventory"), "-i", "inventory/aws_ec2.yml", "--list"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    inventory = json.loads(listed.stdout)
    for group in ("gpu_instances", "type_g4dn_xlarge", "run_inv"):
        assert sorted(inventory[group]["hosts"]) == instances, group
    hostvars = inventory["_meta"]["hostvars"][instances[0]]

    def plain(value):  # ansible-inventory marks templated strings as unsafe
        return value.get("__ansible_unsafe") if isinstance(value, dict) else value

    assert plain(hostvars["ansible_host"]) == plain(hostvars["public_ip_address"])
    assert plain(hostvars["ansible_ssh_private_key_file"]) == "~/.ssh/mocha-ansible-inv.pem"

    hosts = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "inventory/aws_ec2.yml", "playbooks/verify.yml", "--list-hosts"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert all(i in hosts.stdout for i in instances), hosts.stdout
