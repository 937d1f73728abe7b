"""docs/iam-policy.json is sufficient and needed, with the emulator enforcing IAM.

The emulator (the call-counting moto double) checks every request against the
policies of the user making it. Moto judges actions only, not resources or
conditions, so these tests prove the policy's action list. Its resource and tag
conditions are proven with the condition-aware test evaluator in
tests/iam/test_policy_exploits.py, and linted by tests/iam/lint.py.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from mocha_ansible.emulator import enforce_iam, record_emulator
from mocha_ansible.sandbox_doubles import mirrors
from tests.helpers import NOTHING, ROOT, Sandbox

# Updating a spot template (a new price) makes a second version, and the emulator then
# answers teardown's DeleteLaunchTemplateVersions with a 500 (seen 2026-11-26; IAM let the
# three calls through). tests/iam/test_policy_exploits.py (GAPS) proves the policy allows them.
NOT_RUN_HERE = {"ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplateVersions"}
# AWS answers these for any identity; no policy grants or denies them.
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}
POLICY = json.loads((ROOT / "docs" / "iam-policy.json").read_text())
ACTIONS = sorted(
    {a for st in POLICY["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
)


def _actions_only(actions: list[str]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}


@pytest.fixture(scope="module")
def mirror_flags(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return mirrors.build(tmp_path_factory.mktemp("mirrors")).flags()


@pytest.fixture
def enforced(faulty_aws, debian_image, mirror_flags, tmp_path: Path) -> Callable[[list[str]], Sandbox]:
    """A sandbox whose emulator lets its user do exactly `actions`."""
    boxes = []

    def make(actions: list[str]) -> Sandbox:
        emu = enforce_iam(faulty_aws._endpoint, _actions_only(actions))
        record_emulator(emu, tmp_path / "state", managed=False)
        box = Sandbox(tmp_path, [*mirror_flags, "--max-iter", "400"])
        boxes.append(box)
        return box

    yield make
    _auth_off(faulty_aws.url)
    for box in boxes:
        box.close()


def _auth_off(url: str) -> None:
    req = urllib.request.Request(
        f"{url}/moto-api/reset-auth", data=b"inf", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(req, timeout=10):
        pass


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


@pytest.mark.heavy
def test_the_policy_is_sufficient_and_every_action_in_it_is_used(enforced, faulty_aws) -> None:
    box = enforced(ACTIONS)
    steps = [
        ("provision", box.provision("--deployment", "iam")),
        ("status", box.cli("status", "--sandbox")),
        ("bake", box.cli("bake", "--sandbox", "--deployment", "iam")),
        ("spot from the bake, imported key", box.provision(
            "--deployment", "spot", "--stages", "provision", "--spot", "--ami-from-bake",
            "-e", json.dumps({"ec2_gpu_public_key": _public_key()}))),
        ("stop after", box.provision("--deployment", "iam", "--stages", "provision", "--after", "stop")),
        ("start, new CIDR", box.provision(
            "--deployment", "iam", "--stages", "provision", "--ssh-cidr", "127.0.0.2/32")),
        ("teardown with AMIs", box.cli("teardown", "--sandbox", "--yes", "--amis")),
    ]  # fmt: skip
    for name, proc in steps:
        assert proc.returncode == 0, f"{name}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    # The fleet stopped by --after stop was started again, not replaced.
    assert faulty_aws.calls["ec2:StartInstances"] >= 1
    used = {call for call, n in faulty_aws.calls.items() if n and not call.startswith("iam:")} - NO_PERMISSION_NEEDED
    unused, unlisted = sorted(set(ACTIONS) - used - NOT_RUN_HERE), sorted(used - set(ACTIONS))
    assert unused == [], f"in the policy but never called, so not needed: {unused}"
    assert unlisted == [], f"called without being in the policy: {unlisted}"
    _auth_off(faulty_aws.url)
    assert box.resources() == NOTHING


@pytest.mark.parametrize(
    ("removed", "command", "code", "message"),
    [
        (
            "ec2:CreateSecurityGroup",
            ["provision", "--sandbox", "--check"],
            3,
            "missing permission ec2:CreateSecurityGroup",
        ),
        ("ec2:RunInstances", ["provision", "--sandbox", "--check"], 3, "missing permission ec2:RunInstances"),
        ("ec2:CreateKeyPair", ["provision", "--sandbox", "--check"], 3, "missing permission ec2:CreateKeyPair"),
        ("ec2:DescribeInstances", ["status", "--sandbox"], 3, "missing permission ec2:DescribeInstances"),
        ("ec2:TerminateInstances", ["teardown", "--sandbox", "--yes"], 1, "TerminateInstances"),
    ],
)
def test_without_one_action_a_named_step_fails_and_names_it(enforced, removed, command, code, message) -> None:
    box = enforced([a for a in ACTIONS if a != removed])
    if command[0] == "teardown":
        up = box.provision("--deployment", "cut", "--stages", "provision")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr
    proc = box.cli(*command, *(box.flags if command[0] == "provision" else []))
    assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr
    assert message in proc.stdout + proc.stderr
