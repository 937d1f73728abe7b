"""Without one action of docs/iam-policy.json, the step that needs it fails and names it.

The emulator (the call-counting moto double) checks every request against the
policies of the user making it. Moto judges actions only, not resources or
conditions. That the whole policy is sufficient and that each of its actions is used
is proven over the README's journey (test_sandbox_journey.py). Its resource and tag
conditions are proven with the condition-aware test evaluator in
tests/iam/test_policy_exploits.py, and linted by tests/iam/lint.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mocha_ansible.emulator import enforce_iam, record_emulator
from mocha_ansible.sandbox_doubles import mirrors
from tests.helpers import Sandbox, actions_only, iam_checks, policy_actions

ACTIONS = policy_actions()


@pytest.fixture(scope="module")
def mirror_flags(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return mirrors.build(tmp_path_factory.mktemp("mirrors")).flags()


@pytest.fixture
def enforced(faulty_aws, debian_image, mirror_flags, tmp_path: Path) -> Callable[[list[str]], Sandbox]:
    """A sandbox whose emulator lets its user do exactly `actions`."""
    boxes = []

    def make(actions: list[str]) -> Sandbox:
        emu = enforce_iam(faulty_aws._endpoint, actions_only(actions))
        record_emulator(emu, tmp_path / "state", managed=False)
        box = Sandbox(tmp_path, [*mirror_flags, "--max-iter", "400"])
        boxes.append(box)
        return box

    yield make
    iam_checks(faulty_aws.url, on=False)
    for box in boxes:
        box.close()


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
