"""Issue 32, item 8: --owner is judged as the `owner` config key is, before any AWS call.

EC2 filters read `*` and `?` as wildcards, so an unjudged `start --owner '*'` reached every owner's
instances (it re-armed their deadline tags). Each subcommand that takes --owner refuses a value
outside ec2_gpu_owner's pattern (roles/ec2_gpu/vars/input_patterns.yml) on one line naming the flag,
the value escaped and what is accepted, exits 2, creates nothing and makes no AWS call (the
fault-injecting emulator counts every call it answers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mocha_ansible.cli import main
from mocha_ansible.errors import ExitCode
from mocha_ansible.settings import accepted_text
from tests.integration.test_taint import raw_controls

# Each subcommand with --owner, and what else it needs to get past its own options.
COMMANDS = {
    "status": ["status"],
    "teardown": ["teardown", "--yes"],
    "ssh-config": ["ssh-config"],
    "logs": ["logs"],
    "stop": ["stop", "--deployment", "t"],
    "start": ["start", "--deployment", "t"],
}
BAD = {
    "star": "*",
    "question": "?",
    "wildcard-suffix": "alice*",
    "empty": "",
    "space": "alice bob",
    "slash": "../alice",
    "escape": "a\x1b]52;c;UFdORUQ=\x07",
    "too-long": "a" * 64,
}


@pytest.mark.usefixtures("isolated_home")
@pytest.mark.parametrize("value", list(BAD.values()), ids=list(BAD))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_owner_is_refused_before_any_aws_call(faulty_aws, tmp_path: Path, capfd, command, value):
    before = sorted(tmp_path.rglob("*"))

    code = main([*COMMANDS[command], "--region", "us-east-1", f"--owner={value}"])
    out = capfd.readouterr()

    assert code == ExitCode.BAD_INPUT
    [line] = out.err.splitlines()
    assert "--owner" in line and repr(value) in line and f"accepted: {accepted_text('owner')}" in line
    assert raw_controls(out.out + out.err) == []
    assert sum(faulty_aws.calls.values()) == 0
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.usefixtures("isolated_home")
def test_a_valid_owner_still_reaches_aws(faulty_aws, capfd):
    """The counter above counts: the same command with a name the pattern accepts asks EC2."""
    assert main(["status", "--region", "us-east-1", "--owner=alice.b-1_x"]) == ExitCode.OK
    assert faulty_aws.calls["ec2:DescribeInstances"] >= 1
    assert "No instances carry the mocha-ansible tags" in capfd.readouterr().out
