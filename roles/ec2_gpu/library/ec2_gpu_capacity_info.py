#!/usr/bin/python
"""Offering, vCPU quota and architecture facts for an EC2 GPU instance type. Reads only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_gpu_capacity_info
short_description: Which zones offer an instance type, and whether the vCPU quota allows the fleet
description:
  - Calls DescribeInstanceTypeOfferings, DescribeInstanceTypes, DescribeAvailabilityZones and
    Service Quotas GetServiceQuota (falling back to GetAWSDefaultServiceQuota). Changes nothing.
  - When Service Quotas cannot be reached the quota status is C(unavailable) and the caller decides.
options:
  instance_type:
    description: EC2 instance type.
    type: str
    required: true
  count:
    description: Instances wanted.
    type: int
    default: 1
  spot:
    description: Check the spot quota instead of the on-demand one.
    type: bool
    default: false
  check_quota:
    description: Ask Service Quotas at all.
    type: bool
    default: true
  instance_types:
    description: Fallback facts (vcpus) per instance type, for endpoints that do not know the type.
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author: mocha-ansible
"""

EXAMPLES = r"""
- name: Check capacity
  ec2_gpu_capacity_info:
    region: us-east-1
    instance_type: g4dn.xlarge
    count: 2
  register: capacity
"""

RETURN = r"""
zones:
  description: Every available zone of the region.
  returned: always
  type: list
offered_zones:
  description: Zones offering the type; null when the endpoint does not know the type.
  returned: always
  type: list
vcpus:
  description: vCPUs of one instance (null if unknown), and vcpus_source (api, table or unknown).
  returned: always
  type: int
architecture:
  description: x86_64 or arm64, as the instance family implies.
  returned: always
  type: str
quota:
  description: code, name, value, needed, status (ok, low, zero, unavailable) and message.
  returned: always
  type: dict
"""

from ansible.module_utils.ec2_gpu_capacity import architecture, check_quota, offered_zones, vcpus_of
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "instance_type": {"type": "str", "required": True},
            "count": {"type": "int", "default": 1},
            "spot": {"type": "bool", "default": False},
            "check_quota": {"type": "bool", "default": True},
            "instance_types": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    p = module.params
    ec2 = module.client("ec2")
    try:
        zones = sorted(
            z["ZoneName"]
            for z in ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])[
                "AvailabilityZones"
            ]
        )
        offered = offered_zones(ec2, p["instance_type"])
        vcpus, source = vcpus_of(ec2, p["instance_type"], p["instance_types"])
    except Exception as exc:
        module.fail_json_aws(exc, msg="ec2_gpu: could not read the instance-type offering")
    quota = {"status": "skipped"}
    if p["check_quota"]:
        quota = check_quota(module.client("service-quotas"), p["instance_type"], p["spot"], p["count"], vcpus)
    module.exit_json(
        changed=False,
        zones=zones,
        offered_zones=offered,
        vcpus=vcpus,
        vcpus_source=source,
        architecture=architecture(p["instance_type"]),
        quota=quota,
    )


if __name__ == "__main__":
    main()
