"""Issue 18 item 2: the fixed costs of one CLI run, cut without changing what it checks.

No timings here: each test checks the work done (requests made, objects shared), not seconds.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from mocha_ansible import aws, emulator, provision
from mocha_ansible.config import build_settings
from tests.doubles.busy_emulator import BusyEmulatorDouble


def test_a_busy_emulator_is_alive_without_dumping_its_state() -> None:
    """The probe asks for the dashboard, not the state dump: a busy emulator is not replaced by an empty one."""
    with BusyEmulatorDouble() as double:
        assert emulator.Emulator(os.getpid(), double.port).alive()
    assert double.paths
    assert not [p for p in double.paths if "data.json" in p]


def test_clients_share_one_model_loader_and_read_the_endpoint_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    first = aws.client("ec2", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:10")
    second = aws.client("sts", "eu-west-1")
    assert first._loader is second._loader
    assert first.meta.endpoint_url == "http://127.0.0.1:9"
    assert second.meta.endpoint_url == "http://127.0.0.1:10"
    assert second.meta.region_name == "eu-west-1"


class _Ec2Double:
    """TEST DOUBLE: an EC2 client that records the calls made and has no resources."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def get_paginator(self, name: str) -> Any:
        calls = self.calls

        class Pages:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                calls.append(name)
                return [{"Reservations": []}]

        return Pages()

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> dict[str, Any]:
            self.calls.append(name)
            return {}

        return call


def test_provision_lists_live_instances_with_one_call_per_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before and after the playbook, provision needs the instances only, not the whole footprint (5 calls)."""
    calls: list[str] = []
    monkeypatch.setattr(aws, "client", lambda service, region, attempts=5: _Ec2Double(calls))
    settings = build_settings({}, {})
    assert provision._live(settings) == []
    assert calls == ["describe_instances"] * len(provision._regions(settings))
