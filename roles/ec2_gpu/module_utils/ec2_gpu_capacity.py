"""Quota, offering and cost checks for GPU instance types.

Pure functions over boto3 clients (no Ansible imports), shared by the role's
ec2_gpu_capacity_info module and mocha_ansible's preflight, and tested with
botocore's Stubber for the parts the emulator cannot serve (Service Quotas).
"""

from __future__ import annotations

import re

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # the module reports a missing boto3 itself
    BotoCoreError = ClientError = Exception

# vCPU quotas by instance family letter (Service Quotas, service code "ec2").
QUOTAS = {
    ("P", False): ("L-417A185B", "Running On-Demand P instances"),
    ("G", False): ("L-DB2E81BA", "Running On-Demand G and VT instances"),
    ("P", True): ("L-7212CCBC", "All P Spot Instance Requests"),
    ("G", True): ("L-3819A6DF", "All G and VT Spot Instance Requests"),
    ("Standard", False): ("L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"),
    ("Standard", True): ("L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"),
}
_GRAVITON_RE = re.compile(r"^(a1|[a-z]+\d+g[a-z]*)$")


def family(instance_type):
    return instance_type.split(".", 1)[0]


def quota_for(instance_type, spot):
    """(quota code, quota name) that caps the vCPUs of this type."""
    letter = family(instance_type)[0].upper()
    key = letter if letter in ("P", "G") else "Standard"
    return QUOTAS[(key, bool(spot))]


def architecture(instance_type):
    return "arm64" if _GRAVITON_RE.match(family(instance_type)) else "x86_64"


def vcpus_of(ec2, instance_type, table):
    """vCPUs of one instance, from the API, else from the project's table."""
    try:
        info = ec2.describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"]
        if info:
            return int(info[0]["VCpuInfo"]["DefaultVCpus"]), "api"
    except ClientError:
        pass
    entry = table.get(instance_type)
    if entry:
        return int(entry["vcpus"]), "table"
    return None, "unknown"


def offered_zones(ec2, instance_type):
    """Zones offering the type, or None when the endpoint does not know the type at all."""
    offers = ec2.describe_instance_type_offerings(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": [instance_type]}],
    )["InstanceTypeOfferings"]
    if offers:
        return sorted(o["Location"] for o in offers)
    try:
        ec2.describe_instance_types(InstanceTypes=[instance_type])
    except ClientError:
        return None  # e.g. moto has no p2.xlarge: cannot confirm, cannot refute
    return []


def check_quota(quotas, instance_type, spot, count, vcpus):
    """The vCPU quota verdict: status ok, low, zero or unavailable, with what to ask for."""
    code, name = quota_for(instance_type, spot)
    needed = vcpus * count if vcpus else None
    result = {"code": code, "name": name, "needed": needed, "value": None, "status": "unavailable", "source": None}
    value = None
    try:
        value = quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"]
        result["source"] = "applied"
    except ClientError as exc:
        err = exc.response.get("Error", {}).get("Code", "")
        if err != "NoSuchResourceException":
            result["message"] = f"Service Quotas unavailable ({err}); quota not checked"
            return result
    except BotoCoreError as exc:
        result["message"] = f"Service Quotas unavailable ({type(exc).__name__}); quota not checked"
        return result
    if value is None:
        try:
            value = quotas.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"]
            result["source"] = "default"
        except (ClientError, BotoCoreError) as exc:
            result["message"] = f"Service Quotas unavailable ({type(exc).__name__}); quota not checked"
            return result
    result["value"] = int(value)
    if needed is None:
        result["status"] = "ok" if value > 0 else "zero"
    elif value <= 0:
        result["status"] = "zero"
    elif value < needed:
        result["status"] = "low"
    else:
        result["status"] = "ok"
    if result["status"] in ("zero", "low"):
        ask = needed or vcpus or 1
        result["message"] = (
            f"quota {code} '{name}' is {int(value)} vCPUs, and {count} x {instance_type} needs {needed}; "
            f"request at least {ask} in the Service Quotas console (EC2 > {name} > Request increase), "
            f"or `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code {code} "
            f"--desired-value {ask}`; approval can take days"
        )
    return result


def cost_estimate(instance_type, count, max_hours, table, price_date):
    entry = table.get(instance_type)
    if not entry or entry.get("usd_per_hour") is None:
        return {"known": False, "instance_type": instance_type}
    hourly = float(entry["usd_per_hour"]) * count
    return {
        "known": True,
        "instance_type": instance_type,
        "usd_per_hour": round(hourly, 3),
        "usd_cap": round(hourly * float(max_hours), 2),
        "price_date": price_date,
        "label": f"estimate: on-demand us-east-1 prices of {price_date}",
    }
