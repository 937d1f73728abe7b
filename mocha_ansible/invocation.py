"""How a printed hint names this program, so that the command works as printed.

After ./scripts/bootstrap the venv is not on PATH: a hint saying `mocha-ansible teardown`
failed with "command not found" (issue 34 item 4). Hints name `mocha-ansible` only when
the shell would find this very program under that name.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def program() -> str:
    """`mocha-ansible` when PATH finds this install's script; else that script's path (relative
    when it lies under the working folder); else `python -m mocha_ansible` with this Python."""
    script = Path(sys.executable).parent / "mocha-ansible"
    if not script.is_file():
        return f"{sys.executable} -m mocha_ansible"
    found = shutil.which("mocha-ansible")
    if found is not None and Path(found).resolve() == script.resolve():
        return "mocha-ansible"
    try:
        return str(script.relative_to(Path.cwd()))  # a path with a slash: the shell runs it as is
    except ValueError:
        return str(script)


def command(*words: str) -> str:
    """This program with `words`, as a hint prints it."""
    return " ".join([program(), *words])
