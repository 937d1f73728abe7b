"""The refused-hosts tables (issue 30 item 15) and the apt lock bound (item 12), read
from the roles' own files."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("julia_build", "mocha_cifar")


def _rows(role: str) -> list[dict]:
    return yaml.safe_load((ROOT / "roles" / role / "vars" / "refused_hosts.yml").read_text())[f"{role}_refused_hosts"]


def test_both_roles_refuse_the_same_hosts_each_row_sourced() -> None:
    assert _rows("julia_build") == _rows("mocha_cifar")
    for row in _rows("julia_build"):
        assert row["reason"] and row["fix"], row["name"]
        assert row["sources"] and all(s.startswith(("https://", "lib/ansible/")) for s in row["sources"]), row["name"]
    assert [(r["distribution"], r["major"]) for r in _rows("julia_build")] == [("Amazon", "2")]


def _apt_tasks(node: object) -> list[dict]:
    if isinstance(node, list):
        return [t for item in node for t in _apt_tasks(item)]
    if isinstance(node, dict):
        found = [node["ansible.builtin.apt"]] if "ansible.builtin.apt" in node else []
        return found + [t for key in ("block", "rescue", "always") for t in _apt_tasks(node.get(key))]
    return []


def test_every_apt_task_waits_for_the_lock_as_long_as_the_role_says() -> None:
    for role in ROLES:
        tasks = [t for f in sorted((ROOT / "roles" / role / "tasks").glob("*.yml"))
                 for t in _apt_tasks(yaml.safe_load(f.read_text()))]  # fmt: skip
        assert tasks, role
        for task in tasks:
            assert task.get("lock_timeout") == f"{{{{ {role}_apt_lock_timeout }}}}", (role, task)
