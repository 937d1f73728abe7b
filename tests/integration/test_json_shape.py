"""One JSON shape across commands (issue 23; docs/reference.md, "JSON output"): with --json every line a
command prints on stdout is one JSON object whose "type" names it. One test per command not covered by its own JSON test
(ssh-config: test_ssh_config_json.py; teardown: test_teardown_amis.py; logs: test_logs_command.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mocha_ansible import results
from mocha_ansible.cli import main
from tests.helpers import private_cli


def _objects(out: str) -> list[dict[str, Any]]:
    lines = out.splitlines()
    parsed = [json.loads(line) for line in lines]
    assert lines and all(isinstance(p, dict) and isinstance(p.get("type"), str) for p in parsed), out
    return parsed


def test_status(aws, tmp_path: Path, isolated_home, capsys):
    assert main(["status", "--json", "--region", "us-east-1"]) == 0
    [shown] = _objects(capsys.readouterr().out)
    assert shown["type"] == "status" and shown["instances"] == []


def test_results_list_and_show(tmp_path: Path, capsys):
    results.write_record(results.new_run_dir(tmp_path), {"command": "provision", "status": "ok"})
    assert main(["--json", "results", "--runs-dir", str(tmp_path)]) == 0
    [listing] = _objects(capsys.readouterr().out)
    assert listing["type"] == "runs" and listing["root"] == str(tmp_path)
    assert [r["status"] for r in listing["runs"]] == ["ok"]
    assert main(["results", "latest", "--json", "--runs-dir", str(tmp_path)]) == 0
    [run] = _objects(capsys.readouterr().out)
    assert (run["type"], run["run_id"]) == ("run", listing["runs"][0]["run_id"])


@pytest.mark.parametrize("command", ["preflight", "provision"])
def test_preflight_and_provision_check(aws, tmp_path: Path, command):
    proc = private_cli(tmp_path, command, *(["--check"] if command == "provision" else []), "--json",
                "--ssh-cidr", "203.0.113.7/32")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "plan" in [o["type"] for o in _objects(proc.stdout)]


def test_sandbox_down(monkeypatch, tmp_path: Path, capsys):
    # sandbox.down itself removes this machine's sandbox: replaced here by a double of its return value.
    gone = {"containers": ["mocha-sandbox-i-1"], "emulator_stopped": True}
    monkeypatch.setattr("mocha_ansible.sandbox.down", lambda: gone)
    assert main(["provision", "--sandbox", "--down", "--json", "--runs-dir", str(tmp_path)]) == 0
    [shown] = _objects(capsys.readouterr().out)
    assert shown == {"type": "sandbox-down", **gone}
