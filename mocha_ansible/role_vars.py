"""What the roles declare about their variables, read from the roles' own files:
the input patterns their preflight asserts, their argument_specs, their defaults and
ec2_gpu's instance-type table. Settings and the CLI judge values with these, so they
never accept what a role refuses later.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from mocha_ansible.project import ROLES, load_yaml, project_dir, role_python, role_yaml

ROLE_PREFIXES = tuple(f"{role}_" for role in ROLES)
# Roles whose vars/input_patterns.yml holds the patterns of their variables.
_PATTERN_ROLES = ("ec2_gpu", "julia_build", "mocha_cifar")


@cache
def input_patterns() -> dict[str, str]:
    """Role variable -> the regex its role's preflight asserts (roles/*/vars/input_patterns.yml)."""
    patterns: dict[str, str] = {}
    for role in _PATTERN_ROLES:
        patterns.update(role_yaml(role, "vars/input_patterns.yml")[f"{role}_input_patterns"])
    return patterns


def matches_role_pattern(var: str, value: Any) -> bool:
    """Whether `value` passes `var`'s pattern as the role's `is match(...)` judges it (re.match)."""
    return isinstance(value, str) and re.match(input_patterns()[var], value) is not None


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition that this botocore knows (its bundled endpoints data)."""
    from mocha_ansible.aws import botocore_session

    session = botocore_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def region_problem(value: Any) -> str | None:
    """Why `value` is not a usable region name, or None: the role's pattern, then botocore's list."""
    if not matches_role_pattern("ec2_gpu_region", value):
        return "not an AWS region name" + (" (ISO regions are not supported)" if "-iso" in str(value) else "")
    if value not in known_regions():
        guess = difflib.get_close_matches(str(value), sorted(known_regions()), n=1)
        return "names no AWS region botocore knows" + (f" (did you mean {guess[0]!r}?)" if guess else "")
    return None


@cache
def known_instance_types() -> frozenset[str]:
    """Every instance type botocore's EC2 model names (its InstanceType enum)."""
    from mocha_ansible.aws import botocore_session

    shape = botocore_session().get_service_model("ec2").shape_for("InstanceType")
    return frozenset(shape.enum)  # type: ignore[attr-defined]  # StringShape.enum


def instance_type_problem(value: str) -> str | None:
    """Why a well-formed instance type names nothing EC2 has, or None (botocore's list)."""
    if value in known_instance_types():
        return None
    guess = difflib.get_close_matches(value, sorted(known_instance_types()), n=1)
    return "names no EC2 instance type botocore knows" + (f" (did you mean {guess[0]!r}?)" if guess else "")


def cidr_problem(value: str, open_world: bool) -> str:
    """ec2_gpu's own CIDR check (its filter plugin), '' when it passes."""
    check = role_python("ec2_gpu", "filter_plugins/ec2_gpu_cidr.py").ec2_gpu_cidr_problem
    return str(check(value, open_world))


_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "path": "a path",
    "list": "a list",
    "dict": "a mapping",
    "raw": "any value",
}


@cache
def role_options() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every public role variable -> (its role, its spec in meta/argument_specs.yml)."""
    options: dict[str, tuple[str, dict[str, Any]]] = {}
    for role in ROLES:
        specs = role_yaml(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
        options.update({name: (role, spec) for name, spec in specs.items()})
    return options


def check_role_variable(name: str, value: Any) -> str | None:
    """The role's own argument spec judges a value passed with -e; None when it passes.

    The same validator ansible-core runs at play time, run before anything exists.
    """
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # type: ignore[import-untyped]

    known = role_options()
    if name not in known:
        role = next((r for r in ROLES if name.startswith(f"{r}_")), "?")
        names = [n for n, (r, _) in known.items() if r == role]
        guess = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        return f"{name!r} is not a public variable of role {role}{hint}; see roles/{role}/README.md"
    role, spec = known[name]
    result = ArgumentSpecValidator({name: spec}).validate({name: value})
    if not result.error_messages:
        if name in input_patterns() and not matches_role_pattern(name, result.validated_parameters[name]):
            # The role's preflight asserts this pattern; refuse now, not after earlier stages ran.
            return (
                f"{name}={short(value)} is invalid for role {role}{url_hint(value)}; accepted: a value matching"
                f" {input_patterns()[name]} (roles/{role}/vars/input_patterns.yml)"
            )
        return None
    if spec.get("choices"):
        accepted = "one of " + ", ".join(str(c) for c in spec["choices"])
    else:
        kind = str(spec.get("type", "str"))
        accepted = _TYPE_WORDS.get(kind, kind) + (f" of {spec['elements']}" if spec.get("elements") else "")
    return f"{name}={short(value)} is invalid for role {role}; accepted: {accepted}"


@cache
def instance_type_facts() -> dict[str, Any]:
    """ec2_gpu's table of GPU families, vCPUs and dated prices (one file, shared with the role)."""
    path = project_dir() / "roles" / "ec2_gpu" / "vars" / "instance_types.yml"
    data: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    return data


def role_defaults(root: Path | None = None) -> dict[str, Any]:
    """The public defaults of every role, merged."""
    merged: dict[str, Any] = {}
    base = root or project_dir()
    for role in ROLES:
        path = base / "roles" / role / "defaults" / "main.yml"
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        merged.update(data)
    return merged


def url_hint(value: Any) -> str:
    """A pointed reason for the commonest refusals of a URL."""
    text = str(value)
    if text.startswith("ssh://") or re.match(r"^[\w.-]+@[\w.-]+:", text):
        return " (SSH sources are not supported: the host holds no key for the git server)"
    if re.match(r"^\w+://[^/]*@", text):
        return " (user:password@ would be stored in run records and logs)"
    return ""


def short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def truthy(value: Any) -> bool:
    """A role variable's boolean as Ansible reads it (true, yes, on, 1)."""
    return value in (True, "true", "True", "yes", "on", 1, "1")


def julia_minor(tag: str) -> str:
    """v0.6.4 -> 0.6: the key of mocha_cifar's Julia <-> Mocha table."""
    return ".".join(tag.lstrip("v").split(".")[:2])
