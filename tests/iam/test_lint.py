"""The iam-lint gate (tests/iam/lint.py): clean on docs/iam-policy.json, failing on the old policy."""

from __future__ import annotations

from tests.helpers import ROOT
from tests.iam import lint


def test_the_policy_passes_parliament_and_cloudsplaining() -> None:
    assert lint.lint() == []


def test_the_old_policy_fails_the_gate_with_what_the_auditors_found() -> None:
    problems = lint.lint(ROOT / "tests" / "iam" / "fixtures" / "iam-policy.before-issue22.json")
    # parliament: change/delete actions on Resource "*" where they support resource ARNs.
    assert any("RESOURCE_STAR in ChangeAndDeleteOnlyProjectResources" in p for p in problems), problems
    assert lint.main([str(ROOT / "tests" / "iam" / "fixtures" / "iam-policy.before-issue22.json")]) == 1


def test_a_new_unconstrained_write_fails_the_gate(tmp_path) -> None:
    policy = (ROOT / "docs" / "iam-policy.json").read_text()
    broken = policy.replace(
        '"Action": "ec2:CreateSecurityGroup",\n      "Resource": "arn:aws:ec2:*:*:vpc/*"',
        '"Action": ["ec2:CreateSecurityGroup", "ec2:DeleteVpc"],\n      "Resource": "*"',
    )
    assert broken != policy
    path = tmp_path / "policy.json"
    path.write_text(broken)
    problems = lint.lint(path)
    assert 'cloudsplaining: InfrastructureModification in the policy: "ec2:DeleteVpc"' in problems, problems
    assert any(p.startswith("parliament: RESOURCE_STAR in CreateSecurityGroupsInAnyVpc") for p in problems), problems
