"""Every reference in the docs resolves: relative markdown links (and their #anchors), and
backticked repository paths such as `roles/ec2_gpu/vars/instance_types.yml`. Tables are not
split by a blank line (the rows after it render as raw pipes)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "roles").glob("*/README.md")],
    key=str,
)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")
# A backticked word is taken as a repository path when it has a slash and either starts at a
# top-level entry of the repository or ends in a file suffix; placeholders, globs, URLs,
# absolute and home paths (on the instance or the laptop) are not repository paths.
SUFFIXES = (".yml", ".yaml", ".py", ".md", ".json", ".j2", ".cfg", ".toml", ".txt", ".png", ".c", ".sh")
NOT_A_PATH = re.compile(r"[<>{}*$~:=\s\[\]()|,]|^/|^\.\./\.\./\.\.|^-")


def _tracked_top() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split("/", 1)[0] for line in out.splitlines() if "/" in line}


TOP = _tracked_top()


def _prose(text: str) -> str:
    """The text outside fenced code blocks (commands and transcripts are not references)."""
    keep, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        keep.append("" if fenced else line)
    return "\n".join(keep)


def _slug(heading: str) -> str:
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(path.read_text()).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = _slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def _roots(doc: Path) -> list[Path]:
    """Where a backticked path may be relative to: the repository, the doc's folder, a role."""
    return [ROOT, doc.parent, *sorted((ROOT / "roles").iterdir())]


def _looks_like_path(word: str) -> bool:
    if "/" not in word or NOT_A_PATH.search(word) or "//" in word:
        return False
    first = word.split("/", 1)[0]
    return first in TOP or word.rstrip("/").endswith(SUFFIXES)


def broken(doc: Path) -> list[str]:
    text = _prose(doc.read_text())
    problems = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists() or (file_part and ROOT.resolve() not in [dest, *dest.parents]):
            problems.append(f"{target} (no such file in the repository)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            problems.append(f"{target} (no heading #{anchor})")
    for match in CODE_SPAN.finditer(re.sub(r"\[[^\]]*\]\([^)]*\)", "", text)):
        word = match.group(1).strip()
        if _looks_like_path(word) and not any((base / word).exists() for base in _roots(doc)):
            problems.append(f"`{word}` (no such path)")
    return problems


def split_tables(doc: Path) -> list[str]:
    lines = _prose(doc.read_text()).splitlines()
    problems = []
    for i in range(2, len(lines)):
        row, blank, before = lines[i].strip(), lines[i - 1].strip(), lines[i - 2].strip()
        header = i + 1 < len(lines) and re.match(r"^\|?\s*:?-{3,}", lines[i + 1].strip())
        if row.startswith("|") and not blank and before.startswith("|") and not header:
            problems.append(f"line {i + 1}: table row after a blank line renders as raw pipes")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_reference_resolves(doc):
    problems = broken(doc)
    assert not problems, f"{doc.relative_to(ROOT)}: " + "; ".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_table_split_by_a_blank_line(doc):
    problems = split_tables(doc)
    assert not problems, f"{doc.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_checker_catches_what_it_claims(tmp_path):
    """Shown on a doctored doc, so a checker that finds nothing cannot pass unnoticed."""
    doc = tmp_path / "bad.md"
    doc.write_text(
        "# Title\n\n[gone](missing.md) [anchor](#nowhere) [ok](#title) `roles/ec2_gpu/no_such.yml`\n"
        "`roles/ec2_gpu/vars/instance_types.yml` `runs/<id>/results.json`\n\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n| 3 | 4 |\n"
    )
    assert broken(doc) == [
        "missing.md (no such file in the repository)",
        "#nowhere (no heading #nowhere)",
        "`roles/ec2_gpu/no_such.yml` (no such path)",
    ]
    assert split_tables(doc) == ["line 10: table row after a blank line renders as raw pipes"]
