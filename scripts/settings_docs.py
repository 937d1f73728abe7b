#!/usr/bin/env python3
"""Write docs/reference.md's configuration table from the Settings fields (each declared once).

`--check` exits 1 when docs/reference.md differs from what the fields say. The table sits
between the settings:begin and settings:end markers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path("docs") / "reference.md"
sys.path.insert(0, str(ROOT))

from pydantic_core import PydanticUndefined  # noqa: E402

from mocha_ansible.config import default_values  # noqa: E402
from mocha_ansible.settings import ROLE_VARS, Settings  # noqa: E402

BEGIN, END = "<!-- settings:begin (scripts/settings_docs.py) -->", "<!-- settings:end -->"
# Defaults that depend on who runs the tool, shown as words.
_SHOWN = {"owner": "your login name", "stages": "all four", "extra_vars": "`{}`", "target": "unset (launch on EC2)"}


def _default(name: str) -> str:
    if name in _SHOWN:
        return _SHOWN[name]
    values = default_values()
    if name in values:
        value = values[name]
    else:
        field_default = Settings.model_fields[name].default
        value = None if field_default is PydanticUndefined else field_default
    if name == "cuda" and value is None:
        return "unset (auto: follow cuda_verify and the route)"
    if value is None:
        return "unset"
    if value == "":
        return '`""`'
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, str) and len(value) > 40:
        return f"`{value[:37]}...`"
    return f"`{value}`"


def table() -> str:
    rows = ["| key | flag | role variable | default | accepted |", "| --- | --- | --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        flag = {"tags": "`--tag`", "extra_vars": "`-e`"}.get(name, f"`--{name.replace('_', '-')}`")
        var = f"`{ROLE_VARS[name]}`" if name in ROLE_VARS else "—"
        accepted = str(extra.get("accepted", "")).replace("|", "\\|")
        rows.append(f"| `{name}` | {flag} | {var} | {_default(name)} | {accepted} |")
    return "\n".join(rows)


def render(readme: str) -> str:
    start, stop = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + table() + "\n" + readme[stop:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/reference.md is out of date")
    args = parser.parse_args()
    path = ROOT / PAGE
    current = path.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print(f"{PAGE}'s configuration table is out of date: run scripts/settings_docs.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
