"""`ssh-config --json` prints one JSON object instead of ignoring --json (issue 23), against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from mocha_ansible.cli import main

TAGS = [
    {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
    {"Key": "mocha-ansible:deployment", "Value": "t"},
    {"Key": "mocha-ansible:owner", "Value": "alice"},
]


def test_ssh_config_json_is_one_object_printed_and_written(aws, monkeypatch, tmp_path: Path, isolated_home, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = ec2.run_instances(
        ImageId="ami-785db401", MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": TAGS}],
    )["Instances"]  # fmt: skip
    base = ["--runs-dir", str(tmp_path), "ssh-config", "--json", "--region", "us-east-1", "--key-dir", str(tmp_path)]

    assert main(base) == 0
    [line] = capsys.readouterr().out.splitlines()
    shown = json.loads(line)
    assert (shown["type"], shown["hosts"], shown["written"]) == ("ssh-config", 1, None)
    assert inst["InstanceId"] in shown["config"] and "Host mocha-1" in shown["config"]

    target = tmp_path / "config"
    assert main([*base, "--write", "--ssh-config", str(target)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    written = json.loads(line)
    assert written == {**shown, "written": str(target)}
    assert shown["config"] in target.read_text()
