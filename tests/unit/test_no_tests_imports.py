"""Product code never imports the test suite: mocha_ansible/, bench/ and scripts/ stand on their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

PRODUCT_FOLDERS = ("mocha_ansible", "bench", "scripts")


def imports_of_tests(path: Path) -> list[str]:
    """Each `import tests...` / `from tests... import` in a Python file, as `line: statement`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "tests" or name.startswith("tests.") for name in names):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def product_files(root: Path) -> list[Path]:
    return sorted(
        p for folder in PRODUCT_FOLDERS for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts
    )


def offenders(root: Path) -> dict[str, list[str]]:
    return {str(p.relative_to(root)): hits for p in product_files(root) if (hits := imports_of_tests(p))}


def test_no_product_module_imports_tests():
    assert product_files(ROOT), "found no product Python files to check"
    assert offenders(ROOT) == {}


@pytest.mark.parametrize(
    "source",
    ["import tests.helpers\n", "from tests.doubles.faulty_emulator import Fault\n", "from tests import helpers\n"],
)
def test_the_check_names_a_file_that_imports_tests(tmp_path, source):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "clean.py").write_text("import testscript\nfrom .tests import x\n", encoding="utf-8")
    (tmp_path / "bench" / "doctored.py").write_text("import os\n\n" + source, encoding="utf-8")
    found = offenders(tmp_path)
    assert list(found) == ["bench/doctored.py"]
    assert found["bench/doctored.py"][0].startswith("3: ")
