"""Nothing connects to an address the emulator invented (issue 14, point 2; issue 34 item 1).

`provision` with the defaults runs against the emulator inside a loopback-only
network namespace (unshare -n), under strace, and so do the commands a user runs next
that could reach the hosts: ssh-config --write, logs, stop and start. Every connect() the
CLI and its ansible-playbook children make is recorded; none may go to a non-loopback address.
Inside the namespace such a mistake fails at once and reaches nobody; strace still
records that it was tried. With --seccomp-bpf the kernel stops the traced processes at
connect() alone, not at every system call, so tracing costs the run almost nothing.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import VENV_BIN, in_loopback_namespace

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is installed by scripts/bootstrap")

# Runs inside `unshare -n`: its own emulator on the namespace's loopback, then the CLI.
SCRIPT = r"""
set -eu
eval "$("$PY" -c 'from mocha_ansible import emulator as e; print("export AWS_ENDPOINT_URL=" + e.start_emulator().url)')"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
rc=0
# The defaults, but for an AMI the emulator holds (it has no focal image for the preset).
traced() { strace -f --seccomp-bpf -qq -e trace=connect -A -o "$TRACE" "$PY" -m mocha_ansible "$@"; }
traced provision --yes --json --ami "$AMI" > "$OUT" 2>&1 || rc=$?
# Every later command that could open a connection to the hosts (issue 34 item 1).
traced ssh-config --write > "$AFTER" 2>&1 || rc=$?
lrc=0; traced logs >> "$AFTER" 2>&1 || lrc=$?; echo "logs exit $lrc" >> "$AFTER"
traced stop >> "$AFTER" 2>&1 || rc=$?
traced start >> "$AFTER" 2>&1 || rc=$?
"$PY" -c '
import boto3, json
ec2 = boto3.client("ec2")
print(json.dumps([i.get("PublicIpAddress") for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]))
' > "$IPS"
"$PY" -c 'from mocha_ansible import emulator; emulator.stop_emulator()'
exit $rc
"""

_CONNECT = re.compile(
    r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), "
    r'(?:inet_pton\(AF_INET6, |sin_addr=inet_addr\()"([^"]+)"'
)


def _is_loopback(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


@pytest.mark.heavy
def test_provision_with_the_defaults_never_connects_to_an_emulated_address(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    trace, out, ips = tmp_path / "connect.trace", tmp_path / "out.jsonl", tmp_path / "ips.json"
    after = tmp_path / "after.txt"
    env = {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PY": sys.executable,
        "AMI": "ami-785db401",  # in moto's built-in catalogue
        "TRACE": str(trace),
        "OUT": str(out),
        "IPS": str(ips),
        "AFTER": str(after),
        "MOCHA_ANSIBLE_RUNS_DIR": str(tmp_path / "runs"),
        "MOCHA_ANSIBLE_SANDBOX_DIR": str(tmp_path / "state"),
    }
    proc = in_loopback_namespace(SCRIPT, env=env, timeout=600)
    output = out.read_text(encoding="utf-8") if out.exists() else ""
    assert proc.returncode == 0, output[-3000:] + proc.stderr[-2000:]
    assert "is not AWS's own" in output, output[-2000:]
    said = after.read_text(encoding="utf-8")
    assert "logs: the endpoint http://127.0.0.1:" in said and "logs exit 2" in said, said
    ssh_config = (home / ".ssh" / "config").read_text(encoding="utf-8")
    invented = [ip for ip in json.loads(ips.read_text(encoding="utf-8")) if ip]
    assert invented, "the emulator reported no public address; the test proves nothing"
    assert "\n  HostName invented-address.invalid\n" in ssh_config, ssh_config
    assert all(ip not in ssh_config.replace(f"# {ip} was made up", "") for ip in invented), ssh_config
    connects = [(m.group(2), int(m.group(1))) for m in _CONNECT.finditer(trace.read_text(encoding="utf-8"))]
    assert any(_is_loopback(addr) for addr, _ in connects), "strace saw no connect() at all; the trace is broken"
    for addr in invented:
        assert all(a != addr for a, _ in connects), f"connected to {addr}, an address the emulator invented"
    strangers = sorted({(a, p) for a, p in connects if not _is_loopback(a)})
    assert strangers == [], f"connect() to non-loopback addresses: {strangers}"
