"""ec2_gpu's quota, offering and cost logic, with botocore's Stubber for what moto cannot serve."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mocha_ansible.project import role_python
from mocha_ansible.role_vars import instance_type_facts

cap = role_python("ec2_gpu", "module_utils/ec2_gpu_capacity.py")
TABLE = instance_type_facts()["ec2_gpu_instance_types"]


def _client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def _quotas(*responses):
    client = _client("service-quotas")
    stub = Stubber(client)
    for kind, payload in responses:
        if kind == "ok":
            stub.add_response(payload[0], {"Quota": {"Value": payload[1]}})
        else:
            stub.add_client_error(payload, service_error_code=kind)
    stub.activate()
    return client, stub


@pytest.mark.parametrize(
    ("instance_type", "spot", "code"),
    [
        ("p2.xlarge", False, "L-417A185B"),
        ("g4dn.xlarge", False, "L-DB2E81BA"),
        ("p3.2xlarge", True, "L-7212CCBC"),
        ("g5.xlarge", True, "L-3819A6DF"),
        ("m5.large", False, "L-1216C47A"),
    ],
)
def test_quota_codes(instance_type, spot, code):
    assert cap.quota_for(instance_type, spot)[0] == code


def test_quota_zero_says_what_to_request_and_how():
    client, stub = _quotas(("ok", ("get_service_quota", 0.0)))
    verdict = cap.check_quota(client, "p2.xlarge", False, 1, 4)
    stub.assert_no_pending_responses()
    assert verdict["status"] == "zero" and verdict["value"] == 0 and verdict["needed"] == 4
    assert "L-417A185B" in verdict["message"] and "Running On-Demand P instances" in verdict["message"]
    assert (
        "request-service-quota-increase --service-code ec2 --quota-code L-417A185B --desired-value 4"
        in verdict["message"]
    )


def test_quota_too_low_for_the_fleet():
    client, _ = _quotas(("ok", ("get_service_quota", 8.0)))
    verdict = cap.check_quota(client, "g4dn.xlarge", False, 3, 4)
    assert verdict["status"] == "low" and verdict["needed"] == 12
    assert "--desired-value 12" in verdict["message"]


def test_quota_enough():
    client, _ = _quotas(("ok", ("get_service_quota", 64.0)))
    verdict = cap.check_quota(client, "g4dn.xlarge", False, 3, 4)
    assert verdict["status"] == "ok" and verdict["source"] == "applied"
    assert "message" not in verdict


def test_quota_falls_back_to_the_aws_default():
    client, stub = _quotas(
        ("NoSuchResourceException", "get_service_quota"), ("ok", ("get_aws_default_service_quota", 0.0))
    )
    verdict = cap.check_quota(client, "p2.xlarge", False, 1, 4)
    stub.assert_no_pending_responses()
    assert verdict["status"] == "zero" and verdict["source"] == "default"


@pytest.mark.parametrize("error", ["AccessDeniedException", "ServiceException"])
def test_quota_api_unavailable_warns_and_goes_on(error):
    client, _ = _quotas((error, "get_service_quota"))
    verdict = cap.check_quota(client, "p2.xlarge", False, 1, 4)
    assert verdict["status"] == "unavailable"
    assert error in verdict["message"]


def test_vcpus_from_the_table_when_the_endpoint_lacks_the_type():
    ec2 = _client("ec2")
    stub = Stubber(ec2)
    stub.add_client_error("describe_instance_types", service_error_code="InvalidInstanceType")
    stub.activate()
    assert cap.vcpus_of(ec2, "p2.xlarge", TABLE) == (4, "table")


def test_vcpus_from_the_api_first():
    ec2 = _client("ec2")
    stub = Stubber(ec2)
    stub.add_response(
        "describe_instance_types", {"InstanceTypes": [{"InstanceType": "g5.xlarge", "VCpuInfo": {"DefaultVCpus": 4}}]}
    )
    stub.activate()
    assert cap.vcpus_of(ec2, "g5.xlarge", {}) == (4, "api")


def test_offering_known_unknown_and_absent():
    ec2 = _client("ec2")
    stub = Stubber(ec2)
    stub.add_response(
        "describe_instance_type_offerings",
        {"InstanceTypeOfferings": [{"InstanceType": "g4dn.xlarge", "LocationType": "availability-zone", "Location": z}
                                   for z in ("us-east-1b", "us-east-1a")]},
    )  # fmt: skip
    stub.add_response("describe_instance_type_offerings", {"InstanceTypeOfferings": []})
    stub.add_client_error("describe_instance_types", service_error_code="InvalidInstanceType")
    stub.add_response("describe_instance_type_offerings", {"InstanceTypeOfferings": []})
    stub.add_response("describe_instance_types", {"InstanceTypes": [{"InstanceType": "p2.xlarge"}]})
    stub.activate()
    assert cap.offered_zones(ec2, "g4dn.xlarge") == ["us-east-1a", "us-east-1b"]
    assert cap.offered_zones(ec2, "p2.xlarge") is None  # the endpoint does not know it
    assert cap.offered_zones(ec2, "p2.xlarge") == []  # known, but not offered here


def test_cost_estimate_is_labelled():
    est = cap.cost_estimate("p2.xlarge", 2, 4, TABLE, "2025-06")
    assert est == {
        "known": True,
        "instance_type": "p2.xlarge",
        "usd_per_hour": 1.8,
        "usd_cap": 7.2,
        "price_date": "2025-06",
        "label": "estimate: on-demand us-east-1 prices of 2025-06",
    }
    assert cap.cost_estimate("x9.huge", 1, 4, TABLE, "2025-06") == {"known": False, "instance_type": "x9.huge"}


@pytest.mark.parametrize(
    ("instance_type", "arch"), [("g5g.xlarge", "arm64"), ("g4dn.xlarge", "x86_64"), ("p4d.24xlarge", "x86_64")]
)
def test_architecture(instance_type, arch):
    assert cap.architecture(instance_type) == arch
