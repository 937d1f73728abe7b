"""Where the playbooks and roles live, and the names they share with the package."""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROLES: tuple[str, ...] = ("ec2_gpu", "cuda_verify", "julia_build", "mocha_cifar")


PACKAGE = Path(__file__).resolve().parent
# A wheel carries the Ansible project here (setup.py copies it in at build time).
PACKAGED_PROJECT = PACKAGE / "_project"


@cache
def project_dir() -> Path:
    """The folder holding playbooks/, roles/ and ansible.cfg.

    The checkout this package sits in (a clone, an editable install), else the copy
    inside an installed wheel. MOCHA_ANSIBLE_PROJECT_DIR wins, for a project of your own.
    """
    override = os.environ.get("MOCHA_ANSIBLE_PROJECT_DIR")
    candidates = [Path(override)] if override else [PACKAGE.parent, PACKAGED_PROJECT]
    for root in candidates:
        if (root / "playbooks" / "site.yml").is_file():
            return root
    raise RuntimeError(
        f"cannot find playbooks/site.yml under {' or '.join(map(str, candidates))}; reinstall mocha-ansible"
        + (" or fix MOCHA_ANSIBLE_PROJECT_DIR" if override else "")
    )


def xdg_state_dir() -> Path:
    """This tool's folder under the XDG state directory ($XDG_STATE_HOME, else ~/.local/state)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "mocha-ansible"


def sandbox_dir() -> Path:
    """The sandbox's state (emulator record and log, created keys): $MOCHA_ANSIBLE_SANDBOX_DIR, else XDG state."""
    override = os.environ.get("MOCHA_ANSIBLE_SANDBOX_DIR")
    return Path(override) if override else xdg_state_dir() / "sandbox"


def playbook(name: str) -> Path:
    return project_dir() / "playbooks" / name


@cache
def role_python(role: str, relpath: str) -> ModuleType:
    """Import a role's pure-Python file (module_utils, a filter plugin) by path.

    Roles own their parsers and tables; the package reads them rather than copying them.
    """
    path = project_dir() / "roles" / role / relpath
    spec = importlib.util.spec_from_file_location(f"mocha_ansible_role_{role}_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# libyaml's parser where PyYAML has it: the same data, about 8 times faster on the
# roles' tables, which every command reads (about 0.6 s of a run's start-up in Python).
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """yaml.safe_load, through libyaml when available."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


@cache
def role_yaml(role: str, relpath: str) -> Any:
    """A role's own data file (a vars/ table), read once."""
    return load_yaml((project_dir() / "roles" / role / relpath).read_text(encoding="utf-8"))
