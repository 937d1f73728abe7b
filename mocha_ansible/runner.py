"""The one place that calls ansible-runner.

It owns the private data dir (temporary, 0700, removed afterwards), the run's
environment (an allowlist: no secret reaches ansible-runner's ``command`` file or
``env/`` folder), event forwarding, and cancellation on SIGINT/SIGTERM.
It knows nothing about Mocha, stages or settings.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import ansible_runner

from mocha_ansible.credentials import SECRET_ENV_VARS, credential_handoff
from mocha_ansible.project import project_dir
from mocha_ansible.untrusted import unsafe_vars_yaml

EventHandler = Callable[[dict[str, Any]], None]

_ALLOWED_NAMES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ", "TMPDIR",
        "SSH_AUTH_SOCK", "VIRTUAL_ENV", "PYTHONPATH", "NO_COLOR", "COLUMNS", "DOCKER_HOST",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
        "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
    }
)  # fmt: skip
_ALLOWED_PREFIXES = ("LC_", "ANSIBLE_", "AWS_", "MOCHA_ANSIBLE_", "MOLECULE_")
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|_PASS$|PRIVATE|CREDENTIAL|SESSION", re.IGNORECASE)
FAILURE_EVENTS = ("runner_on_failed", "runner_on_unreachable", "runner_item_on_failed")
_STATS_KEYS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")


def failure_of(event: Mapping[str, Any]) -> dict[str, str] | None:
    """host, task and message of a failed task event; None for anything else.

    A failed loop is reported by its items, so the loop's own summary event is skipped.
    """
    data = event.get("event_data", {})
    if event.get("event") not in FAILURE_EVENTS or data.get("ignore_errors"):
        return None
    res = data.get("res") or {}
    if event.get("event") == "runner_on_failed" and res.get("results"):
        return None
    return {
        "host": str(data.get("host", "")),
        "task": str(data.get("task", "")),
        "msg": str(res.get("msg", "")).strip(),
    }


def is_secret_name(name: str) -> bool:
    if name in SECRET_ENV_VARS:
        return True
    return bool(_SECRET_NAME.search(name)) and not name.endswith(("_FILE", "_PATH", "_DIR"))


def safe_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment that may be handed to Ansible and written to disk."""
    return {
        k: v
        for k, v in environ.items()
        if (k in _ALLOWED_NAMES or k.startswith(_ALLOWED_PREFIXES)) and not is_secret_name(k)
    }


@dataclass(frozen=True)
class PlaybookJob:
    playbook: Path
    ident: str
    extravars: Mapping[str, Any] = field(default_factory=dict)
    # Variables whose values come from AWS or a host: handed over as data, never rendered
    # (mocha_ansible/untrusted.py). Their names may not repeat an extravars name.
    untrusted: Mapping[str, Any] = field(default_factory=dict)
    inventory: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    limit: str | None = None
    check: bool = False
    verbosity: int = 0
    forks: int | None = None
    # False for runs that never call AWS (--target): no credential socket is opened.
    needs_aws: bool = True


@dataclass
class HostRecap:
    ok: int = 0
    changed: int = 0
    failures: int = 0
    dark: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0


@dataclass
class RunResult:
    status: str
    rc: int
    artifact_dir: Path
    seconds: float
    recap: dict[str, HostRecap]
    failed_tasks: list[dict[str, str]]
    statuses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.recap.values())

    def output_tail(self, lines: int = 20) -> list[str]:
        """The end of ansible-playbook's own output: the reason when no task reported one."""
        try:
            text = (self.artifact_dir / "stdout").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()][-lines:]


class Cancel:
    """Turns SIGINT/SIGTERM into a polite cancel of the running playbook."""

    def __init__(self) -> None:
        self.requested: int | None = None

    def __call__(self) -> bool:
        return self.requested is not None

    @contextmanager
    def installed(self) -> Iterator[Cancel]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, _frame: FrameType | None) -> None:
            self.requested = signum

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def playbook_process_tree() -> list[int]:
    """ansible-playbook processes started by this process, and all their descendants.

    Ansible's workers leave the playbook's process group, so killing the group (what
    ansible-runner does on cancel) would orphan running modules; the tree does not.
    """
    if not Path("/proc/self/stat").exists():
        return []
    children = _children_map()
    roots = []
    for pid in children.get(os.getpid(), []):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ansible-playbook" in cmdline:
            roots.append(pid)
    tree, stack = list(roots), list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            tree.append(child)
            stack.append(child)
    return tree


def terminate_tree(pids: list[int], grace: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while sig == signal.SIGTERM and time.monotonic() < deadline:
            if not any(Path(f"/proc/{pid}").exists() for pid in pids):
                return
            time.sleep(0.1)


@contextmanager
def _scrubbed_environ(overrides: Mapping[str, str]) -> Iterator[None]:
    # ansible-runner copies os.environ itself and records that copy on disk, so the
    # process environment is narrowed for the duration of the call, then restored.
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(safe_environ(saved))
        os.environ.update(overrides)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class _Collector:
    """What a run's events say: each host's recap, the failed tasks, the runner's status changes."""

    on_event: EventHandler | None
    recap: dict[str, HostRecap] = field(default_factory=dict)
    failed: list[dict[str, str]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    def on_status(self, data: dict[str, Any], **_: Any) -> None:
        # The "starting" status carries the run's environment: keep only the name.
        self.statuses.append(str(data.get("status")))

    def on_runner_event(self, event: dict[str, Any]) -> bool:
        data = event.get("event_data", {})
        if event.get("event") == "playbook_on_stats":
            for key in _STATS_KEYS:
                for host, count in (data.get(key) or {}).items():
                    setattr(self.recap.setdefault(host, HostRecap()), key, int(count))
        elif (failure := failure_of(event)) is not None:
            self.failed.append(failure)
        if self.on_event is not None:
            self.on_event(event)
        return True


def _untrusted_file(job: PlaybookJob, pdd: str) -> Path | None:
    """`job`'s untrusted variables as a `!unsafe` vars file in the private folder, or None without any."""
    if not job.untrusted:
        return None
    both = sorted(set(job.untrusted) & set(job.extravars))
    if both:
        raise ValueError(f"{', '.join(both)}: given both as extravars and as untrusted")
    path = Path(pdd) / "untrusted-vars.yml"
    path.touch(mode=0o600)
    path.write_text(unsafe_vars_yaml(job.untrusted), encoding="utf-8")
    return path


def _runner_kwargs(
    job: PlaybookJob, root: Path, pdd: str, artifact_dir: Path, envvars: dict[str, str]
) -> dict[str, Any]:
    """ansible_runner.run's arguments for `job`, less the callbacks."""
    untrusted = _untrusted_file(job, pdd)
    cmdline = (["-e", f"@{untrusted}"] if untrusted else []) + (["--check", "--diff"] if job.check else [])
    kwargs: dict[str, Any] = {
        "private_data_dir": pdd,
        "project_dir": str(root),
        "playbook": str(job.playbook),
        "artifact_dir": str(artifact_dir),
        "ident": job.ident,
        "extravars": dict(job.extravars),
        "envvars": envvars,
        "suppress_env_files": True,
        "quiet": True,
        "rotate_artifacts": 0,
        "verbosity": job.verbosity or None,
    }
    if job.inventory:
        kwargs["inventory"] = list(job.inventory)
    if job.tags:
        kwargs["tags"] = ",".join(job.tags)
    if job.limit:
        kwargs["limit"] = job.limit
    if cmdline:
        kwargs["cmdline"] = shlex.join(cmdline)
    if job.forks:
        kwargs["forks"] = job.forks
    return kwargs


def run_playbook(
    job: PlaybookJob,
    artifact_dir: Path,
    on_event: EventHandler | None = None,
    cancel: Cancel | None = None,
) -> RunResult:
    artifact_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    cancel = cancel or Cancel()
    seen = _Collector(on_event)
    stopped = False

    def cancel_callback() -> bool:
        nonlocal stopped
        if not cancel():
            return False
        if not stopped:
            stopped = True
            terminate_tree(playbook_process_tree())
        return True

    root = project_dir()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mocha-ansible-pdd-") as pdd:
        os.chmod(pdd, 0o700)
        original = dict(os.environ)
        with credential_handoff(original, needed=job.needs_aws) as handoff:
            # ansible-playbook sits beside this interpreter, also when the venv is not activated.
            path = os.pathsep.join([str(Path(sys.executable).parent), original.get("PATH", os.defpath)])
            # ansible-runner gives ansible-playbook a pty, so it colours its output; the CLI shows
            # progress from the events, and the saved stdout is read as text (issue 34 item 10).
            envvars = {"ANSIBLE_CONFIG": str(root / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "PATH": path, **handoff}
            with _scrubbed_environ(envvars):
                result = ansible_runner.run(
                    **_runner_kwargs(job, root, pdd, artifact_dir, envvars),
                    event_handler=seen.on_runner_event,
                    status_handler=seen.on_status,
                    cancel_callback=cancel_callback,
                )
    return RunResult(
        status=str(result.status),
        rc=int(result.rc if result.rc is not None else 1),
        artifact_dir=artifact_dir / job.ident,
        seconds=time.monotonic() - started,
        recap=seen.recap,
        failed_tasks=seen.failed,
        statuses=seen.statuses,
    )
