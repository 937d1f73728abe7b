"""The test evaluator (tests/iam/evaluator.py) against AWS's documented examples.

Each case restates an example policy and the outcome AWS's documentation gives
for it; the page is named beside the case. Pages (IAM User Guide / EC2 User Guide):
  OPS   = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  MULTI = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
  MEX   = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
  DENY  = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
  EC2   = https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.evaluator import Request, UnsupportedPolicy, evaluate, evaluate_all


def allow(action: Any, resource: Any = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st]}


def deny(action: Any, resource: Any = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    policy = allow(action, resource, condition)
    policy["Statement"][0]["Effect"] = "Deny"
    return policy


# DENY: AllowGetList allows iam:Get*/List*; DenyReports denies iam:*Report*. Everything
# else in IAM is implicitly denied; a Report action is explicitly denied even though
# another statement allows Get*.
DENY_EXAMPLE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
    ],
}


@pytest.mark.parametrize(
    ("action", "decision"),
    [
        ("iam:GetUser", "Allow"),
        ("iam:listusers", "Allow"),  # action names are case-insensitive
        ("iam:GetCredentialReport", "ExplicitDeny"),  # Deny trumps the Get* Allow
        ("iam:CreatePolicy", "ImplicitDeny"),
    ],
)
def test_explicit_deny_wins_and_no_allow_is_an_implicit_deny(action: str, decision: str) -> None:
    assert evaluate([DENY_EXAMPLE], Request(action, "arn:aws:iam::111122223333:user/bob")) == decision


def test_a_deny_in_another_policy_still_wins() -> None:
    # DENY: "If someone adds another policy ... the DenyReports statement still denies".
    grant = allow("iam:GenerateCredentialReport")
    assert evaluate([grant], Request("iam:GenerateCredentialReport", "*")) == "Allow"
    assert evaluate([grant, deny("iam:*Report")], Request("iam:GenerateCredentialReport", "*")) == "ExplicitDeny"


def test_string_equals_on_a_principal_tag_and_a_missing_key() -> None:
    # OPS, string example: iam:*AccessKey* on user/* when aws:PrincipalTag/job-category is
    # iamuser-admin. The key is missing for a principal without that tag: no match.
    policy = allow(
        "iam:*AccessKey*",
        "arn:aws:iam::111122223333:user/*",
        {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}},
    )
    resource = "arn:aws:iam::111122223333:user/alice"
    assert (
        evaluate([policy], Request("iam:CreateAccessKey", resource, {"aws:PrincipalTag/job-category": "iamuser-admin"}))
        == "Allow"
    )
    assert (
        evaluate([policy], Request("iam:CreateAccessKey", resource, {"aws:PrincipalTag/job-category": "IAMuser-admin"}))
        == "ImplicitDeny"
    )
    assert evaluate([policy], Request("iam:CreateAccessKey", resource, {})) == "ImplicitDeny"
    # Condition key names themselves are case-insensitive.
    assert (
        evaluate([policy], Request("iam:CreateAccessKey", resource, {"AWS:principaltag/job-category": "iamuser-admin"}))
        == "Allow"
    )


def test_a_missing_key_makes_a_negated_operator_true() -> None:
    # OPS, the "Important" note: a missing key is false, except for the negated operators
    # such as StringNotLike/ArnNotLike (true) and ...IfExists / Null.
    policy = allow("s3:GetObject", "*", {"StringNotLike": {"aws:PrincipalTag/team": "contractor-*"}})
    assert evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/k", {})) == "Allow"
    assert (
        evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/k", {"aws:PrincipalTag/team": "contractor-x"}))
        == "ImplicitDeny"
    )
    assert (
        evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/k", {"aws:PrincipalTag/team": "staff"})) == "Allow"
    )


def test_string_like_wildcards() -> None:
    # OPS: StringLike takes * (any run) and ? (one character) anywhere in the value.
    policy = allow("ec2:RunInstances", "*", {"StringLike": {"ec2:InstanceType": ["t2.*", "m5.?xlarge"]}})
    for itype, decision in [
        ("t2.micro", "Allow"),
        ("m5.2xlarge", "Allow"),
        ("m5.12xlarge", "ImplicitDeny"),
        ("t3.micro", "ImplicitDeny"),
    ]:
        assert evaluate([policy], Request("ec2:RunInstances", "*", {"ec2:InstanceType": itype})) == decision, itype


def test_if_exists_passes_when_the_key_is_missing() -> None:
    # OPS, ...IfExists example: StringLikeIfExists ec2:InstanceType t1.*/t2.*/m3.*; a request
    # for a resource without an instance type (the key missing) is allowed.
    policy = allow("ec2:*", "*", {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}})
    assert evaluate([policy], Request("ec2:RunInstances", "*", {"ec2:InstanceType": "t2.micro"})) == "Allow"
    assert evaluate([policy], Request("ec2:RunInstances", "*", {"ec2:InstanceType": "p3.2xlarge"})) == "ImplicitDeny"
    assert evaluate([policy], Request("ec2:RunInstances", "*", {})) == "Allow"


def test_null_checks_presence() -> None:
    # OPS, Null example: EC2 actions only without temporary credentials, i.e. when
    # aws:TokenIssueTime is absent ("Null": true).
    policy = allow("ec2:*", "*", {"Null": {"aws:TokenIssueTime": "true"}})
    assert evaluate([policy], Request("ec2:DescribeInstances", "*", {})) == "Allow"
    assert (
        evaluate([policy], Request("ec2:DescribeInstances", "*", {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}))
        == "ImplicitDeny"
    )
    present = allow("ec2:*", "*", {"Null": {"aws:TokenIssueTime": "false"}})
    assert evaluate([present], Request("ec2:DescribeInstances", "*", {})) == "ImplicitDeny"


def test_bool_secure_transport() -> None:
    # OPS, Bool example: deny when aws:SecureTransport is false.
    policy = deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}})
    base = allow("s3:*")
    assert evaluate([base, policy], Request("s3:GetObject", "*", {"aws:SecureTransport": False})) == "ExplicitDeny"
    assert evaluate([base, policy], Request("s3:GetObject", "*", {"aws:SecureTransport": True})) == "Allow"
    assert evaluate([base, policy], Request("s3:GetObject", "*", {"aws:SecureTransport": "true"})) == "Allow"


def test_arn_like_matches_part_by_part() -> None:
    # OPS, ARN example: an SQS queue policy allows sns to send only when aws:SourceArn is
    # the one topic. ArnLike compares the six parts separately.
    policy = allow("sqs:SendMessage", "*", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:TOPIC-ID"}})
    ok = {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"}
    other_account = {"aws:SourceArn": "arn:aws:sns:us-east-2:999999999999:TOPIC-ID"}
    assert evaluate([policy], Request("sqs:SendMessage", "*", ok)) == "Allow"
    assert evaluate([policy], Request("sqs:SendMessage", "*", other_account)) == "ImplicitDeny"
    # A region wildcard does not reach across the colon into the account.
    sly = {"aws:SourceArn": "arn:aws:sns:us-east-2:999999999999:x:123456789012:TOPIC-ID"}
    assert evaluate([policy], Request("sqs:SendMessage", "*", sly)) == "ImplicitDeny"


def test_resource_arn_wildcards() -> None:
    # EC2, "Work with instances": StopInstances/StartInstances on
    # arn:aws:ec2:region:account-id:instance/* only; an image ARN does not match, nor another account.
    policy = allow(["ec2:StopInstances"], "arn:aws:ec2:us-east-1:111122223333:instance/*")
    assert (
        evaluate([policy], Request("ec2:StopInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-1")) == "Allow"
    )
    assert (
        evaluate([policy], Request("ec2:StopInstances", "arn:aws:ec2:us-east-1:444455556666:instance/i-1"))
        == "ImplicitDeny"
    )
    assert (
        evaluate([policy], Request("ec2:StopInstances", "arn:aws:ec2:us-east-1:111122223333:volume/vol-1"))
        == "ImplicitDeny"
    )
    # Images have no account in their ARN: arn:aws:ec2:region::image/ami-*.
    images = allow("ec2:RunInstances", "arn:aws:ec2:*::image/ami-*")
    assert evaluate([images], Request("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-123")) == "Allow"


def test_for_all_values_is_true_for_a_missing_key_and_for_any_value_is_not() -> None:
    # MULTI: "ForAllValues ... returns true if there are no context keys in the request";
    # MEX: an Allow with ForAllValues on aws:TagKeys lets every request value be one of the listed keys.
    keys = {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
    policy = allow("ec2:CreateTags", "*", keys)
    assert evaluate([policy], Request("ec2:CreateTags", "*", {"aws:TagKeys": ["environment"]})) == "Allow"
    assert (
        evaluate([policy], Request("ec2:CreateTags", "*", {"aws:TagKeys": ["environment", "owner"]})) == "ImplicitDeny"
    )
    assert evaluate([policy], Request("ec2:CreateTags", "*", {})) == "Allow"  # the documented pitfall
    guarded = allow("ec2:CreateTags", "*", {**keys, "Null": {"aws:TagKeys": "false"}})
    assert evaluate([guarded], Request("ec2:CreateTags", "*", {})) == "ImplicitDeny"
    anyv = allow("ec2:CreateTags", "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}})
    assert evaluate([anyv], Request("ec2:CreateTags", "*", {"aws:TagKeys": ["owner", "environment"]})) == "Allow"
    assert evaluate([anyv], Request("ec2:CreateTags", "*", {"aws:TagKeys": ["owner"]})) == "ImplicitDeny"
    assert evaluate([anyv], Request("ec2:CreateTags", "*", {})) == "ImplicitDeny"


def test_for_all_values_deny_on_tag_key_prefixes() -> None:
    # MEX, "Deny policy with condition set operator ForAllValues": deny tagging when every
    # requested key starts with key1 or key2.
    policy = deny("iam:Tag*", "*", {"ForAllValues:StringLike": {"aws:TagKeys": ["key1*", "key2*"]}})
    base = allow("iam:Tag*")
    assert evaluate([base, policy], Request("iam:TagUser", "*", {"aws:TagKeys": ["key1a", "key2"]})) == "ExplicitDeny"
    assert evaluate([base, policy], Request("iam:TagUser", "*", {"aws:TagKeys": ["key1a", "other"]})) == "Allow"


def test_ec2_launch_only_amazon_images_and_tag_only_on_create() -> None:
    # EC2, "Launch instances (RunInstances)": images only when ec2:Owner is amazon; and
    # "Tag resources": CreateTags only when ec2:CreateAction is RunInstances.
    images = allow("ec2:RunInstances", "arn:aws:ec2:region::image/ami-*", {"StringEquals": {"ec2:Owner": "amazon"}})
    ami = "arn:aws:ec2:region::image/ami-1"
    assert evaluate([images], Request("ec2:RunInstances", ami, {"ec2:Owner": "amazon"})) == "Allow"
    assert evaluate([images], Request("ec2:RunInstances", ami, {"ec2:Owner": "123456789012"})) == "ImplicitDeny"
    tags = allow(
        "ec2:CreateTags", "arn:aws:ec2:region:account:*/*", {"StringEquals": {"ec2:CreateAction": "RunInstances"}}
    )
    inst = "arn:aws:ec2:region:account:instance/i-1"
    assert evaluate([tags], Request("ec2:CreateTags", inst, {"ec2:CreateAction": "RunInstances"})) == "Allow"
    assert evaluate([tags], Request("ec2:CreateTags", inst, {})) == "ImplicitDeny"
    # One call, several authorizations: every one must be allowed.
    both = [images, tags]
    assert (
        evaluate_all(
            both,
            [
                Request("ec2:RunInstances", ami, {"ec2:Owner": "amazon"}),
                Request("ec2:CreateTags", inst, {"ec2:CreateAction": "RunInstances"}),
            ],
        )
        == "Allow"
    )
    assert (
        evaluate_all(
            both, [Request("ec2:RunInstances", ami, {"ec2:Owner": "amazon"}), Request("ec2:CreateTags", inst, {})]
        )
        == "ImplicitDeny"
    )


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalTag/x": "${aws:username}"}},  # policy variables
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"StringEquals": {"aws:TagKeys": "a"}},  # a multivalued key without a set operator
    ],
)
def test_what_it_does_not_model_is_refused_not_guessed(condition: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedPolicy):
        evaluate(
            [allow("s3:ListBucket", "*", condition)],
            Request("s3:ListBucket", "*", {"aws:TagKeys": ["a"], "s3:max-keys": "5", "aws:PrincipalTag/x": "y"}),
        )
