"""Text this tool did not write: AWS tags and names, and anything fetched from a host.

Ansible renders Jinja in the extra-vars it is given, so such text never goes over as a plain
extra-var: a tag of `{{ lookup('pipe', ...) }}` would run on the controller. A PlaybookJob
carries it apart (`untrusted`), and runner.run_playbook writes it to a vars file in the run's
private folder with every string under Ansible's own `!unsafe` tag, which Ansible keeps as data
wherever the play uses it. The callers also judge each value first, by the pattern of the flag
or config key it stands for, and show a refused one escaped (repr), never raw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


class _Unsafe(str):
    """A string written with Ansible's `!unsafe` tag."""

    __slots__ = ()


class _UnsafeDumper(yaml.SafeDumper):
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, value: _Unsafe) -> yaml.ScalarNode:
    # Double quotes: YAML escapes control characters there, so none reaches the file raw.
    return dumper.represent_scalar("!unsafe", str(value), style='"')


_UnsafeDumper.add_representer(_Unsafe, _represent_unsafe)


def _mark(value: Any) -> Any:
    """`value` with every string in it, mapping keys included, marked unsafe."""
    if isinstance(value, str):
        return _Unsafe(value)
    if isinstance(value, Mapping):
        return {_mark(k): _mark(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mark(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"untrusted value of type {type(value).__name__} cannot be handed to Ansible as data")


def unsafe_vars_yaml(values: Mapping[str, Any]) -> str:
    """`values` (variable name -> value) as an Ansible vars file, each value's strings tagged `!unsafe`.

    The variable names stay plain: they are this tool's own.
    """
    document = {str(name): _mark(value) for name, value in values.items()}
    return str(yaml.dump(document, Dumper=_UnsafeDumper, allow_unicode=False, sort_keys=False, width=2**31))
