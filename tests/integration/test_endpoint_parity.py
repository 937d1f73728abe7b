"""Real AWS and the emulator take the same code path: only AWS_ENDPOINT_URL differs.

Runs the same amazon.aws module calls once against the emulator and once against
real AWS (unreachable from CI: the call fails, but the module still reports the
arguments it was invoked with), and compares those arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mocha_ansible import aws as aws_api
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.helpers import ROOT


def _module_args(tmp_path: Path, name: str) -> tuple[str, dict[str, Any]]:
    seen: dict[str, Any] = {}

    def grab(event: dict[str, Any]) -> None:
        if event.get("event") in ("runner_on_ok", "runner_on_failed"):
            data = event["event_data"]
            seen[data["task"]] = (data.get("res") or {}).get("invocation", {}).get("module_args")

    job = PlaybookJob(
        playbook=ROOT / "tests/integration/playbooks/aws_probe.yml",
        ident=name,
        extravars={"probe_ignore_errors": True},
    )
    result = run_playbook(job, tmp_path / name, on_event=grab)
    return result.status, seen


def test_module_arguments_are_the_same_with_and_without_the_emulator(aws_env_real_and_emulated, tmp_path):
    emulated_env, real_env, monkeypatch = aws_env_real_and_emulated
    for key, value in emulated_env.items():
        monkeypatch.setenv(key, value)
    status_emulated, emulated = _module_args(tmp_path, "emulated")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    for key, value in real_env.items():
        monkeypatch.setenv(key, value)
    _, real = _module_args(tmp_path, "real")
    assert status_emulated == "successful"
    assert set(emulated) == {"Who am I", "List VPCs"}
    assert emulated == real
    for args in emulated.values():
        assert not {k: v for k, v in args.items() if "endpoint" in k or "url" in k.lower() if v}


@pytest.fixture
def aws_env_real_and_emulated(aws, monkeypatch):
    emulated = {"AWS_ENDPOINT_URL": aws.url, "AWS_DEFAULT_REGION": "us-east-1"}
    # Real AWS, made to fail fast instead of retrying for minutes.
    real = {"AWS_MAX_ATTEMPTS": "1", "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "1"}
    return emulated, real, monkeypatch


def test_the_endpoint_comes_only_from_the_environment(aws, monkeypatch):
    assert aws_api.client("ec2", "us-east-1").meta.endpoint_url == aws.url
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert aws_api.client("ec2", "us-east-1").meta.endpoint_url == "https://ec2.us-east-1.amazonaws.com"
