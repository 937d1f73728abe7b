"""The package's modules import one another without circles (issue 35 item 4): every
`import mocha_ansible.x` / `from mocha_ansible[.x] import y`, at any depth of a module (inside
functions and `if TYPE_CHECKING:` too), is an edge; a circle was settings <-> settings_rules."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "mocha_ansible"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _edges() -> dict[str, set[str]]:
    modules = {_module(p) for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mocha_ansible"):
                found |= {f"{node.module}.{a.name}" for a in node.names} & modules or {node.module}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("mocha_ansible")}
        edges[_module(path)] = (found & modules) - {_module(path), "mocha_ansible.__init__", "mocha_ansible"}
    return edges


def test_no_module_reaches_itself_through_its_imports() -> None:
    edges = _edges()
    circles = []
    for start in edges:
        seen, todo = set(), list(edges[start])
        while todo:
            here = todo.pop()
            if here == start:
                circles.append(start)
                break
            if here not in seen:
                seen.add(here)
                todo.extend(edges.get(here, ()))
    assert circles == []
    assert "mocha_ansible.settings_rules" in edges["mocha_ansible.settings"], "the edges are not read: not testing"
