"""CLI conventions of well-liked tools (issue 23): no abbreviated options, global options
before or after the subcommand, --json on every command that prints, and help that names
only what the command accepts."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from mocha_ansible.cli import build_parser, main

# completion prints a shell script, which has no JSON form.
PRINTING = ("provision", "preflight", "status", "teardown", "ssh-config", "bake", "results", "logs")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_parser_refuses_abbreviations():
    parsers = {"mocha-ansible": build_parser(), **_subparsers()}
    assert {name: p.allow_abbrev for name, p in parsers.items()} == {name: False for name in parsers}


@pytest.mark.parametrize(
    ("argv", "typed"),
    [(["provision", "--julia-ver", "v0.6.4"], "--julia-ver"), (["teardown", "--am"], "--am")],
)
def test_an_abbreviated_option_is_refused_with_exit_2(tmp_path: Path, capsys, argv, typed):
    code = main(["--runs-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert typed in err and "unrecognized arguments" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--runs-dir", "{dir}", "results"],
        ["results", "--runs-dir", "{dir}"],
        ["--json", "--runs-dir", "{dir}", "results"],
        ["results", "--json", "--runs-dir", "{dir}"],
    ],
)
def test_global_options_work_before_and_after_the_subcommand(tmp_path: Path, capsys, argv):
    argv = [a.replace("{dir}", str(tmp_path)) for a in argv]
    args = build_parser().parse_args(argv)
    assert args.runs_dir == str(tmp_path)
    assert args.json is ("--json" in argv)
    assert main(argv) == 0
    out = capsys.readouterr().out
    shown = json.dumps({"type": "runs", "root": str(tmp_path), "runs": []})
    assert out == (f"{shown}\n" if "--json" in argv else f"No runs under {tmp_path}.\n")


@pytest.mark.parametrize(
    ("argv", "verbose", "quiet"),
    [
        (["-v", "provision"], 1, False),
        (["provision", "-vv"], 2, False),
        (["-q", "teardown"], 0, True),
        (["status", "--quiet"], 0, True),
        (["results"], 0, False),
    ],
)
def test_verbose_and_quiet_work_before_and_after_the_subcommand(argv, verbose, quiet):
    args = build_parser().parse_args(argv)
    assert (args.verbose, args.quiet) == (verbose, quiet)


def test_verbose_and_quiet_exclude_each_other(tmp_path: Path, capsys):
    assert main(["status", "-v", "-q", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not allowed with argument" in err


def test_a_global_option_before_the_subcommand_is_not_reset_by_it(tmp_path: Path):
    args = build_parser().parse_args(["--runs-dir", str(tmp_path), "--json", "status"])
    assert (args.runs_dir, args.json) == (str(tmp_path), True)
    args = build_parser().parse_args(["status"])
    assert (args.runs_dir, args.json) == (None, False)


@pytest.mark.parametrize("name", PRINTING)
def test_every_command_that_prints_accepts_json(name):
    assert build_parser().parse_args([name, "--json"]).json is True


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_help_names_only_options_the_command_accepts(name):
    parser = _subparsers()[name]
    accepted = {s for a in parser._actions for s in a.option_strings}
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", parser.format_help()))
    # --no-X is how BooleanOptionalAction spells the negation of --X.
    assert mentioned - accepted == set()


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_help_shows_choices_and_no_empty_defaults(name):
    parser = _subparsers()[name]
    text = parser.format_help()
    assert "(default: None)" not in text and "(default: )" not in text
    for action in parser._actions:
        if action.choices and not isinstance(action, argparse._SubParsersAction):
            assert "{" + ",".join(map(str, action.choices)) + "}" in text, action.dest


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_help_shows_no_empty_default_and_says_how_lists_are_written(name):
    text = " ".join(_subparsers()[name].format_help().split())
    for empty in ("(default: None)", "(default: )", "(default: [])", "(default: ())"):
        assert empty not in text
    if "--regions" in text:
        assert "capacity. Comma-separated." in text
