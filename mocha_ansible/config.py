"""Where settings come from: role defaults < a config file < flags, merged and
validated into Settings, with one-line errors that name the key, the value and
what is accepted.
"""

from __future__ import annotations

import difflib
import getpass
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mocha_ansible.errors import ConfigError
from mocha_ansible.role_vars import role_defaults, short
from mocha_ansible.settings import ROLE_VARS, Settings, accepted_text


def default_values() -> dict[str, Any]:
    defaults = role_defaults()
    values: dict[str, Any] = {}
    for name, var in ROLE_VARS.items():
        if var in defaults:
            values[name] = defaults[var]
    if values.get("cuda") == "auto":
        values["cuda"] = None  # the role's "auto" is the settings' unset
    if not values.get("owner"):
        values["owner"] = _login_name()
    return values


def _login_name() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name).strip("-.")
    return cleaned or "unknown"


def known_keys() -> list[str]:
    return sorted(Settings.model_fields)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, or raise a one-line ConfigError."""
    if not str(path).strip():
        raise ConfigError(
            f"config: file {str(path)!r} is not readable (an empty path); accepted: a readable UTF-8 YAML file"
        )
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config: file {str(p)!r} does not exist", fix="pass --config PATH to a YAML file") from None
    except (PermissionError, IsADirectoryError, UnicodeDecodeError) as exc:
        reason = type(exc).__name__
        raise ConfigError(
            f"config: file {str(p)!r} is not readable ({reason}); accepted: a readable UTF-8 YAML file"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"config: {str(p)!r} is not valid YAML{where}; accepted: a YAML mapping of settings"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"config: {str(p)!r} holds a {type(data).__name__}, not a mapping; accepted: a YAML mapping of settings"
        )
    return dict(data)


def build_settings(file_values: Mapping[str, Any], flag_values: Mapping[str, Any], source: str = "config") -> Settings:
    """Merge defaults < file < flags and validate. Raises ConfigError naming the field."""
    for key in file_values:
        _check_known(str(key), source)
    merged: dict[str, Any] = default_values()
    merged.update(file_values)
    merged.update({k: v for k, v in flag_values.items() if v is not None})
    for key in ("stages", "regions"):
        if isinstance(merged.get(key), list):
            merged[key] = tuple(merged[key])
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise _config_error(exc, merged, file_values, source) from None


def _check_known(key: str, source: str) -> None:
    keys = known_keys()
    if key in keys:
        return
    guess = difflib.get_close_matches(key, keys, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    raise ConfigError(f"{source}: unknown key {key!r}{hint}; accepted keys: {', '.join(keys)}")


def _config_error(
    exc: ValidationError, merged: Mapping[str, Any], file_values: Mapping[str, Any], source: str
) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if not loc:
        # A cross-field check; its message already names the field and what is accepted.
        message = str(err["msg"]).removeprefix("Value error, ")
        return ConfigError(f"settings: {message}")
    field = loc[0]
    where = source if field in file_values else "option"
    if field == "extra_vars":
        # The problem names the variable and its value; a role's spec also says what it accepts.
        problem = str(err["msg"]).removeprefix("Value error, ")
        tail = "" if "accepted:" in problem else f"; accepted: {accepted_text(field)}"
        return ConfigError(f"{where}: extra_vars: {problem}{tail}")
    flag = f"--{field.replace('_', '-')}"
    name = field if where == source else f"{flag} ({field})"
    value = merged.get(field)
    accepted = accepted_text(field)
    problem = str(err["msg"]).removeprefix("Value error, ")
    shown = short(value)
    return ConfigError(f"{where}: {name}={shown} is invalid: {problem}; accepted: {accepted}")
