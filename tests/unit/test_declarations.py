"""Each setting is declared once (a Settings field), and the CLI, the settings and the
roles' argument_specs agree on it: name, type, choices and default."""

from __future__ import annotations

import argparse
import typing
from collections import Counter
from typing import Any, Literal

import pytest
import yaml

from mocha_ansible.cli import build_parser
from mocha_ansible.config import default_values
from mocha_ansible.project import project_dir
from mocha_ansible.role_vars import role_options
from mocha_ansible.settings import ROLE_VARS, Settings
from mocha_ansible.settings_flags import _plain, flag_fields

# Settings type -> the argument_specs type that means the same.
_SPEC_TYPE = {str: "str", int: "int", float: "float", bool: "bool", tuple: "list", dict: "dict"}


def _provision_actions() -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices["provision"]._actions}


def _role_default(var: str) -> Any:
    role = role_options()[var][0]
    path = project_dir() / "roles" / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))[var]


def test_each_role_variable_is_declared_by_one_setting() -> None:
    declared = [
        info.json_schema_extra["role_var"]
        for info in Settings.model_fields.values()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("role_var")
    ]
    assert [var for var, n in Counter(declared).items() if n > 1] == []
    assert sorted(declared) == sorted(ROLE_VARS.values())


def test_every_generated_flag_maps_to_its_field() -> None:
    actions = _provision_actions()
    for name in flag_fields():
        action = actions[name]
        assert f"--{name.replace('_', '-')}" in action.option_strings, name
        assert (Settings.model_fields[name].description or "") in (action.help or ""), name


@pytest.mark.parametrize("name", sorted(ROLE_VARS), ids=[ROLE_VARS[n] for n in sorted(ROLE_VARS)])
def test_settings_cli_and_argument_specs_agree(name: str) -> None:
    var = ROLE_VARS[name]
    _role, spec = role_options()[var]
    info = Settings.model_fields[name]
    kind = _plain(info.annotation)
    origin = typing.get_origin(kind)
    if origin is Literal:
        assert spec.get("type", "str") == "str", var
        assert list(typing.get_args(kind)) == list(spec["choices"]), var
    elif name == "cuda":
        # The role's "auto" is the settings' unset (None): --cuda / --no-cuda / neither.
        # The role takes true, false or auto (a raw value its preflight checks).
        assert (spec.get("type"), spec.get("default")) == ("raw", "auto"), spec
    else:
        assert _SPEC_TYPE[origin or kind] == spec.get("type", "str"), (var, kind, spec.get("type"))
    # The spec's default, the role's defaults/main.yml and the settings' default are one value.
    role_default = _role_default(var)
    assert spec.get("default") == role_default, var
    settings_default = default_values().get(name)
    expected = None if (name == "cuda" and role_default == "auto") else role_default
    if name == "owner" and not role_default:
        return  # empty in the role: the login name, filled in by the settings
    if name == "regions":
        expected = list(role_default)
        settings_default = list(settings_default or [])
    assert settings_default == expected, var
    # --help shows that default, and Literal settings list their choices.
    help_text = _provision_actions()[name].help or ""
    if origin is Literal:
        assert "Choices: " + ", ".join(typing.get_args(kind)) in help_text


def test_a_new_field_with_a_role_var_gets_a_flag_and_an_extravar(monkeypatch: pytest.MonkeyPatch) -> None:
    """The derivation is real: the julia_from field reaches julia_build_method with no other declaration."""
    args = build_parser().parse_args(["provision", "--julia-from", "source-full"])
    from mocha_ansible.settings_flags import settings_from_args

    assert settings_from_args(args).to_extravars()["julia_build_method"] == "source-full"
