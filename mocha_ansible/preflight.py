"""Checks run before anything billable exists, and the plan printed from them.

The quota, offering and cost logic is ec2_gpu's own (roles/ec2_gpu/module_utils/
ec2_gpu_capacity.py, with its table in roles/ec2_gpu/vars/instance_types.yml); this
module calls it, so the CLI and a bare ansible-playbook run judge alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import botocore
import botocore.exceptions

from mocha_ansible import aws, route
from mocha_ansible.environment import Aws, Environment
from mocha_ansible.errors import ConfigError, PreflightRefused
from mocha_ansible.project import role_python, role_yaml
from mocha_ansible.role_vars import instance_type_facts, role_defaults, truthy
from mocha_ansible.route_model import Link, Route
from mocha_ansible.settings import Settings

# A check has a route link's shape (name, status "ok"/"warn"/"fail", detail, fix): the
# plan lists the route's links among its checks.
Check = Link


@dataclass
class Plan:
    checks: list[Check] = field(default_factory=list)
    creates: list[str] = field(default_factory=list)
    stages: tuple[str, ...] = ()
    cost: dict[str, Any] = field(default_factory=dict)
    route: Route | None = None

    @property
    def refused(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "checks": [vars(c) for c in self.checks],
            "creates": self.creates,
            "stages": list(self.stages),
            "cost": self.cost,
            "route": self.route.as_dict() if self.route else None,
        }


def _capacity() -> Any:
    return role_python("ec2_gpu", "module_utils/ec2_gpu_capacity.py")


def _offering(settings: Settings, ec2: Any) -> Check:
    try:
        zones = _capacity().offered_zones(ec2, settings.instance_type)
    except Exception as exc:
        raise aws.explain(exc, "checking the instance-type offering") from None
    if zones is None:
        return Check("offering", "warn", f"the endpoint does not know {settings.instance_type}; offering not confirmed")
    if zones:
        return Check("offering", "ok", f"{settings.instance_type} is offered in {', '.join(zones)}")
    return Check(
        "offering",
        "fail",
        f"{settings.instance_type} is not offered in any zone of {settings.region}",
        fix="pick another --region or --instance-type (g4dn.xlarge is widely offered)",
    )


def _quota(settings: Settings, ec2: Any) -> Check:
    capacity = _capacity()
    table = instance_type_facts()["ec2_gpu_instance_types"]
    vcpus, _source = capacity.vcpus_of(ec2, settings.instance_type, table)
    # A best-effort read: an endpoint without Service Quotas must not cost a minute of retries.
    quotas = aws.client("service-quotas", settings.region, attempts=2)
    verdict = capacity.check_quota(quotas, settings.instance_type, settings.spot, settings.count, vcpus)
    label = f"{verdict['code']} ({verdict['name']})"
    if verdict["status"] == "ok":
        return Check("quota", "ok", f"{label} is {verdict['value']} vCPUs; {verdict['needed']} needed")
    if verdict["status"] == "unavailable":
        return Check("quota", "warn", f"{label}: {verdict.get('message', 'not checked')}")
    return Check("quota", "fail", verdict["message"], fix=f"request quota {verdict['code']}, then run this again")


def _ami(settings: Settings, ec2: Any) -> tuple[Check, dict[str, Any] | None]:
    """The AMI check, and the image it found (None when it found none now)."""
    if not settings.ami.startswith("ami-"):
        return _ami_preset(settings, ec2)
    try:
        images = ec2.describe_images(Filters=[{"Name": "image-id", "Values": [settings.ami]}])["Images"]
    except botocore.exceptions.ClientError as exc:
        raise aws.explain(exc, "looking up the AMI") from None
    if not images:
        return Check(
            "ami",
            "fail",
            f"AMI {settings.ami} does not exist in {settings.region}",
            fix="pass --ami with an id from that region",
        ), None
    return Check("ami", "ok", f"{settings.ami}: {images[0].get('Name', '')}"), images[0]


def _ami_preset(settings: Settings, ec2: Any) -> tuple[Check, dict[str, Any] | None]:
    """The image a preset names today, as ec2_gpu's ami.yml looks it up, so the plan shows the AMI id.

    Only informative: the role looks again at launch (a newer image may appear) and fails there when none matches.
    """
    later = Check("ami", "ok", f"preset {settings.ami} is resolved to the newest match at launch")
    preset = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_ami_presets"].get(settings.ami) or {}
    if not preset.get("name") or not preset.get("owner"):
        return later, None
    try:
        images = ec2.describe_images(
            Owners=[str(preset["owner"])], Filters=[{"Name": "name", "Values": [str(preset["name"])]}]
        )["Images"]
    except botocore.exceptions.ClientError:
        return later, None
    if not images:
        return later, None
    newest: dict[str, Any] = max(images, key=lambda image: str(image.get("CreationDate", "")))
    detail = f"{newest['ImageId']}: {newest.get('Name', '')} (preset {settings.ami}'s newest match now)"
    return Check("ami", "ok", detail), newest


def _root_volume(settings: Settings, image: dict[str, Any] | None) -> tuple[Check, str]:
    """Each instance's root volume against the image's root snapshot, by ec2_gpu's own rule (its filter):
    the check, and the plan's line for the volume.

    A volume below the snapshot is bad input (exit 2, nothing created): EC2 would refuse the launch.
    """
    rule = role_python("ec2_gpu", "filter_plugins/ec2_gpu_image.py")
    size, kind, encrypted = (_role_var(settings, f"ec2_gpu_root_volume_{key}") for key in ("size", "type", "encrypted"))
    problem = rule.ec2_gpu_root_volume_problem(image or {}, int(size))
    if problem:
        raise ConfigError(f"preflight: {problem}")
    snapshot = int(rule.ec2_gpu_root_snapshot(image or {})["gib"])
    which = str((image or {}).get("ImageId", "the image"))
    fits = (
        f"fits {which}'s {snapshot} GiB root snapshot" if snapshot else "the image's root snapshot is checked at launch"
    )
    check = Check("root volume", "ok", f"{int(size)} GiB {fits}" if snapshot else f"{int(size)} GiB; {fits}")
    line = f"{int(size)} GiB {kind} root volume{', encrypted' if truthy(encrypted) else ''}, deleted with its instance"
    return check, line + (f" (the image's root snapshot: {snapshot} GiB)" if snapshot else "")


def _role_var(settings: Settings, var: str) -> Any:
    """A role variable this run gives ec2_gpu: -e's value, else the role's default."""
    return settings.extra_vars.get(var, role_defaults()[var])


_DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException")


def _permissions(settings: Settings, ec2: Any) -> Check:
    """EC2's DryRun answers "you may" or "you may not" for the calls that create things."""
    probes: list[tuple[str, dict[str, Any]]] = [
        ("CreateSecurityGroup", {"GroupName": "mocha-ansible-dry-run", "Description": "permission check"}),
        ("CreateKeyPair", {"KeyName": "mocha-ansible-dry-run"}),
    ]
    if settings.ami.startswith("ami-"):
        run = {"ImageId": settings.ami, "InstanceType": settings.instance_type, "MinCount": 1, "MaxCount": 1}
        probes.insert(0, ("RunInstances", run))
    missing, unsure = [], []
    for action, params in probes:
        call = getattr(ec2, botocore.xform_name(action))
        try:
            call(DryRun=True, **params)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _DENIED:
                missing.append(f"ec2:{action}")
            elif code != "DryRunOperation":
                unsure.append(f"ec2:{action} ({code})")
    if missing:
        return Check(
            "permissions",
            "fail",
            f"missing permission {', '.join(missing)}",
            fix="attach docs/iam-policy.json to your user or role",
        )
    if unsure:
        return Check("permissions", "warn", f"dry run inconclusive for {', '.join(unsure)}")
    return Check("permissions", "ok", f"dry runs allowed: {', '.join('ec2:' + a for a, _ in probes)}")


def _cost(settings: Settings) -> dict[str, Any]:
    facts = instance_type_facts()
    estimate: dict[str, Any] = _capacity().cost_estimate(
        settings.instance_type,
        settings.count,
        settings.max_hours,
        facts["ec2_gpu_instance_types"],
        facts["ec2_gpu_price_date"],
    )
    return estimate


def judge_route(settings: Settings, environment: Environment | None = None) -> Route:
    """The whole chain, before any AWS call; a broken link is bad input (exit 2), nothing created."""
    env = environment or Aws()
    chosen = route.evaluate(settings, host_gcc=env.host_gcc, sandbox=env.emulated)
    if chosen.broken:
        link = chosen.broken[0]
        raise ConfigError(f"route: {link.name}: {link.detail}", fix=link.fix)
    return chosen


def run_preflight(settings: Settings, environment: Environment | None = None, chosen: Route | None = None) -> Plan:
    """The checks and the plan. `chosen`: the route already judged (on the stages the user asked for)."""
    plan = Plan(stages=settings.stages)
    plan.route = chosen or judge_route(settings, environment)
    plan.checks += [Check(link.name, link.status, link.detail, link.fix) for link in plan.route.links]
    if settings.target is not None:
        plan.checks.append(Check("target", "ok", f"configuring existing host {settings.target}; EC2 is skipped"))
        return plan
    ident = aws.caller_identity(settings.region)
    plan.checks.append(Check("credentials", "ok", f"account {ident['account']} as {ident['arn']}"))
    if "provision" not in settings.stages:
        return plan
    ec2 = aws.client("ec2", settings.region)
    ami, image = _ami(settings, ec2)
    volume, volume_line = _root_volume(settings, image)
    plan.checks += [_permissions(settings, ec2), _offering(settings, ec2), _quota(settings, ec2), ami, volume]
    plan.cost = _cost(settings)
    n = settings.count
    plan.creates = [
        f"{n} x {settings.instance_type} in {settings.region}"
        + (" (spot)" if settings.spot else "")
        + f", self-terminating after {settings.max_hours:g} h",
        f"{n} x {volume_line}",
        "1 security group: SSH from " + (settings.ssh_cidr or "your address (/32, detected)"),
        "1 key pair" if not settings.key_name else f"no key pair (using existing {settings.key_name})",
    ]
    return plan


def enforce(plan: Plan) -> None:
    if plan.refused:
        first = plan.refused[0]
        raise PreflightRefused(f"preflight: {first.name}: {first.detail}", fix=first.fix)
