"""Checks run before anything billable exists, and the plan printed from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from mocha_ansible import aws
from mocha_ansible.errors import PreflightRefused
from mocha_ansible.settings import Settings


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str | None = None


@dataclass
class Plan:
    checks: list[Check] = field(default_factory=list)
    creates: list[str] = field(default_factory=list)
    stages: tuple[str, ...] = ()

    @property
    def refused(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "checks": [vars(c) for c in self.checks],
            "creates": self.creates,
            "stages": list(self.stages),
        }


def _offering(settings: Settings) -> Check:
    ec2 = aws.client("ec2", settings.region)
    try:
        offers = ec2.describe_instance_type_offerings(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": [settings.instance_type]}],
        )["InstanceTypeOfferings"]
    except Exception as exc:
        raise aws.explain(exc, "checking the instance-type offering") from None
    if offers:
        zones = sorted(o["Location"] for o in offers)
        return Check("offering", "ok", f"{settings.instance_type} is offered in {', '.join(zones)}")
    # An empty answer means "not offered" on AWS, but an endpoint whose catalogue
    # lacks the type (moto has no p2.xlarge) cannot tell: then only warn.
    try:
        ec2.describe_instance_types(InstanceTypes=[settings.instance_type])
    except botocore.exceptions.ClientError:
        return Check(
            "offering",
            "warn",
            f"the endpoint does not know {settings.instance_type}; offering not confirmed",
        )
    return Check(
        "offering",
        "fail",
        f"{settings.instance_type} is not offered in any zone of {settings.region}",
        fix="pick another --region or --instance-type (g4dn.xlarge is widely offered)",
    )


def _ami(settings: Settings) -> Check:
    if not settings.ami.startswith("ami-"):
        return Check("ami", "ok", f"preset {settings.ami} is resolved to the newest match at launch")
    ec2 = aws.client("ec2", settings.region)
    try:
        images = ec2.describe_images(ImageIds=[settings.ami])["Images"]
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code.startswith("InvalidAMIID"):
            images = []
        else:
            raise aws.explain(exc, "looking up the AMI") from None
    if not images:
        return Check(
            "ami",
            "fail",
            f"AMI {settings.ami} does not exist in {settings.region}",
            fix="pass --ami with an id from that region",
        )
    return Check("ami", "ok", f"{settings.ami}: {images[0].get('Name', '')}")


def run_preflight(settings: Settings) -> Plan:
    plan = Plan(stages=settings.stages)
    if settings.target is not None:
        plan.checks.append(Check("target", "ok", f"configuring existing host {settings.target}; EC2 is skipped"))
        return plan
    ident = aws.caller_identity(settings.region)
    plan.checks.append(Check("credentials", "ok", f"account {ident['account']} as {ident['arn']}"))
    if "provision" in settings.stages:
        plan.checks.append(_offering(settings))
        plan.checks.append(_ami(settings))
        n = settings.count
        plan.creates = [
            f"{n} x {settings.instance_type} in {settings.region}"
            + (" (spot)" if settings.spot else "")
            + f", self-terminating after {settings.max_hours:g} h",
            "1 security group: SSH from " + (settings.ssh_cidr or "your address (/32, detected)"),
            "1 key pair" if not settings.key_name else f"no key pair (using existing {settings.key_name})",
        ]
    return plan


def enforce(plan: Plan) -> None:
    if plan.refused:
        first = plan.refused[0]
        raise PreflightRefused(f"preflight: {first.name}: {first.detail}", fix=first.fix)
