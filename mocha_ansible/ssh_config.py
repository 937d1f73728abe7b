"""`ssh-config`: `Host mocha-N` blocks for the running instances, and their managed span in ~/.ssh/config."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from mocha_ansible import aws, endpoint
from mocha_ansible.environment import Aws, Environment
from mocha_ansible.role_vars import matches_role_pattern

SSH_BEGIN = "# BEGIN mocha-ansible (managed by `mocha-ansible ssh-config --write`)"
SSH_END = "# END mocha-ansible"
INVENTED_HOST = "invented-address.invalid"


_SSH_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")


def _ssh_config_problem(inst: aws.Instance) -> str | None:
    """Why an instance's AWS-side values may not go into ~/.ssh/config (anyone who may tag it wrote them)."""
    user = inst.tags.get("mocha-ansible:ssh-user", "ubuntu")
    if not _SSH_USER_RE.match(user):
        return f"tag mocha-ansible:ssh-user={json.dumps(user)} is not a login name"
    if inst.deployment and not matches_role_pattern("ec2_gpu_deployment", inst.deployment):
        return f"tag {aws.TAG_DEPLOYMENT}={json.dumps(inst.deployment)} is not a deployment name"
    try:
        ipaddress.ip_address(str(inst.public_ip))
    except ValueError:
        return f"public address {json.dumps(inst.public_ip)} is not an IP address"
    return None


def _host_block(
    n: int, inst: aws.Instance, many: bool, key_dir: Path, env: Environment, *, invented_by: str | None
) -> str:
    deployment = inst.deployment or "default"
    # An emulator's public addresses are made up and belong to strangers. Without a HostName ssh
    # would look the alias up in DNS, where a search domain might find a real machine; the
    # reserved .invalid name never resolves (RFC 6761), so `ssh mocha-1` reaches no one.
    address = (
        f"  # {inst.public_ip} was made up by the endpoint {invented_by}, which is not AWS's own\n"
        f"  HostName {INVENTED_HOST}"
        if invented_by
        else f"  HostName {inst.public_ip}"
    )
    lines = [
        f"Host mocha-{n}" if not many or deployment == "default" else f"Host mocha-{deployment}-{n}",
        address,
        f"  User {inst.tags.get('mocha-ansible:ssh-user', 'ubuntu')}",
    ]
    note = env.ssh_note(inst.instance_id)
    if note:
        lines.append(f"  # {note}")
    key = key_dir / f"mocha-ansible-{deployment}.pem"
    if key.exists():
        lines.append(f"  IdentityFile {key}")
        lines.append("  IdentitiesOnly yes")
    # The pin the playbooks use (ec2_gpu discover.yml): first key seen per instance id, in a file teardown deletes.
    lines.append(f'  UserKnownHostsFile "{key_dir / f"mocha-ansible-{deployment}.known_hosts"}"')
    lines.append(f"  HostKeyAlias {inst.instance_id}")
    lines.append("  StrictHostKeyChecking accept-new")
    return "\n".join(lines)


def ssh_config_text(instances: Sequence[aws.Instance], key_dir: Path, environment: Environment | None = None) -> str:
    """Host blocks for the running instances; one whose tags would smuggle in config lines is left out."""
    invented_by = endpoint.invented_by()
    blocks = []
    for n, inst in enumerate(sorted(instances, key=lambda i: i.instance_id), start=1):
        if not inst.public_ip or inst.state != "running":
            continue
        problem = _ssh_config_problem(inst)
        if problem:
            print(f"mocha-ansible: warning: skipping {inst.instance_id}: {problem}", file=sys.stderr)
            continue
        blocks.append(_host_block(n, inst, len(instances) >= 2, key_dir, environment or Aws(), invented_by=invented_by))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def write_managed_block(path: Path, text: str) -> None:
    """Put `text` between the markers in `path`, replacing an earlier managed span; the rest is kept."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if SSH_BEGIN in old and SSH_END in old:
        head, _, rest = old.partition(SSH_BEGIN)
        _, _, tail = rest.partition(SSH_END)
        old = head.rstrip("\n") + ("\n" if head.strip() else "") + tail.lstrip("\n")
    new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + f"{SSH_BEGIN}\n{text}{SSH_END}\n"
    path.write_text(new, encoding="utf-8")
    os.chmod(path, 0o600)
