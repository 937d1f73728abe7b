"""The quickstart's count of the IAM policy's actions is the policy's own (issue 34 item 12: it said 39
while docs/iam-policy.json named 40)."""

from __future__ import annotations

import json
import re

from tests.helpers import ROOT

POLICY = ROOT / "docs" / "iam-policy.json"
QUICKSTART = ROOT / "docs" / "quickstart-aws.md"


def policy_actions(policy: dict) -> set[str]:
    """Every action the policy allows, each counted once however many statements name it."""
    found: set[str] = set()
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"]
        found |= {actions} if isinstance(actions, str) else set(actions)
    return found


def documented_counts(text: str) -> list[int]:
    """The numbers the page gives as the policy's action count: "[iam-policy.json](...) (N actions)"."""
    return [int(n) for n in re.findall(r"\(iam-policy\.json\)\s+\((\d+) actions\)", text)]


def test_the_quickstart_gives_the_policys_action_count():
    counts = documented_counts(QUICKSTART.read_text(encoding="utf-8"))
    assert counts, "docs/quickstart-aws.md no longer says how many actions the policy grants"
    actual = len(policy_actions(json.loads(POLICY.read_text(encoding="utf-8"))))
    assert counts == [actual] * len(counts), f"the page says {counts}, docs/iam-policy.json allows {actual}"


def test_the_count_ignores_repeats_and_denials():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:DescribeImages"]},
            {"Effect": "Allow", "Action": "ec2:RunInstances"},
            {"Effect": "Deny", "Action": "ec2:TerminateInstances"},
        ]
    }
    assert policy_actions(policy) == {"ec2:RunInstances", "ec2:DescribeImages"}
    assert documented_counts("policy in [iam-policy.json](iam-policy.json) (7 actions). What") == [7]
