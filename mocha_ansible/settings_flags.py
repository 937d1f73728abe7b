"""The settings' command-line flags, derived from the Settings fields.

Each setting is declared once, as a field of `Settings` (its help, what it accepts
and the role variable it becomes). Its flag is `--` plus the field name with dashes;
its argparse type follows the field's type; its default shown in --help is the
role's (defaults/main.yml) or the field's own.
"""

from __future__ import annotations

import argparse
import types
import typing
from typing import Any, Literal

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from mocha_ansible import environment
from mocha_ansible.arguments import EXTRA_VARS_FORMS, parse_extra_vars
from mocha_ansible.config import build_settings, load_config_file
from mocha_ansible.settings import Settings, accepted_text

# Fields whose flags are not the generated kind: a repeatable KEY=VALUE tag and -e.
_CUSTOM = {"tags", "extra_vars"}
_METAVARS = {"julia_repo": "URL", "dataset_url": "URL", "mocha_source": "SOURCE", "dataset_checksum": "ALGO:HEX"}


def _number(kind: type[int] | type[float], name: str) -> typing.Callable[[str], int | float]:
    def convert(value: str) -> int | float:
        try:
            return kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number; accepted: {accepted_text(name)}") from None

    convert.__name__ = kind.__name__
    return convert


def _csv(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def _key_value(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE; accepted: KEY=VALUE, e.g. team=vision")
    return key, val


def _plain(annotation: Any) -> Any:
    """The type under Optional[...]."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def flag_kwargs(name: str, info: FieldInfo, defaults: dict[str, Any]) -> dict[str, Any]:
    """add_argument keywords for one setting."""
    kind = _plain(info.annotation)
    help_text = info.description or ""
    choices = [str(c) for c in typing.get_args(kind)] if typing.get_origin(kind) is Literal else []
    if choices:
        help_text += f" Choices: {', '.join(choices)}."
    default = defaults.get(name, info.default if info.default not in (PydanticUndefined, None) else None)
    if isinstance(default, (tuple, list)):
        default = ",".join(str(d) for d in default)
    if typing.get_origin(kind) is tuple:
        help_text += " Comma-separated."
    if default is not None and default != "":
        help_text += f" (default: {default})"
    kwargs: dict[str, Any] = {"dest": name, "help": help_text}
    if kind is bool:
        kwargs.update(action=argparse.BooleanOptionalAction, default=None)
    elif kind in (int, float):
        kwargs["type"] = _number(kind, name)
    elif typing.get_origin(kind) is tuple:
        kwargs["type"] = _csv
    if name in _METAVARS:
        kwargs["metavar"] = _METAVARS[name]
    elif choices:
        # Validated by the settings (one-line errors naming the field); the metavar shows the choices.
        kwargs["metavar"] = "{" + ",".join(choices) + "}"
    return kwargs


def flag_fields() -> tuple[str, ...]:
    """The settings that have a generated flag."""
    return tuple(name for name in Settings.model_fields if name not in _CUSTOM)


def add_settings_options(p: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    g = p.add_argument_group("settings (flags override --config, which overrides defaults)")
    g.add_argument("--config", metavar="FILE", help="YAML file of settings (keys as the flags, with _ for -)")
    for name, info in Settings.model_fields.items():
        if name == "tags":
            g.add_argument(
                "--tag", action="append", type=_key_value, metavar="KEY=VALUE", dest="tags",
                help="Extra tag on every AWS resource the run creates (repeatable).",
            )  # fmt: skip
        elif name not in _CUSTOM:
            g.add_argument("--" + name.replace("_", "-"), **flag_kwargs(name, info, defaults))
    g.add_argument(
        "-e", "--extra-vars", action="append", default=[], metavar="VARS",
        help=f"Role variables: {EXTRA_VARS_FORMS} (repeatable). Names must start with a role prefix.",
    )  # fmt: skip
    environment.add_flag(
        g,
        "No AWS account, no GPU: the embedded AWS emulator on 127.0.0.1, and a local Docker container "
        "for each instance.",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """defaults < --config FILE < flags, validated."""
    file_values: dict[str, Any] = {}
    source = "config"
    if args.config is not None:
        file_values = load_config_file(args.config)
        source = str(args.config)
    flags: dict[str, Any] = {name: getattr(args, name) for name in flag_fields()}
    if args.tags:
        base_tags = file_values.get("tags")
        flags["tags"] = {**base_tags, **dict(args.tags)} if isinstance(base_tags, dict) else dict(args.tags)
    extra = parse_extra_vars(args.extra_vars)
    if extra:
        base = file_values.get("extra_vars")
        flags["extra_vars"] = {**base, **extra} if isinstance(base, dict) else extra
    return build_settings(file_values, flags, source=source)
