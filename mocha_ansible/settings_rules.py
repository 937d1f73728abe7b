"""The settings' cross-field rules: each returns one line naming the field, the value
and what is accepted, or nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from mocha_ansible.project import role_yaml
from mocha_ansible.role_vars import (
    ROLE_PREFIXES,
    check_role_variable,
    cidr_problem,
    instance_type_facts,
    julia_minor,
    truthy,
)


class CrossFields(Protocol):
    """What the cross-field rules read of the settings (mocha_ansible.settings.Settings has it),
    read-only."""

    @property
    def instance_type(self) -> str: ...

    @property
    def cuda(self) -> bool | None: ...

    @property
    def target(self) -> str | None: ...

    @property
    def stages(self) -> tuple[str, ...]: ...

    @property
    def extra_vars(self) -> dict[str, Any]: ...

    @property
    def ssh_cidr(self) -> str: ...

    @property
    def julia_version(self) -> str: ...

    @property
    def ssh_key(self) -> str | None: ...

    @property
    def after(self) -> str: ...

    @property
    def spot(self) -> bool: ...

    @property
    def wants_gpu(self) -> bool: ...


# \Z, not $: $ also matches before a trailing newline.
_TAG_CHARS_RE = re.compile(r"^[\w .:/=+\-@]*\Z")


def tags_problem(tags: dict[str, str]) -> str | None:
    """Tags AWS would refuse, or a shell would mangle."""
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            return f"tag key {key!r} must be 1-128 characters and not start with aws:"
        if len(value) > 256:
            return f"tag {key!r} value is longer than 256 characters"
        for text in (key, value):
            if not _TAG_CHARS_RE.match(text) or not text.isascii():
                return f"tag {key!r} has characters AWS or a shell would mangle: {text!r}"
    return None


def extra_vars_problem(extra: dict[str, Any], role_vars: dict[str, str]) -> str | None:
    """-e values the roles' own specs refuse, or that would bypass a flag's checks."""
    flagged = {var: name for name, var in role_vars.items()}
    for key, value in extra.items():
        if not key.startswith(ROLE_PREFIXES):
            return f"{key!r} is not a role variable"
        if key in flagged:
            # Passed through -e it would skip the flag's checks, across fields too.
            name = flagged[key]
            return (
                f"{key} has a flag; use --{name.replace('_', '-')} (or the config key {name});"
                f" accepted: role variables that have no flag"
            )
        problem = check_role_variable(key, value)
        if problem:
            return problem
    return None


def cross_field_problem(s: CrossFields, accepted_text: Callable[[str], str]) -> str | None:
    """Why these settings cannot go together, or None; `accepted_text(field)` says what a field accepts."""
    family = s.instance_type.split(".", 1)[0]
    gpu_families = instance_type_facts()["ec2_gpu_gpu_families"]
    if s.cuda is True and s.target is None and family not in gpu_families:
        return (
            f"cuda=true needs a GPU instance type, and {s.instance_type} has no GPU"
            f" [field: instance_type; accepted: a type from {', '.join(gpu_families)}]"
        )
    if s.target is None and "provision" in s.stages and family not in gpu_families and s.wants_gpu:
        # ec2_gpu refuses it too, but only in the provision stage: say so before the plan.
        return (
            f"instance_type={s.instance_type} has no NVIDIA GPU [field: instance_type; accepted: a type from"
            f" {', '.join(gpu_families)}, or --no-cuda (or -e ec2_gpu_require_gpu=false) for a CPU-only run]"
        )
    open_world = truthy(s.extra_vars.get("ec2_gpu_ssh_open_world", False))
    wide = cidr_problem(s.ssh_cidr, open_world)
    if wide:
        return f"ssh_cidr={s.ssh_cidr} {wide} [field: ssh_cidr; accepted: {accepted_text('ssh_cidr')}]"
    minor = julia_minor(s.julia_version)
    compat = role_yaml("mocha_cifar", "vars/mocha_compat.yml")["mocha_cifar_compat"]
    if "mocha" in s.stages and s.julia_version != "latest-stable" and minor not in compat:
        return (
            f"julia_version={s.julia_version} has no Mocha release (Mocha was retired in 2018-12)"
            f" [field: julia_version; accepted: a tag of Julia {', '.join(sorted(compat))}, e.g. v0.5.0]"
        )
    if s.ssh_key is not None and s.target is None:
        return "ssh_key only applies with target [field: ssh_key; accepted: unset without target]"
    if s.target is not None and s.after != "keep":
        return (
            f"after={s.after} only applies to instances this tool launched, not to --target"
            " [field: after; accepted: keep with target]"
        )
    if s.spot and s.after == "stop":
        return (
            "after=stop cannot stop a spot instance launched with the default one-time request"
            " [field: after; accepted: keep or terminate with spot]"
        )
    return None
