"""Settings -> one ansible-runner call of playbooks/site.yml -> per-stage results.

With --target the hosts exist already, and playbooks/configure.yml (the host
stages alone) is run instead. With --sandbox it is playbooks/sandbox.yml: site.yml
with a local container standing in for each emulated instance.

The whole pipeline is one playbook run, so the in-memory `gpu_instances` group that
the provision stage fills reaches the later stages. Stages are selected with tags
(each stage playbook tags its plays with the stage name) and told apart in the
event stream by their play names, which start with "<Stage>:".
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mocha_ansible.environment import Aws, Environment
from mocha_ansible.progress import Progress, StageResult
from mocha_ansible.project import playbook, project_dir
from mocha_ansible.runner import Cancel, HostRecap, PlaybookJob, RunResult, failure_of, run_playbook
from mocha_ansible.settings import Settings


@dataclass
class PipelineResult:
    run: RunResult
    stages: list[StageResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.run.ok

    @property
    def recap(self) -> dict[str, HostRecap]:
        return self.run.recap


class _StageTracker:
    """Turns play-start events into stage transitions for the progress display."""

    def __init__(self, progress: Progress, stages: tuple[str, ...]) -> None:
        self.progress = progress
        self.stages = stages
        self.done: list[StageResult] = []
        self._current: str | None = None
        self._started = 0.0
        self._changed = 0
        self._failed: list[dict[str, str]] = []

    def on_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        data = event.get("event_data", {})
        if name == "playbook_on_play_start":
            stage = str(data.get("play", "")).split(":", 1)[0].strip().lower()
            if stage in self.stages and stage != self._current:
                self.close("ok")
                self._current, self._started = stage, time.monotonic()
                self._changed, self._failed = 0, []
                self.progress.stage_started(stage)
        elif name == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            self._changed += 1
        elif (failure := failure_of(event)) is not None:
            self._failed.append(failure)
        self.progress.on_event(event)

    def close(self, status: str) -> None:
        if self._current is None:
            return
        if self._failed and status == "ok":
            status = "failed"
        result = StageResult(self._current, status, time.monotonic() - self._started, self._changed, self._failed)
        self.done.append(result)
        self.progress.stage_finished(result)
        self._current = None


def target_inventory(settings: Settings, run_dir: Path) -> Path:
    """An inventory with the --target host in group gpu_instances (no secrets in it)."""
    assert settings.target is not None
    host_vars: dict[str, Any]
    if settings.target == "localhost":
        name = "localhost"
        host_vars = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    else:
        user, _, host = settings.target.rpartition("@")
        name = host
        host_vars = {"ansible_host": host}
        if user:
            host_vars["ansible_user"] = user
        if settings.ssh_key:
            host_vars["ansible_ssh_private_key_file"] = str(Path(settings.ssh_key).expanduser().resolve())
    inventory = {"all": {"children": {"gpu_instances": {"hosts": {name: host_vars}}}}}
    path = run_dir / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def build_job(
    settings: Settings, run_dir: Path, check: bool, verbosity: int = 0, environment: Environment | None = None
) -> PlaybookJob:
    extravars = settings.to_extravars()
    extravars["mocha_results_dir"] = str(run_dir / "hosts")
    tags: list[str] = list(settings.stages)
    inventory = [str(project_dir() / "inventory" / "hosts.yml")]
    env = environment or Aws()
    book = env.playbook
    if settings.target is not None:
        book = "configure.yml"  # no EC2, so no AWS collection needs to be installed
        tags = [s for s in tags if s != "provision"]
        # Already root on the controller: sudo would only be one more thing to need.
        if settings.target == "localhost" and os.geteuid() == 0:
            extravars["mocha_become"] = False
        inventory.append(str(target_inventory(settings, run_dir)))
    else:
        extravars.update(env.role_overrides(settings))
        if "provision" not in tags:
            # Later stages on instances launched by an earlier run: find them by tag.
            tags.append("discover")
    return PlaybookJob(
        playbook=playbook(book),
        ident="site",
        extravars=extravars,
        inventory=tuple(inventory),
        tags=tuple(tags),
        check=check,
        verbosity=verbosity,
        forks=max(5, settings.count),
        needs_aws=settings.target is None,
    )


def run_pipeline(
    settings: Settings,
    progress: Progress,
    run_dir: Path,
    *,
    cancel: Cancel,
    check: bool = False,
    verbosity: int = 0,
    environment: Environment | None = None,
) -> PipelineResult:
    tracker = _StageTracker(progress, settings.stages)
    job = build_job(settings, run_dir, check, verbosity, environment)
    run = run_playbook(job, run_dir / "ansible", on_event=tracker.on_event, cancel=cancel)
    if run.status == "canceled":
        tracker.close("interrupted")
    else:
        tracker.close("ok" if run.ok else "failed")
    return PipelineResult(run, tracker.done)
