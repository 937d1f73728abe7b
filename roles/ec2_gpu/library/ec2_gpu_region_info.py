#!/usr/bin/python
"""What one region already holds for a deployment, read in one module run. Reads only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_gpu_region_info
short_description: The named security groups and key pairs, the image and the default network of a region
description:
  - One module run, one boto3 session, where five amazon.aws info modules each started Python and
    loaded boto3 again (about 0.5 CPU-s each before any call).
  - Calls DescribeSecurityGroups and DescribeKeyPairs (by name, tagged by this project),
    DescribeImages (by id or by name and owner), DescribeVpcs (the default one) and
    DescribeSubnets (its default subnet per zone). Changes nothing.
  - Returns them shaped as amazon.aws's info modules return them (snake_case keys, tags as a
    dict), so the tasks read them as they read those modules' results.
options:
  name:
    description: The name of the deployment's security group and key pair.
    type: str
    required: true
  image_id:
    description: An image id to look up (with a filter, so an unknown id returns no image).
    type: str
    default: ""
  image_name:
    description: A name pattern to look up when image_id is empty.
    type: str
    default: ""
  image_owner:
    description: The owner of the images image_name matches.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author: mocha-ansible
"""

EXAMPLES = r"""
- name: Read the region
  ec2_gpu_region_info:
    region: us-east-1
    name: mocha-ansible-default
    image_id: ami-0123456789abcdef0
  register: region_info
"""

RETURN = r"""
security_groups:
  description: This project's security groups of that name (as amazon.aws.ec2_security_group_info).
  returned: always
  type: list
keypairs:
  description: This project's key pairs of that name (as amazon.aws.ec2_key_info).
  returned: always
  type: list
images:
  description: The images found (as amazon.aws.ec2_ami_info), any architecture.
  returned: always
  type: list
vpcs:
  description: The default VPC, if any, with C(id) (as amazon.aws.ec2_vpc_net_info).
  returned: always
  type: list
subnets:
  description: The default VPC's default subnet per zone, with C(id) (as amazon.aws.ec2_vpc_subnet_info).
  returned: always
  type: list
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

PROJECT_TAG = {"Name": "tag:mocha-ansible:project", "Values": ["mocha-ansible"]}


def _shaped(items, id_key=None):
    """camel_dict_to_snake_dict with Tags as a dict, keeping tag keys as they are, plus amazon.aws's `id`."""
    shaped = []
    for item in items:
        tags = boto3_tag_list_to_ansible_dict(item.get("Tags", []))
        out = camel_dict_to_snake_dict({k: v for k, v in item.items() if k != "Tags"})
        out["tags"] = tags
        if id_key:
            out["id"] = item[id_key]
        shaped.append(out)
    return shaped


def _images(ec2, params):
    if params["image_id"]:
        found = ec2.describe_images(Filters=[{"Name": "image-id", "Values": [params["image_id"]]}], aws_retry=True)
    elif params["image_name"]:
        found = ec2.describe_images(
            Owners=[params["image_owner"]], Filters=[{"Name": "name", "Values": [params["image_name"]]}], aws_retry=True
        )
    else:
        return []
    return _shaped(found["Images"])


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "image_id": {"type": "str", "default": ""},
            "image_name": {"type": "str", "default": ""},
            "image_owner": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    p = module.params
    # Throttling is retried with back-off, as the amazon.aws info modules this replaces did.
    ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    try:
        groups = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [p["name"]]}, PROJECT_TAG], aws_retry=True
        )
        keys = ec2.describe_key_pairs(
            Filters=[{"Name": "key-name", "Values": [p["name"]]}, PROJECT_TAG], aws_retry=True
        )
        images = _images(ec2, p)
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}], aws_retry=True)["Vpcs"]
        subnets = []
        if vpcs:
            subnets = ec2.describe_subnets(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]},
                    {"Name": "default-for-az", "Values": ["true"]},
                ],
                aws_retry=True,
            )["Subnets"]
    except Exception as exc:
        module.fail_json_aws(exc, msg=f"ec2_gpu: could not read what {module.region} holds")
    module.exit_json(
        changed=False,
        security_groups=_shaped(groups["SecurityGroups"]),
        keypairs=_shaped(keys["KeyPairs"]),
        images=images,
        vpcs=_shaped(vpcs, "VpcId"),
        subnets=_shaped(subnets, "SubnetId"),
    )


if __name__ == "__main__":
    main()
