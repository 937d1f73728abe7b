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
    """Merge defaults < file < flags and validate. Raises one ConfigError listing every problem,
    a line each, each naming its field, the bad value and what is accepted."""
    keys = known_keys()
    unknown = [_unknown_key(str(key), keys, source) for key in file_values if str(key) not in keys]
    merged: dict[str, Any] = default_values()
    merged.update({k: v for k, v in file_values.items() if str(k) in keys})
    merged.update({k: v for k, v in flag_values.items() if v is not None})
    for key in ("stages", "regions"):
        if isinstance(merged.get(key), list):
            merged[key] = tuple(merged[key])
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        problems = [*unknown, *_problems(exc, merged, file_values, source)]
        raise ConfigError("\n".join(dict.fromkeys(problems))) from None
    if unknown:
        raise ConfigError("\n".join(unknown))
    return settings


def _unknown_key(key: str, keys: list[str], source: str) -> str:
    guess = difflib.get_close_matches(key, keys, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    return f"{source}: unknown key {key!r}{hint}; accepted keys: {', '.join(keys)}"


# pydantic's own wording for its built-in checks ("Input should be greater than or equal to 1")
# says less than the accepted text that follows it; these say what is wrong in the project's words.
_REASONS = {
    "greater_than": "out of range",
    "greater_than_equal": "out of range",
    "less_than": "out of range",
    "less_than_equal": "out of range",
    "int_parsing": "not a whole number",
    "int_from_float": "not a whole number",
    "int_type": "not a whole number (a quoted number is text)",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "bool_parsing": "not true or false",
    "bool_type": "not true or false",
    "string_type": "not text",
    "literal_error": "not one of the accepted values",
    "enum": "not one of the accepted values",
}


def _problems(
    exc: ValidationError, merged: Mapping[str, Any], file_values: Mapping[str, Any], source: str
) -> list[str]:
    """One line per field: a union type reports a failure per member, and the first says enough."""
    first: dict[str, Any] = {}
    for err in exc.errors():
        first.setdefault(str(err["loc"][0]) if err["loc"] else "", err)
    return [_problem(err, merged, file_values, source) for err in first.values()]


def _problem(err: Any, merged: Mapping[str, Any], file_values: Mapping[str, Any], source: str) -> str:
    loc = [str(p) for p in err["loc"]]
    message = str(err["msg"]).removeprefix("Value error, ")
    if not loc:
        # A cross-field check; its message already names the field and what is accepted.
        return f"settings: {message}"
    field = loc[0]
    where = source if field in file_values else "option"
    if field == "extra_vars":
        # The problem names the variable and its value; a role's spec also says what it accepts.
        tail = "" if "accepted:" in message else f"; accepted: {accepted_text(field)}"
        return f"{where}: extra_vars: {message}{tail}"
    flag = f"--{field.replace('_', '-')}"
    name = field if where == source else f"{flag} ({field})"
    problem = _REASONS.get(str(err["type"]), message)
    return f"{where}: {name}={short(merged.get(field))} is invalid: {problem}; accepted: {accepted_text(field)}"
