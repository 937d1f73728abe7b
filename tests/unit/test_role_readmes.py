"""The role READMEs' variables sections are generated from meta/argument_specs.yml
(scripts/role_docs.py), so a variable or a choice added there cannot be missing here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.helpers import ROOT

_spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
assert _spec and _spec.loader
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)


@pytest.mark.parametrize("role", role_docs.ROLES)
def test_readme_variables_section_is_the_generated_one(role):
    text = (ROOT / "roles" / role / "README.md").read_text()
    assert role_docs.BEGIN in text and role_docs.END in text
    assert role_docs.readme(role, text) == text


def test_the_variables_the_review_found_missing_are_listed():
    ec2 = (ROOT / "roles" / "ec2_gpu" / "README.md").read_text()
    state_row = next(line for line in ec2.splitlines() if line.startswith("| `ec2_gpu_state` |"))
    assert "`baked`" in state_row
    assert "| `mocha_cifar_install_packages` |" in (ROOT / "roles" / "mocha_cifar" / "README.md").read_text()


def test_drift_is_caught_and_missing_markers_refused():
    text = (ROOT / "roles" / "ec2_gpu" / "README.md").read_text()
    drifted = text.replace("`discover`, `baked`", "`discover`")
    assert drifted != text
    assert role_docs.readme("ec2_gpu", drifted) == text
    with pytest.raises(ValueError, match="lacks the markers"):
        role_docs.readme("ec2_gpu", text.replace(role_docs.BEGIN, ""))


def test_check_mode_passes_on_the_repository():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role_docs.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout
