"""argparse pieces every subcommand shares: one-line usage errors, and option types that name what they accept."""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from mocha_ansible.config import load_config_file
from mocha_ansible.errors import ConfigError
from mocha_ansible.role_vars import matches_role_pattern, region_problem
from mocha_ansible.settings import ROLE_VARS, accepted_text

EXTRA_VARS_FORMS = "@FILE, a JSON/YAML mapping, or KEY=VALUE"


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other bad input, and an
    abbreviated option is refused: `--julia-ver` must not silently mean `--julia-version`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        # The CLI prefixes every error with "mocha-ansible: error:"; a subcommand's name stays.
        where = self.prog.removeprefix("mocha-ansible").strip()
        raise ConfigError(f"{where + ': ' if where else ''}{message}{self._guess(message)}", fix=f"{self.prog} --help")

    def _guess(self, message: str) -> str:
        """A "did you mean" for a misspelled subcommand or option, as regions and config keys get."""
        if choice := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message):
            word, known = choice.group(1), [c.strip(" '") for c in choice.group(2).split(",")]
        elif unknown := re.search(r"unrecognized arguments: (-\S+)", message):
            word, known = unknown.group(1).split("=", 1)[0], sorted(self._option_strings())
        else:
            return ""
        guess = difflib.get_close_matches(word, known, n=1)
        return f" (did you mean {guess[0]!r}?)" if guess else ""

    def _option_strings(self) -> set[str]:
        """The options of this parser and of every subcommand under it."""
        found: set[str] = set()
        for action in self._actions:
            found.update(s for s in action.option_strings if s.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found |= sub._option_strings() if isinstance(sub, Parser) else set()
        return found


def region_arg(value: str) -> str:
    """--region of the subcommands that take no settings, judged as provision judges it."""
    problem = region_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(
            f"{value!r} {problem.replace('not an', 'is not an')}; accepted: an AWS region name such as us-east-1"
        )
    return value


def name_arg(setting: str) -> Callable[[str], str]:
    """--deployment/--owner: judged as the config key `setting` is, by its role pattern, before any AWS call.
    An empty value must not widen to "all", and EC2 filters take `*` and `?` as wildcards: the pattern refuses both.
    """
    var = ROLE_VARS[setting]

    def convert(value: str) -> str:
        if not matches_role_pattern(var, value) or not value:
            raise argparse.ArgumentTypeError(f"{value!r} is not a valid name; accepted: {accepted_text(setting)}")
        return value

    convert.__name__ = "name"
    return convert


def lines_arg(value: str) -> int:
    """logs --lines: a count of lines, 1 to 10000."""
    if not value.isdigit() or not 1 <= int(value) <= 10000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a line count; accepted: a whole number from 1 to 10000")
    return int(value)


def path_arg(kind: str) -> Callable[[str], str]:
    """A path option: not empty or blank, and not an existing thing of the wrong kind."""

    def convert(value: str) -> str:
        path = Path(value.strip()).expanduser()
        wrong = path.exists() and (path.is_dir() if kind == "file" else not path.is_dir())
        if not value.strip() or value != value.strip() or wrong:
            what = "is empty" if not value.strip() else f"is not a {kind}" if wrong else "has blanks around it"
            raise argparse.ArgumentTypeError(f"{value!r} {what}; accepted: the path of a {kind}")
        return value

    convert.__name__ = kind
    return convert


def _mapping(raw: str, stripped: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(stripped)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(f"option: --extra-vars={raw!r} is not a mapping; accepted: {EXTRA_VARS_FORMS}")
    return data


def parse_extra_vars(values: Sequence[str]) -> dict[str, Any]:
    """ansible-playbook's -e forms: @FILE, a YAML/JSON mapping, or KEY=VALUE words."""
    out: dict[str, Any] = {}
    for raw in values:
        if not raw.strip():
            raise ConfigError(f"option: --extra-vars={raw!r} is empty; accepted: {EXTRA_VARS_FORMS}")
        if raw.startswith("@"):
            out.update(load_config_file(raw[1:]))
            continue
        stripped = raw.strip()
        if stripped.startswith("{"):
            out.update(_mapping(raw, stripped))
            continue
        for word in stripped.split():
            key, sep, val = word.partition("=")
            if not sep or not key:
                raise ConfigError(f"option: --extra-vars word {word!r} is not KEY=VALUE; accepted: {EXTRA_VARS_FORMS}")
            out[key] = yaml.safe_load(val) if val else ""
    return out
