"""The compatibility table (issue 15): every row names its source, no role file points outside
the repository, checksums are real or explicitly absent with a note, and docs/compatibility.md
is what scripts/compat_docs.py makes of the tables. Each check also runs on a doctored copy,
so it is shown to catch what it looks for."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT


def _compat_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compat_docs", ROOT / "scripts" / "compat_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compat_docs"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


compat = _compat_docs()
TABLES = compat.load()
TABLE_FILES = sorted({t.path for t in compat.tables()})
# Known gaps in other roles' files, each with its owner. strict: the test fails as soon as the
# gap is closed, so the entry must then be deleted; it cannot hide a new gap.
PENDING_SOURCES: dict[str, str] = {}
ROWS = [
    pytest.param(
        f"{t.path} {t.key} {r.name}",
        r.source,
        id=f"{t.path} {r.name}",
        marks=[pytest.mark.xfail(strict=True, reason=PENDING_SOURCES[t.path])] if t.path in PENDING_SOURCES else [],
    )
    for t in TABLES
    for r in t.rows
]
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")


def unsourced(root: Path) -> list[str]:
    return [f"{t.path} {r.name}" for t in compat.load(root) for r in t.rows if not compat.has_source(r.source)]


def outside_pointers(root: Path) -> list[str]:
    """Role files that point at ../shared, a folder outside the repository."""
    found = []
    for path in sorted((root / "roles").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary files carry no prose
        if "../shared" in text:
            found.append(str(path.relative_to(root)))
    return found


def checksums(node: Any, where: str) -> Iterator[tuple[str, Any, Any]]:
    """Every sha256 field under node: (where, value, the note beside it)."""
    if isinstance(node, dict):
        if "sha256" in node:
            yield where, node["sha256"], node.get("note")
        for key, value in node.items():
            yield from checksums(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from checksums(value, f"{where}[{i}]")


def checksum_problem(value: Any, note: Any) -> str | None:
    if isinstance(value, str) and SHA256_RE.match(value):
        return None
    if value == "" and isinstance(note, str) and note.strip():
        return None
    return f"sha256={value!r} is neither 64 lowercase hex digits nor empty with a note"


def _all_checksums(root: Path) -> list[tuple[str, Any, Any]]:
    found: list[tuple[str, Any, Any]] = []
    for rel in TABLE_FILES:
        path = root / rel
        if path.is_file():
            found += checksums(yaml.safe_load(path.read_text(encoding="utf-8")), rel)
    return found


def _copy(tmp_path: Path) -> Path:
    """The table files and the page, copied so a test can doctor them."""
    for rel in [*TABLE_FILES, str(compat.PAGE)]:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / rel).is_file():
            shutil.copy(ROOT / rel, target)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the doctoring assumes {old!r} in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_table_is_in_its_role_file() -> None:
    assert [f"{t.path} {t.key}" for t in TABLES if t.missing] == []
    assert all(t.rows for t in TABLES if not t.missing)


@pytest.mark.parametrize(("row", "source"), ROWS)
def test_every_row_has_a_source(row: str, source: Any) -> None:
    assert compat.has_source(source), f"{row}: no source"


def test_a_row_without_its_source_is_named(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    assert unsourced(root) == unsourced(ROOT)
    types = root / "roles" / "ec2_gpu" / "vars" / "instance_types.yml"
    _edit(
        types,
        'source: "https://aws.amazon.com/ec2/instance-types/g4/',
        'notes: "https://aws.amazon.com/ec2/instance-types/g4/',
    )
    assert "roles/ec2_gpu/vars/instance_types.yml `g4dn.xlarge`" in unsourced(root)
    presets = root / "roles" / "ec2_gpu" / "vars" / "main.yml"
    _edit(
        presets,
        '    sources:\n      - "https://docs.ansible.com',
        '    sources: []\n    was:\n      - "https://docs.ansible.com',
    )
    assert "roles/ec2_gpu/vars/main.yml `amazon-linux-2`" in unsourced(root)


@pytest.mark.parametrize("source", ["", "   ", [], [""], ["x", None], None, 3])
def test_empty_sources_do_not_count(source: Any) -> None:
    assert not compat.has_source(source)


def test_no_role_file_points_outside_the_repository() -> None:
    assert outside_pointers(ROOT) == []


def test_a_pointer_outside_the_repository_is_found(tmp_path: Path) -> None:
    vars_dir = tmp_path / "roles" / "demo" / "vars"
    vars_dir.mkdir(parents=True)
    (vars_dir / "clean.yml").write_text("---\n# Source: JuliaLang/julia#26781\n", encoding="utf-8")
    assert outside_pointers(tmp_path) == []
    (vars_dir / "facts.yml").write_text("---\n# See ../shared/docs/mocha-facts.md\n", encoding="utf-8")
    assert outside_pointers(tmp_path) == ["roles/demo/vars/facts.yml"]


CHECKSUMS = _all_checksums(ROOT)


def test_the_tables_have_checksums_to_check() -> None:
    assert any(value for _, value, _ in CHECKSUMS), "no sha256 field found: the walk is broken"


@pytest.mark.parametrize(("where", "value", "note"), CHECKSUMS, ids=[w for w, _, _ in CHECKSUMS])
def test_every_sha256_is_hex_or_explicitly_absent(where: str, value: Any, note: Any) -> None:
    assert checksum_problem(value, note) is None, where


@pytest.mark.parametrize(
    ("value", "note", "bad"),
    [
        ("d20e6984bcf8c3692d853a9922e2cf1de19b91201cb9e396d9264c32cebedc46", None, False),
        ("D20E6984BCF8C3692D853A9922E2CF1DE19B91201CB9E396D9264C32CEBEDC46", None, True),
        ("d20e6984bcf8c3692d853a9922e2cf1de19b91201cb9e396d9264c32cebedc4", None, True),
        ("d20e6984bcf8c3692d853a9922e2cf1de19b91201cb9e396d9264c32cebedc46\n", None, True),
        ("sha256:d20e6984bcf8c3692d853a9922e2cf1de19b91201cb9e396d9264c32cebedc46", None, True),
        ("", "no public listing; pass julia_build_source_full_checksum", False),
        ("", None, True),
        ("", "  ", True),
        (None, "a note", True),
    ],
)
def test_the_checksum_rule(value: Any, note: Any, bad: bool) -> None:
    assert (checksum_problem(value, note) is not None) == bad


def test_a_doctored_checksum_is_found_where_it_is(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    releases = root / "roles" / "julia_build" / "vars" / "julia_releases.yml"
    if not releases.is_file():
        pytest.skip("roles/julia_build/vars/julia_releases.yml is not yet tabled")
    _edit(releases, "d20e6984bcf8c3692d853a9922e2cf1de19b91201cb9e396d9264c32cebedc46", "D20E6984")
    bad = [where for where, value, note in _all_checksums(root) if checksum_problem(value, note)]
    assert bad == ["roles/julia_build/vars/julia_releases.yml.julia_build_releases.v0.6.4.binary"]


def test_the_page_is_what_the_tables_give() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compat_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_changed_table_makes_the_page_stale(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    script = [sys.executable, str(ROOT / "scripts" / "compat_docs.py"), "--root", str(root)]
    assert subprocess.run([*script, "--check"], check=False).returncode == 0
    _edit(root / "roles" / "ec2_gpu" / "vars" / "instance_types.yml", "usd_per_hour: 0.526", "usd_per_hour: 0.5")
    proc = subprocess.run([*script, "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "docs/compatibility.md differs" in proc.stdout
    assert subprocess.run(script, check=False).returncode == 0  # regenerate
    assert "| `g4dn.xlarge` | 4 | 1 | Tesla T4 | 7.5 | 0.5 |" in (root / compat.PAGE).read_text(encoding="utf-8")
    assert subprocess.run([*script, "--check"], check=False).returncode == 0


def test_a_missing_table_file_is_shown_as_not_yet_tabled(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "roles" / "mocha_cifar" / "vars" / "backend_speed.yml").unlink()
    page = compat.render(compat.load(root))
    assert "Not yet tabled: `roles/mocha_cifar/vars/backend_speed.yml` has no `mocha_cifar_backend_speed`." in page
    assert "| `g4dn.xlarge` |" in page  # the other tables still render
