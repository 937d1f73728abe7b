"""Every `mocha-ansible` command the README and docs/ show parses with the real parser (issue 34 item 12).

Commands are taken from fenced code blocks (line by line, `\\` continuations joined) and from inline
code, wherever the program stands in command position: at the start, or after `&&`, `||`, `;`, `|`
or `$(`. The program may be written `mocha-ansible`, `.venv/bin/mocha-ansible` or
`python -m mocha_ansible`. Placeholders such as `<id>`, `RUN_ID` or `H` get a plausible value, and
the command ends where the shell would end it (a pipe, `&&`, `;`, `)`, a redirection or a comment).
A documented flag the parser does not have fails here with the file and line that shows it.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from mocha_ansible.cli import build_parser
from mocha_ansible.errors import MochaAnsibleError
from tests.helpers import ROOT

DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")], key=str)
FENCE = re.compile(r"^\s*(```|~~~)")
PROGRAM = r"(?:\.venv/bin/)?mocha-ansible|(?:\.venv/bin/)?python3? -m mocha_ansible"
# The program in command position: first in the snippet, or right after a shell operator.
COMMAND = re.compile(rf"(?:^|&&|\|\||[;|]|\$\()\s*(?:{PROGRAM})(?=\s|$|\))")
SHELL_ENDS = set("();<>|&")
# Placeholders the docs use, as whole words, and a value the parser accepts in their place.
PLACEHOLDERS = {
    "RUN_ID": "20260101-000000-abcdef",
    "RUN": "20260101-000000-abcdef",
    "H": "4",
    "N": "2",
    "KEY": "~/.ssh/mocha-ansible-default.pem",
    "HOST": "mocha-1",
    "NAME": "default",
    "FILE": "settings.yml",
    "DIR": "runs",
    "URL": "https://example.org/file.tar.gz",
    "REGION": "us-east-1",
}
ANGLE = re.compile(r"<[^<>\n]+>")  # <id>, <run-id>, <deployment>: one made-up word each


@dataclass(frozen=True)
class Command:
    where: str  # file:line, for the failure message
    text: str  # as the docs show it, from the program on
    argv: tuple[str, ...]  # what the program receives


def _snippets(text: str) -> list[tuple[int, str]]:
    """(line number, text) of each code line of a fenced block and each inline code span.

    An inline span may wrap onto the next line, as Markdown allows; it is read as one line.
    """
    out: list[tuple[int, str]] = []
    prose: list[str] = []
    fenced, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            prose.append("")
            continue
        prose.append("" if fenced else line)
        if not fenced:
            continue
        # A line ending in a backslash goes on, as the shell reads it.
        if not pending:
            start = number
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        out.append((start, pending))
        pending = ""
    joined = "\n".join(prose)
    for span in re.finditer(r"`([^`]+)`", joined):
        if "\n\n" not in span.group(1):  # a span never crosses a paragraph
            out.append((joined.count("\n", 0, span.start()) + 1, span.group(1).replace("\n", " ")))
    return sorted(out, key=lambda item: item[0])


def _argv(rest: str) -> tuple[str, ...]:
    """The words after the program, up to where the shell would end the command."""
    lexer = shlex.shlex(ANGLE.sub("x-placeholder", rest), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    with contextlib.suppress(ValueError):  # an unclosed quote after the command's end, as in eval "$(...)"
        for word in lexer:
            if set(word) <= SHELL_ENDS:
                break
            words.append(PLACEHOLDERS.get(word, word))
    return tuple(words)


def commands_in(path: Path) -> list[Command]:
    found = []
    for number, snippet in _snippets(path.read_text(encoding="utf-8")):
        for match in COMMAND.finditer(snippet):
            argv = _argv(snippet[match.end() :])
            if argv:  # the bare program name, written as a name, is not a command to check
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                where = f"{shown}:{number}"
                found.append(Command(where, snippet[match.start() :].strip(" ;&|$("), argv))
    return found


def parse_problem(argv: tuple[str, ...]) -> str | None:
    """None when the real parser accepts argv; else what it said."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            build_parser().parse_args(list(argv))
    except SystemExit as stop:  # argparse's own exits: --help (0), or an error it printed
        return None if stop.code == 0 else f"exit {stop.code}: {out.getvalue().strip()}"
    except MochaAnsibleError as err:  # the project's parser reports usage errors as one-line ConfigErrors
        return str(err)
    return None


COMMANDS = [command for doc in DOCS for command in commands_in(doc)]


def test_the_extractor_finds_the_documented_commands():
    """A broken extractor would find nothing, and every parse below would pass unseen."""
    assert len(COMMANDS) >= 25, [c.text for c in COMMANDS]
    wheres = {c.where.split(":")[0] for c in COMMANDS}
    assert {"README.md", "docs/quickstart-aws.md", "docs/reference.md"} <= wheres
    subcommands = {c.argv[0] for c in COMMANDS}
    assert {"provision", "status", "results", "teardown", "logs", "completion"} <= subcommands


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.where} {' '.join(c.argv)}" for c in COMMANDS])
def test_each_documented_command_parses(command: Command):
    problem = parse_problem(command.argv)
    assert problem is None, f"{command.where}: `{command.text}` does not parse: {problem}"


def test_a_made_up_flag_fails_and_shell_syntax_is_cut(tmp_path: Path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Run `mocha-ansible status --no-such-flag` or\n\n"
        "```sh\n"
        "./scripts/bootstrap && .venv/bin/mocha-ansible results <id> | head  # a comment\n"
        "python -m mocha_ansible logs \\\n"
        "  --follow --lines N\n"
        "aws iam create-policy --policy-name mocha-ansible\n"
        "```\n"
        'and `eval "$(mocha-ansible completion bash)"`, then `.venv/bin/mocha-ansible results\n'
        "latest --plot`.\n",
        encoding="utf-8",
    )
    found = {c.argv: c for c in commands_in(doc)}
    assert list(found) == [
        ("status", "--no-such-flag"),
        ("results", "x-placeholder"),
        ("logs", "--follow", "--lines", "2"),
        ("completion", "bash"),
        ("results", "latest", "--plot"),
    ]
    assert "--no-such-flag" in str(parse_problem(("status", "--no-such-flag")))
    assert parse_problem(("status", "--region", "us-east-1")) is None
    assert parse_problem(("logs", "--help")) is None
    assert [c.where.split(":")[1] for c in found.values()] == ["1", "4", "5", "9", "9"]
