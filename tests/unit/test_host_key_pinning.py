"""ssh-config pins host keys the way the playbooks do: per deployment file, per instance id."""

from __future__ import annotations

from datetime import UTC, datetime

from mocha_ansible import aws
from mocha_ansible.ssh_config import ssh_config_text


def test_ssh_config_blocks_pin_the_host_key_per_instance(tmp_path):
    inst = aws.Instance("us-east-1", "i-1", "g4dn.xlarge", "running", "198.51.100.7", None, datetime.now(UTC),
                        {"mocha-ansible:ssh-user": "ubuntu", aws.TAG_DEPLOYMENT: "t"})  # fmt: skip
    lines = [line.strip() for line in ssh_config_text([inst], tmp_path).splitlines()]
    assert f'UserKnownHostsFile "{tmp_path / "mocha-ansible-t.known_hosts"}"' in lines
    assert "HostKeyAlias i-1" in lines
    assert "StrictHostKeyChecking accept-new" in lines
