"""boto3 access for preflight, status and teardown queries.

Credentials come from the standard chain (environment, profile, SSO, instance
role) and the endpoint from botocore's own AWS_ENDPOINT_URL handling, so real AWS
and the emulator take the same code path. Every tag lookup goes through
`tag_filters`, which mirrors the tags the ec2_gpu role writes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

from mocha_ansible.errors import ConfigError, MochaAnsibleError, PreflightRefused
from mocha_ansible.project import role_yaml

# The tags ec2_gpu writes on everything and finds it by, in the role's order
# (project, deployment, owner): read from the role, so a lookup here never drifts from it.
_LOOKUP_TAGS: dict[str, str] = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_lookup_tags"]
TAG_PROJECT, TAG_DEPLOYMENT, TAG_OWNER = _LOOKUP_TAGS
PROJECT_TAG = _LOOKUP_TAGS[TAG_PROJECT]
# The cost guard's absolute deadline (ISO 8601, UTC), fixed at launch: EC2's LaunchTime
# moves on every stop/start, so launch + max-hours is not it.
TAG_DEADLINE = "mocha-ansible:deadline"
# The deadline tag's value, as ec2_gpu writes it at launch and `start` when it re-arms.
DEADLINE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# What the instance's guard prints to the serial console at each check (user-data.sh.j2).
_GUARD_LINE = re.compile(r"mocha-ansible-guard: (armed|fired|idle|broken|one-shot)\b")

_RETRY = Config(connect_timeout=10, read_timeout=60)


_LOADER: list[Any] = []  # botocore's data loader, shared by every session of this process


def botocore_session() -> botocore.session.Session:
    """A new botocore session (credentials and endpoint read afresh) on the process's one data loader.

    The loader caches what it parsed (service models, endpoints.json), so a second client
    costs about 0.05 s instead of 0.4 s.
    """
    core = botocore.session.Session()
    if _LOADER:
        core.register_component("data_loader", _LOADER[0])
        return core
    try:
        _LOADER.append(core.get_component("data_loader"))
    except botocore.exceptions.BotoCoreError as exc:  # the first read of the user's profile
        raise explain(exc, "reading the AWS settings") from None
    return core


def client(service: str, region: str, attempts: int = 5) -> Any:
    """A boto3 client; the endpoint is whatever botocore resolves (AWS_ENDPOINT_URL included).

    Throttling (RequestLimitExceeded) is retried with backoff by botocore's standard mode.
    """
    config = _RETRY.merge(Config(retries={"mode": "standard", "max_attempts": attempts}))
    try:
        session = boto3.session.Session(botocore_session=botocore_session(), region_name=region)
        return session.client(service, config=config)  # type: ignore[call-overload]
    except (botocore.exceptions.BotoCoreError, ValueError) as exc:
        # The user's AWS settings (profile, config file, endpoint URL) are read here.
        raise explain(exc, f"connecting to AWS {service} in {region}", service) from None


def tag_filters(deployment: str | None = None, owner: str | None = None) -> list[dict[str, Any]]:
    """Project resources; of one deployment, and of one owner (None: everyone's)."""
    filters = [{"Name": f"tag:{TAG_PROJECT}", "Values": [PROJECT_TAG]}]
    if deployment is not None:
        filters.append({"Name": f"tag:{TAG_DEPLOYMENT}", "Values": [deployment]})
    if owner is not None:
        filters.append({"Name": f"tag:{TAG_OWNER}", "Values": [owner]})
    return filters


def explain(exc: Exception, action: str, service: str = "ec2") -> MochaAnsibleError:
    """One line for an AWS failure, naming what to do (and the IAM action it lacked)."""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return PreflightRefused(
            f"{action}: no AWS credentials found",
            fix="run `aws configure` or `aws sso login`, or export AWS_PROFILE",
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return MochaAnsibleError(
            f"{action}: cannot reach the AWS endpoint ({exc})", fix="check the network or AWS_ENDPOINT_URL"
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        msg = exc.response.get("Error", {}).get("Message", "")
        if code in (
            "ExpiredToken",
            "RequestExpired",
            "InvalidClientTokenId",
            "AuthFailure",
            "UnrecognizedClientException",
        ):
            return PreflightRefused(
                f"{action}: AWS rejected the credentials ({code})", fix="refresh them, e.g. `aws sso login`"
            )
        if code in ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException"):
            return PreflightRefused(
                f"{action}: missing permission {service}:{exc.operation_name} ({code})",
                fix="attach docs/iam-policy.json to your user or role",
            )
        return MochaAnsibleError(f"{action}: AWS error {code}: {msg}")
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return ConfigError(
            f"{action}: AWS_PROFILE={exc.kwargs.get('profile')!r} is not a profile of ~/.aws/config or "
            "~/.aws/credentials (accepted: a profile defined there, or AWS_PROFILE unset)",
            fix=f"aws configure --profile {exc.kwargs.get('profile')}, or unset AWS_PROFILE",
        )
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return ConfigError(f"{action}: no AWS region is set", fix="pass --region, or export AWS_DEFAULT_REGION")
    if isinstance(exc, botocore.exceptions.PartialCredentialsError):
        return ConfigError(f"{action}: {exc}", fix="set both the access key id and the secret key, or neither")
    if isinstance(exc, (botocore.exceptions.SSOError, botocore.exceptions.TokenRetrievalError)):
        return PreflightRefused(f"{action}: the AWS SSO session is missing or expired ({exc})", fix="aws sso login")
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return MochaAnsibleError(f"{action}: {exc}")
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return ConfigError(
            f"{action}: {exc} (accepted: an http:// or https:// URL in AWS_ENDPOINT_URL, or none)",
            fix="correct or unset AWS_ENDPOINT_URL",
        )
    raise exc


def caller_identity(region: str) -> dict[str, str]:
    try:
        ident = client("sts", region).get_caller_identity()
    except Exception as exc:
        raise explain(exc, "checking credentials", service="sts") from None
    return {"account": str(ident.get("Account", "")), "arn": str(ident.get("Arn", ""))}


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


@dataclass
class Instance:
    region: str
    instance_id: str
    instance_type: str
    state: str
    public_ip: str | None
    private_ip: str | None
    launch_time: datetime | None
    tags: dict[str, str]
    # Launched with instance_metadata_tags enabled: its cost guard can read a moved deadline tag.
    imds_tags: bool = False
    # A spot instance; the project launches one-time spot only (ec2_gpu's spot.yml), which EC2 cannot stop.
    spot: bool = False

    @property
    def deployment(self) -> str:
        return self.tags.get(TAG_DEPLOYMENT, "")

    @property
    def owner(self) -> str:
        return self.tags.get(TAG_OWNER, "")

    @property
    def expires(self) -> datetime | None:
        """The cost guard's deadline, from the tag set at launch; None without a guard."""
        try:
            return datetime.strptime(self.tags[TAG_DEADLINE], DEADLINE_FORMAT).replace(tzinfo=UTC)
        except (KeyError, ValueError):
            return None

    def uptime_hours(self, now: datetime | None = None) -> float:
        if self.launch_time is None or self.state not in ("pending", "running"):
            return 0.0
        now = now or datetime.now(UTC)
        return max(0.0, (now - self.launch_time).total_seconds() / 3600)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "id": self.instance_id,
            "type": self.instance_type,
            "state": self.state,
            "public_ip": self.public_ip,
            "private_ip": self.private_ip,
            "launch_time": self.launch_time.isoformat() if self.launch_time else None,
            "uptime_hours": round(self.uptime_hours(), 3),
            "deployment": self.deployment,
            "owner": self.owner,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass
class Footprint:
    """Everything carrying the project tag in one region."""

    region: str
    instances: list[Instance] = field(default_factory=list)
    security_groups: list[dict[str, str]] = field(default_factory=list)
    key_pairs: list[dict[str, str]] = field(default_factory=list)
    launch_templates: list[dict[str, str]] = field(default_factory=list)
    # Baked AMIs are kept by teardown unless asked (--amis), so they never make a footprint non-empty.
    images: list[dict[str, str]] = field(default_factory=list)

    @property
    def deployments(self) -> list[str]:
        """Every deployment with a resource here (an untagged one counts as "")."""
        names = {i.deployment for i in self.instances if i.state != "terminated"}
        for group in (self.security_groups, self.key_pairs, self.launch_templates, self.images):
            names |= {r.get("deployment", "") for r in group}
        return sorted(names)

    @property
    def empty(self) -> bool:
        live = [i for i in self.instances if i.state != "terminated"]
        return not (live or self.security_groups or self.key_pairs or self.launch_templates)


def _instances(ec2: Any, region: str, filters: list[dict[str, Any]]) -> list[Instance]:
    return [
        Instance(
            region=region,
            instance_id=inst["InstanceId"],
            instance_type=inst.get("InstanceType", ""),
            state=inst["State"]["Name"],
            public_ip=inst.get("PublicIpAddress"),
            private_ip=inst.get("PrivateIpAddress"),
            launch_time=inst.get("LaunchTime"),
            tags=_tags(inst),
            imds_tags=inst.get("MetadataOptions", {}).get("InstanceMetadataTags") == "enabled",
            spot=inst.get("InstanceLifecycle") == "spot",
        )
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters)
        for reservation in page["Reservations"]
        for inst in reservation["Instances"]
    ]


def instances(region: str, deployment: str | None = None, owner: str | None = None) -> list[Instance]:
    """The project's instances in `region` alone: one call, where the whole footprint takes five."""
    try:
        return _instances(client("ec2", region), region, tag_filters(deployment, owner))
    except Exception as exc:
        raise explain(exc, f"listing instances in {region}") from None


def footprint(region: str, deployment: str | None = None, owner: str | None = None) -> Footprint:
    """The project's resources in `region`: one deployment's or all, one owner's or everyone's (None)."""
    ec2 = client("ec2", region)
    filters = tag_filters(deployment, owner)
    fp = Footprint(region)
    try:
        fp.instances = _instances(ec2, region, filters)
        for sg in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]:
            fp.security_groups.append(
                {"id": sg["GroupId"], "name": sg.get("GroupName", ""), "deployment": _tags(sg).get(TAG_DEPLOYMENT, "")}
            )
        for kp in ec2.describe_key_pairs(Filters=filters)["KeyPairs"]:
            fp.key_pairs.append(
                {"id": kp.get("KeyPairId", ""), "name": kp["KeyName"], "deployment": _tags(kp).get(TAG_DEPLOYMENT, "")}
            )
        fp.images = _baked_images(ec2, filters)
        for lt in ec2.describe_launch_templates(Filters=filters)["LaunchTemplates"]:
            fp.launch_templates.append(
                {
                    "id": lt["LaunchTemplateId"],
                    "name": lt["LaunchTemplateName"],
                    "deployment": _tags(lt).get(TAG_DEPLOYMENT, ""),
                }
            )
    except Exception as exc:
        raise explain(exc, f"listing resources in {region}") from None
    return fp


def _baked_images(ec2: Any, filters: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "id": image["ImageId"],
            "name": image.get("Name", ""),
            "created": image.get("CreationDate", ""),
            "deployment": _tags(image).get(TAG_DEPLOYMENT, ""),
        }
        for image in ec2.describe_images(Owners=["self"], Filters=filters)["Images"]
    ]


def newest_baked_image(region: str, owner: str) -> dict[str, str] | None:
    """The newest AMI that `owner` baked in this account and region (one DescribeImages call).

    A colleague's AMI with the project tag is not trusted: it could be anything.
    """
    try:
        images = _baked_images(client("ec2", region), tag_filters(owner=owner))
    except Exception as exc:
        raise explain(exc, f"looking for baked AMIs in {region}") from None
    return max(images, key=lambda i: i["created"]) if images else None


@dataclass(frozen=True)
class GuardReport:
    """The cost guard's own last word, read from the instance's serial console."""

    state: str  # armed, fired, idle, broken, one-shot; or "unreported"
    line: str
    at: datetime | None

    @property
    def live(self) -> bool:
        return self.state == "armed"


def parse_guard_report(console: str, at: datetime | None = None) -> GuardReport:
    """The last guard line in console text, or "unreported" when there is none."""
    found = None
    for line in console.splitlines():
        if match := _GUARD_LINE.search(line):
            found = (match.group(1), line[match.start() :].strip())
    if found is None:
        return GuardReport("unreported", "", at)
    return GuardReport(found[0], found[1], at)


def guard_report(region: str, instance_id: str) -> GuardReport:
    """Ask EC2 for the instance's console output (ec2:GetConsoleOutput) and read the guard's line.

    AWS refreshes that output every few minutes and keeps its last 64 KiB, so the newest
    line is a recent check; no arithmetic on tags stands in for it.
    """
    try:
        out = client("ec2", region).get_console_output(InstanceId=instance_id)
    except Exception as exc:
        raise explain(exc, f"reading the console of {instance_id}") from None
    raw = str(out.get("Output") or "")
    # AWS sends the output base64-encoded; the emulator sends it as text.
    try:
        text = base64.b64decode(raw, validate=True).decode("utf-8", errors="replace")
    except (ValueError, binascii.Error):
        text = raw
    return parse_guard_report(text, out.get("Timestamp"))
