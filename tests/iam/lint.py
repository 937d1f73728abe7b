"""The IAM lint gate: parliament and cloudsplaining on docs/iam-policy.json, offline.

    python -m tests.iam.lint [POLICY]      exit 0 when clean, 1 with one line per finding

Both auditors ship their AWS action tables inside their PyPI packages and need no
network. Every finding fails the gate unless ACCEPTED names it, with the reason it
is a deliberate choice; an accepted finding that no longer occurs fails too, so the
list cannot go stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "docs" / "iam-policy.json"


class Finding(NamedTuple):
    tool: str
    issue: str
    where: str  # the statement's Sid, or "" for whole-policy findings
    detail: str


# (tool, issue, where) -> why it is deliberate.
ACCEPTED: dict[tuple[str, str, str], str] = {
    # AWS authorizes RunInstances once per resource it touches and documents one
    # statement per resource type, each with that type's condition keys (ec2:Owner only
    # exists for the image, ec2:Encrypted for the volume). parliament wants every
    # statement to list all of RunInstances' resource types; merging them would need
    # ...IfExists conditions, which pass when a key is left out of the request.
    **{
        ("parliament", "RESOURCE_MISMATCH", sid): "one RunInstances statement per resource type, by design"
        for sid in (
            "LaunchOnlyProjectInstancesOfGpuTypesWithImdsV2",
            "LaunchOnlyEncryptedProjectVolumes",
            "LaunchImagesOfAmazonAndCanonical",
            "LaunchProjectImages",
            "LaunchIntoExistingSubnetsWithNewInterfaces",
            "LaunchFromProjectTemplatesOnly",
            "LaunchOnlyIntoProjectSecurityGroups",
        )
    },
    # Likewise CreateImage (the source instance needs its resource tag, the new image and
    # snapshot the request tag) and CreateSecurityGroup (the VPC has no tag condition).
    ("parliament", "RESOURCE_MISMATCH", "CreateOnlyWhatCarriesTheProjectTag"): "split per resource type, by design",
    ("parliament", "RESOURCE_MISMATCH", "CreateSecurityGroupsInAnyVpc"): "split per resource type, by design",
    ("parliament", "RESOURCE_MISMATCH", "ImageOnlyProjectInstances"): "split per resource type, by design",
    # cloudsplaining's flag-all mode ignores conditions. Both methods need a project-tagged
    # instance or template, which only this policy's own create calls can make (retagging
    # foreign resources is denied), and the policy grants no iam:PassRole, so no instance
    # it touches can hold a role to escalate to. ModifyInstanceAttribute is further held to
    # the instance type (ec2:Attribute/InstanceType), so userData cannot be rewritten at all.
    (
        "cloudsplaining",
        "PrivilegeEscalation",
        "ModifyEC2InstanceUserDataThenRestart",
    ): "project instances only, no role",
    ("cloudsplaining", "PrivilegeEscalation", "ModifyExistingEC2LaunchTemplate"): "project templates only, no role",
}


def _sid_at_line(text: str, line: int) -> str:
    """The Sid of the statement that starts at `line` (parliament reports a statement's first line)."""
    sids = [
        (n, m.group(1)) for n, row in enumerate(text.splitlines(), 1) if (m := re.search(r'"Sid":\s*"([^"]+)"', row))
    ]
    after = [sid for n, sid in sids if n >= line]
    return after[0] if after else ""


def parliament_findings(text: str) -> list[Finding]:
    from parliament import analyze_policy_string, enhance_finding  # type: ignore[import-untyped]

    policy = analyze_policy_string(text, include_community_auditors=True)
    found = []
    for raw in policy.findings:
        finding = enhance_finding(raw)
        line = (finding.location or {}).get("line")
        where = _sid_at_line(text, line) if isinstance(line, int) else ""
        found.append(
            Finding("parliament", finding.issue, where, f"{finding.severity} {finding.title}: {finding.detail}")
        )
    return found


def cloudsplaining_findings(policy: dict[str, Any]) -> list[Finding]:
    from cloudsplaining.command.scan_policy_file import scan_policy

    found = []
    # Condition-aware (the default): any finding means a write action without a resource
    # or condition constraint.
    for category, result in scan_policy(policy).items():
        if not isinstance(result, dict):  # e.g. ServicesAffected, a plain list
            continue
        for item in result.get("findings") or []:
            found.append(Finding("cloudsplaining", category, "", json.dumps(item, default=str)))
    # Flag-all: privilege escalation paths even where conditions constrain them.
    flagged = scan_policy(policy, flag_conditional_statements=True, flag_resource_arn_statements=True)
    for item in (flagged.get("PrivilegeEscalation") or {}).get("findings") or []:
        found.append(Finding("cloudsplaining", "PrivilegeEscalation", item["type"], ", ".join(item["actions"])))
    return found


def lint(path: Path = POLICY) -> list[str]:
    """Problems as lines: unaccepted findings, and accepted ones that no longer occur."""
    text = path.read_text()
    findings = parliament_findings(text) + cloudsplaining_findings(json.loads(text))
    problems = [
        f"{f.tool}: {f.issue} in {f.where or 'the policy'}: {f.detail}"
        for f in findings
        if (f.tool, f.issue, f.where) not in ACCEPTED
    ]
    seen = {(f.tool, f.issue, f.where) for f in findings}
    problems += [
        f"{t}: accepted {i} in {w} no longer occurs; remove it from ACCEPTED"
        for t, i, w in ACCEPTED
        if (t, i, w) not in seen
    ]
    return problems


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else POLICY
    problems = lint(path)
    for line in problems:
        print(line)
    print(f"iam-lint: {path.name}: {len(problems)} problem(s) (parliament, cloudsplaining)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
