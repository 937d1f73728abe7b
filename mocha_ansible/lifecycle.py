"""What happens to a deployment's resources after the pipeline: stop or tear down.

Shared by `teardown`, `provision --after` and `provision --destroy-on-failure`, so a
deployment is deleted the same way whichever command asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mocha_ansible import aws, sandbox
from mocha_ansible.progress import Progress
from mocha_ansible.project import playbook
from mocha_ansible.runner import Cancel, PlaybookJob, run_playbook


@dataclass
class TeardownResult:
    ok: bool
    left: list[aws.Footprint] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)


def _role_vars(region: str, deployment: str | None, key_dir: Path, state: str) -> dict[str, Any]:
    extravars: dict[str, Any] = {
        "ec2_gpu_region": region,
        "ec2_gpu_state": state,
        "ec2_gpu_key_dir": str(key_dir),
    }
    if deployment:
        extravars["ec2_gpu_deployment"] = deployment
    return extravars


def teardown(
    regions: list[str],
    deployment: str | None,
    *,
    key_dir: Path,
    progress: Progress,
    run_dir: Path,
    cancel: Cancel,
    sandbox_mode: bool = False,
) -> TeardownResult:
    """Delete every tagged resource in `regions` (one deployment, or all), then recount."""
    ok = True
    for region in regions:
        # The role deletes one deployment at a time; "all" is every one found by tag.
        names = [deployment] if deployment else aws.footprint(region).deployments
        for name in names:
            if not name:
                continue  # carries the project tag but no deployment: reported as left over
            job = PlaybookJob(
                playbook=playbook("teardown.yml"),
                ident=f"teardown-{region}-{name}",
                extravars=_role_vars(region, name, key_dir, "absent"),
            )
            ok = run_playbook(job, run_dir / "ansible", on_event=progress.on_event, cancel=cancel).ok and ok
            if cancel.requested is not None:
                return TeardownResult(False)
    removed = sandbox.remove_containers(deployment) if sandbox_mode else []
    left = [fp for fp in (aws.footprint(r, deployment) for r in regions) if not fp.empty]
    return TeardownResult(ok and not left, left, removed)


def power(
    regions: list[str], deployment: str, state: str, *, key_dir: Path, progress: Progress, run_dir: Path, cancel: Cancel
) -> bool:
    """Bring a deployment's instances to `running` or `stopped`, in whichever of `regions` they are."""
    extravars = {**_role_vars(regions[0], deployment, key_dir, state), "ec2_gpu_regions": regions[1:]}
    job = PlaybookJob(playbook=playbook("power.yml"), ident=f"power-{state}", extravars=extravars)
    return run_playbook(job, run_dir / "ansible", on_event=progress.on_event, cancel=cancel).ok
