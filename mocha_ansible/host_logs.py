"""`logs`: where each host's build, test and training logs live, and their last lines (or --follow).

The hosts are reached the way the roles reach them: a sandbox host through `docker exec`
on its container, an AWS host over SSH with the `Host` blocks `ssh-config` prints.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from mocha_ansible import aws, results, sandbox, ssh_config
from mocha_ansible.environment import Environment
from mocha_ansible.errors import ConfigError, ExitCode
from mocha_ansible.role_vars import role_defaults
from mocha_ansible.terminal_text import printable


@dataclass(frozen=True)
class LogSpec:
    """One kind of log: what it is and the shell glob that finds it on the host."""

    kind: str
    glob: str


@dataclass(frozen=True)
class Host:
    name: str  # what --host matches: the ssh alias or the container, and the instance id
    instance_id: str
    argv: tuple[str, ...]  # runs one shell command string on the host


def log_specs(role_vars: dict[str, Any]) -> list[LogSpec]:
    """The roles' log paths (roles/julia_build/vars/main.yml julia_build_log; mocha_cifar_logs/<job>.log).
    The official binary is unpacked, not built: that method writes no build log to look for."""
    cache = str(role_vars.get("julia_build_cache_dir") or "/var/cache/mocha-ansible/julia")
    logs = f"{role_vars.get('mocha_cifar_home') or '/var/lib/mocha'}/logs"
    tree_kind = {"source": "build", "source-full": "full"}.get(str(role_vars.get("julia_build_method")))
    return [
        *([LogSpec("build", f"{cache}/{tree_kind}-*.log")] if tree_kind else []),
        LogSpec("test", f"{logs}/pkg-test*.log"),
        LogSpec("training", f"{logs}/train.log"),
    ]


def remote_script(specs: Sequence[LogSpec], lines: int, follow: bool) -> str:
    """A POSIX sh script: one `== KIND PATH` line per log (or `-- KIND GLOB (none yet)`), its last lines, then
    with `follow` every log found followed by `tail -F`. The globs stay unquoted so the host expands them."""
    parts = ["found="]
    for spec in specs:
        kind = shlex.quote(spec.kind)
        parts.append(
            f'n=0; for f in {spec.glob}; do [ -f "$f" ] || continue; n=1; found="$found $f"; '
            f'echo "== {kind} $f"; tail -n {lines} -- "$f"; done; '
            f"[ $n = 1 ] || echo {shlex.quote(f'-- {spec.kind} {spec.glob} (none yet)')}"
        )
    if follow:
        parts.append('[ -z "$found" ] || exec tail -n 0 -F -- $found')
    return "; ".join(parts)


def run_vars(run: results.RunSummary | None) -> dict[str, Any]:
    """The role variables a run used: the roles' defaults under the run's recorded extravars."""
    merged = role_defaults()
    if run is not None:
        merged.update(run.record.get("extravars") or {})
    return merged


def container_hosts(deployment: str | None) -> list[Host]:
    return [
        Host(name, name.removeprefix("mocha-sandbox-"), ("docker", "exec", name, "sh", "-c"))
        for name in sandbox.containers(deployment, running_only=True)
    ]


def aws_hosts(
    regions: Sequence[str], deployment: str | None, owner: str | None, *, key_dir: Path, env: Environment, folder: Path
) -> list[Host]:
    """SSH through a private copy of the Host blocks `ssh-config` prints (the pinned host key included)."""
    instances = [i for r in regions for i in aws.footprint(r, deployment, owner).instances]
    text = ssh_config.ssh_config_text(instances, key_dir, env)
    config = folder / "ssh_config"
    config.write_text(text, encoding="utf-8")
    hosts = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        alias = lines[0].removeprefix("Host ").strip()
        instance_id = next(ln.split()[1] for ln in lines if ln.strip().startswith("HostKeyAlias "))
        # The logs belong to the build and Mocha users; the login user reads them through sudo.
        hosts.append(Host(alias, instance_id, ("ssh", "-F", str(config), "-o", "BatchMode=yes", alias, "sudo", "-n",
                                               "sh", "-c")))  # fmt: skip
    return hosts


def pick(hosts: list[Host], wanted: str | None) -> list[Host]:
    if wanted is None:
        return hosts
    chosen = [h for h in hosts if wanted in (h.name, h.instance_id)]
    if not chosen:
        known = ", ".join(h.name for h in hosts) or "none running"
        raise ConfigError(f"logs: --host {wanted!r} is not a running host; accepted: {known}")
    return chosen


def parse(output: str) -> list[dict[str, Any]]:
    """remote_script's output as one entry per log: kind, path, and its last lines (or found: false)."""
    logs: list[dict[str, Any]] = []
    for line in output.splitlines():
        if line.startswith("== ") or (line.startswith("-- ") and line.endswith(" (none yet)")):
            kind, _, path = line[3:].removesuffix(" (none yet)").partition(" ")
            logs.append({"kind": kind, "path": path, "found": line.startswith("=="), "tail": []})
        elif logs:
            logs[-1]["tail"].append(line)
    return logs


def _copy_lines(source: IO[bytes], sink: TextIO) -> None:
    """Each line the host wrote, escaped: a log holds whatever the build, the tests or the training printed."""
    for raw in source:
        sink.write(printable(raw.decode("utf-8", errors="backslashreplace").removesuffix("\n")) + "\n")
        sink.flush()


def _relay(argv: Sequence[str]) -> int:
    """Run `argv`, its output and errors shown line by line as they come (--follow too), never raw."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        errors = threading.Thread(target=_copy_lines, args=(proc.stderr, sys.stderr), daemon=True)
        errors.start()
        _copy_lines(proc.stdout, sys.stdout)
        errors.join()
    return proc.returncode


def show(hosts: Sequence[Host], specs: Sequence[LogSpec], lines: int, follow: bool, json_mode: bool) -> int:
    """Each host's logs in turn; --follow follows one host's (the first, or --host's)."""
    script = remote_script(specs, lines, follow)
    code = ExitCode.OK
    for host in hosts[:1] if follow else hosts:
        argv = list(host.argv)
        # ssh joins its arguments into one string for the remote shell; docker exec passes them as argv.
        argv.append(shlex.quote(script) if argv[0] == "ssh" else script)
        if json_mode:
            res = subprocess.run(argv, check=False, capture_output=True, text=True, errors="backslashreplace")
            entry = {"type": "logs", "host": host.name, "instance_id": host.instance_id, "rc": res.returncode}
            print(json.dumps({**entry, "logs": parse(res.stdout)}), flush=True)
            returncode = res.returncode
        else:
            print(printable(f"### {host.name} ({host.instance_id})"), flush=True)
            returncode = _relay(argv)
        if returncode != 0:
            code = ExitCode.PLAY_FAILED
    return code


def private_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="mocha-ansible-logs-")
