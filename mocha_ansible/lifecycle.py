"""What happens to a deployment's resources after the pipeline: stop or tear down.

Shared by `teardown`, `provision --after` and `provision --destroy-on-failure`, so a
deployment is deleted the same way whichever command asks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mocha_ansible import aws, results
from mocha_ansible.environment import Aws, Environment
from mocha_ansible.errors import PreflightRefused
from mocha_ansible.invocation import command
from mocha_ansible.progress import Progress
from mocha_ansible.project import playbook, role_yaml
from mocha_ansible.role_vars import matches_role_pattern
from mocha_ansible.runner import Cancel, PlaybookJob, run_playbook
from mocha_ansible.settings import Settings, accepted_text


def regions(first: str, more: Iterable[object] = ()) -> list[str]:
    """Every region a deployment may be in: `first`, then the others, each once (non-names dropped)."""
    return list(dict.fromkeys(r for r in (first, *more) if isinstance(r, str)))


def recorded_regions(runs_root: Path, default: str) -> list[str]:
    """The default region plus every region an earlier run could use.

    Capacity failover may have put a fleet in a fallback region; status and teardown
    must look there too, or it would bill unseen.
    """
    found: list[object] = []
    for run in results.list_runs(runs_root):
        extravars = run.record.get("extravars", {})
        found += [extravars.get("ec2_gpu_region", default), *extravars.get("ec2_gpu_regions", [])]
    return regions(default, found)


@dataclass
class TeardownResult:
    ok: bool
    left: list[aws.Footprint] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)


def _role_vars(region: str, deployment: str | None, key_dir: Path, state: str, owner: str | None) -> dict[str, Any]:
    """The role's variables; owner None (teardown --all-owners) reaches every owner's resources."""
    extravars: dict[str, Any] = {
        "ec2_gpu_region": region,
        "ec2_gpu_state": state,
        "ec2_gpu_key_dir": str(key_dir),
    }
    if owner is None:
        extravars["ec2_gpu_all_owners"] = True
    else:
        extravars["ec2_gpu_owner"] = owner
    if deployment:
        extravars["ec2_gpu_deployment"] = deployment
    return extravars


def tagged_deployments(region: str, owner: str | None, say: Callable[[str], None]) -> list[str]:
    """The deployments that `owner`'s (None: everyone's) tags name in `region`, each a name --deployment accepts.

    A tag is anyone's text: whoever holds the project policy may retag the project's resources,
    and EC2 takes any character. One that is no deployment name is skipped, said on one line
    with the value escaped; its resources stay, and teardown reports them as left over.
    """
    names = []
    for name in aws.footprint(region, owner=owner).deployments:
        if not name:
            continue  # carries the project tag but no deployment: reported as left over
        if matches_role_pattern("ec2_gpu_deployment", name):
            names.append(name)
        else:
            say(
                f"teardown: skipped deployment tag {name!r} in {region}: not a deployment name, so its resources"
                f" are left (delete or retag them by hand); accepted: {accepted_text('deployment')}"
            )
    return names


def teardown(
    regions: list[str],
    deployment: str | None,
    *,
    owner: str | None,
    key_dir: Path,
    progress: Progress,
    run_dir: Path,
    cancel: Cancel,
    environment: Environment | None = None,
    amis: bool = False,
) -> TeardownResult:
    """Delete `owner`'s tagged resources in `regions` (one deployment, or all), then recount.

    owner None is everyone's: only `teardown --all-owners` asks for that.
    """
    ok = True
    for region in regions:
        # The role deletes one deployment at a time; "all" is every one found by tag.
        names = [deployment] if deployment else tagged_deployments(region, owner, progress.message)
        for name in names:
            job = PlaybookJob(
                playbook=playbook("teardown.yml"),
                ident=f"teardown-{region}-{name}",
                extravars={**_role_vars(region, None, key_dir, "absent", owner), "ec2_gpu_delete_amis": amis},
                untrusted={"ec2_gpu_deployment": name},
            )
            ok = run_playbook(job, run_dir / "ansible", on_event=progress.on_event, cancel=cancel).ok and ok
            if cancel.requested is not None:
                return TeardownResult(False)
    removed = (environment or Aws()).after_teardown(deployment)
    after = (aws.footprint(r, deployment, owner) for r in regions)
    left = [fp for fp in after if not fp.empty or (amis and fp.images)]
    return TeardownResult(ok and not left, left, removed)


def power(
    regions: list[str],
    deployment: str,
    state: str,
    *,
    owner: str,
    key_dir: Path,
    progress: Progress,
    run_dir: Path,
    cancel: Cancel,
) -> bool:
    """Bring `owner`'s instances of a deployment to `running` or `stopped`, in whichever of `regions` they are."""
    extravars = {**_role_vars(regions[0], deployment, key_dir, state, owner), "ec2_gpu_regions": regions[1:]}
    job = PlaybookJob(playbook=playbook("power.yml"), ident=f"power-{state}", extravars=extravars)
    return run_playbook(job, run_dir / "ansible", on_event=progress.on_event, cancel=cancel).ok


TAG_MAX_HOURS = "mocha-ansible:max-hours"
# The hours `provision --max-hours` accepts, declared once (Settings.max_hours): start's
# --max-hours and an instance's max-hours tag are judged by the same range.
_MAX_HOURS = TypeAdapter(Settings.model_fields["max_hours"].rebuild_annotation())


def max_hours(value: str) -> float:
    """A max_hours value as provision accepts it; ValueError naming the value and the accepted range."""
    try:
        return float(_MAX_HOURS.validate_python(float(value)))
    except (ValueError, ValidationError):
        raise ValueError(f"{value!r} is not accepted; accepted: {accepted_text('max_hours')}") from None


# Only a stopped (or stopping) instance is re-armed: a running one keeps its deadline, so
# `start` never quietly extends the cap of an instance that is already billing.
REARMABLE_STATES = ("stopped", "stopping")


@dataclass
class Rearm:
    """What `start` does to one instance's cost guard: its new deadline, or why it keeps the old one."""

    instance: aws.Instance
    deadline: datetime | None = None  # the new deadline; None: not moved
    kept: str = ""  # why it was not moved ("" when it was)


def rearm_plan(instances: list[aws.Instance], max_hours: float | None, now: datetime) -> list[Rearm]:
    """Each instance's new deadline, now + max_hours (default: its own max-hours tag); nothing is changed.

    Kept as it is: a running instance, one without a guard (launched with the guard off: no deadline
    tag), and one whose guard cannot see its tags (launched before the guard read them, or with a tag
    key instance metadata refuses); that last one is refused once its deadline has passed.
    """
    plans = []
    for inst in instances:
        if inst.state not in REARMABLE_STATES:
            plans.append(Rearm(inst, kept=f"{inst.state}: deadline not moved"))
        elif inst.expires is None:
            plans.append(Rearm(inst, kept="no cost guard (launched with it off)"))
        elif not inst.imds_tags:
            if inst.expires <= now:
                raise PreflightRefused(
                    f"start: {inst.instance_id} was launched without tags in instance metadata, so its cost guard "
                    f"cannot see a new deadline, and its deadline {_iso(inst.expires)} has passed: the guard would "
                    "power it off, and terminate it, 30 s after boot",
                    fix=command("teardown", "--deployment", inst.deployment) + ", then provision again",
                )
            plans.append(Rearm(inst, kept="its guard cannot read tags (launched without them in metadata): not moved"))
        else:
            hours = max_hours if max_hours is not None else _tagged_hours(inst)
            plans.append(Rearm(inst, deadline=(now + timedelta(hours=hours)).replace(microsecond=0)))
    return plans


def _tagged_hours(inst: aws.Instance) -> float:
    raw = inst.tags.get(TAG_MAX_HOURS, "")
    try:
        return max_hours(raw)
    except ValueError:
        raise PreflightRefused(
            f"start: {inst.instance_id}'s {TAG_MAX_HOURS} tag is {raw!r}, not max_hours that provision accepts "
            f"({accepted_text('max_hours')}), so start cannot re-arm its cost guard from it",
            fix=command("start", "--max-hours", "H"),
        ) from None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime(aws.DEADLINE_FORMAT)


def rearm(plans: list[Rearm]) -> None:
    """Write each new deadline into the instance's mocha-ansible:deadline tag (its guard reads it at boot)."""
    for plan in plans:
        if plan.deadline is None:
            continue
        ec2 = aws.client("ec2", plan.instance.region)
        try:
            ec2.create_tags(
                Resources=[plan.instance.instance_id], Tags=[{"Key": aws.TAG_DEADLINE, "Value": _iso(plan.deadline)}]
            )
        except Exception as exc:
            raise aws.explain(exc, f"re-arming the cost guard of {plan.instance.instance_id}") from None


def bake(
    region: str,
    deployment: str,
    name: str,
    tags: dict[str, str],
    *,
    owner: str,
    key_dir: Path,
    progress: Progress,
    run_dir: Path,
    cancel: Cancel,
) -> dict[str, Any] | None:
    """An AMI of `owner`'s oldest instance of the deployment; its id, name and source, or None on failure."""
    extravars = {**_role_vars(region, deployment, key_dir, "baked", owner), "ec2_gpu_results_dir": str(run_dir)}
    # The name and tags hold versions a host reported (converged_versions): data, never rendered.
    untrusted = {"ec2_gpu_bake_name": name, "ec2_gpu_bake_tags": tags}
    job = PlaybookJob(playbook=playbook("bake.yml"), ident="bake", extravars=extravars, untrusted=untrusted)
    if not run_playbook(job, run_dir / "ansible", on_event=progress.on_event, cancel=cancel).ok:
        return None
    report: dict[str, Any] = json.loads((run_dir / "ec2_gpu_bake.json").read_text(encoding="utf-8"))
    return report


def converged_versions(runs_root: Path, deployment: str) -> dict[str, str] | None:
    """Julia and Mocha versions of the newest successful provision of `deployment`.

    They come from a host's results.json, so each is judged as what mocha_cifar writes there
    (_version_problem); a value it would never write is refused, naming the file.
    """
    for run in reversed(results.list_runs(runs_root)):
        extravars = run.record.get("extravars", {})
        if run.status != "ok" or extravars.get("ec2_gpu_deployment", "default") != deployment:
            continue
        for host, files in results.host_reports(run.path).items():
            trained = files.get("results")
            if isinstance(trained, dict) and trained.get("julia") and trained.get("mocha"):
                versions = {"julia": trained["julia"], "mocha": trained["mocha"]}
                for key, value in versions.items():
                    if problem := _version_problem(key, value):
                        raise PreflightRefused(
                            f"bake: {run.path / 'hosts' / host / 'results.json'} gives {key} {value!r}, {problem}",
                            fix=command("provision", "--deployment", deployment) + ", so its host reports again",
                        )
                return {key: str(value) for key, value in versions.items()}
    return None


def _version_problem(key: str, value: object) -> str | None:
    """Why results.json's julia or mocha is not what mocha_cifar writes there, or None.

    julia: the Julia minor the role found, which its preflight holds to a row of its compat
    table; mocha: the release it pinned, as its mocha_cifar_version pattern judges one.
    """
    if key == "julia":
        minors = sorted(role_yaml("mocha_cifar", "vars/mocha_compat.yml")["mocha_cifar_compat"])
        return None if value in minors else f"not a Julia minor mocha_cifar runs; accepted: one of {', '.join(minors)}"
    if value and matches_role_pattern("mocha_cifar_version", value):
        return None
    return "not a Mocha release; accepted: a release number such as 0.2.0 (mocha_cifar_version's pattern)"


def bake_label(deployment: str, versions: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A baked AMI's name (deployment, versions, time: unique and sortable) and the version tags it carries."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"mocha-ansible-{deployment}-julia-{versions['julia']}-mocha-{versions['mocha']}-{stamp}"
    return name, {"mocha-ansible:julia": versions["julia"], "mocha-ansible:mocha": versions["mocha"]}
