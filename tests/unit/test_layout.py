"""The project's shape: playbooks that run alone, roles that follow the house rules."""

from __future__ import annotations

import pytest
import yaml

from mocha_ansible.project import ROLES
from tests.helpers import ROOT, run_playbook

PLAYBOOKS = sorted(p.name for p in (ROOT / "playbooks").glob("*.yml"))
HOST_ROLES = ("cuda_verify", "julia_build", "mocha_cifar")
META_KEYS = {
    "name", "when", "block", "rescue", "always", "vars", "register", "loop", "loop_control", "tags",
    "changed_when", "failed_when", "become", "become_user", "delegate_to", "no_log", "check_mode",
    "ignore_errors", "environment", "args", "notify", "until", "retries", "delay", "async", "poll", "run_once",
    "timeout",
}  # fmt: skip


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _modules(role: str) -> set[str]:
    found = set()
    for path in (ROOT / "roles" / role / "tasks").glob("*.yml"):
        for task in _tasks(yaml.safe_load(path.read_text())):
            found |= {k for k in task if k not in META_KEYS and k not in ("block", "rescue", "always")}
    return found


@pytest.mark.parametrize("book", PLAYBOOKS)
def test_every_playbook_passes_syntax_check_on_its_own(book):
    proc = run_playbook(f"playbooks/{book}", "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_site_covers_every_stage_playbook():
    text = (ROOT / "playbooks/site.yml").read_text() + (ROOT / "playbooks/configure.yml").read_text()
    for stage in ("provision.yml", "verify.yml", "julia.yml", "mocha.yml"):
        assert stage in text


@pytest.mark.parametrize("role", HOST_ROLES)
def test_host_roles_need_ansible_core_alone(role):
    """`provision --target` runs configure.yml; it must not need any collection."""
    local = {p.stem for p in (ROOT / "roles" / role / "library").glob("*.py")}
    outside = {m for m in _modules(role) if not m.startswith("ansible.builtin.") and m not in local}
    assert outside == set()


@pytest.mark.parametrize("role", ROLES)
def test_role_shape(role):
    base = ROOT / "roles" / role
    for part in ("defaults/main.yml", "meta/main.yml", "meta/argument_specs.yml", "tasks/main.yml", "README.md"):
        assert (base / part).is_file(), part
    defaults = yaml.safe_load((base / "defaults/main.yml").read_text()) or {}
    specs = yaml.safe_load((base / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert all(name.startswith(f"{role}_") for name in defaults)
    assert set(defaults) <= set(specs), set(defaults) - set(specs)
    for name, spec in specs.items():
        assert spec.get("default") == defaults.get(name, spec.get("default")), name
