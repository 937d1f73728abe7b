"""The AWX / execution-environment files agree with pyproject.toml and the bundled collections."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

from tests.helpers import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower()


def test_execution_environment_pins_match_pyproject() -> None:
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {_name(r): r for r in project["dependencies"]}
    deps = ee["dependencies"]
    assert ee["version"] == 3
    assert deps["ansible_core"]["package_pip"] == pins["ansible-core"]
    assert deps["ansible_runner"]["package_pip"] == pins["ansible-runner"]
    # Every runtime Python pin except the ansible packages, exactly as pyproject says.
    expected = {n: r for n, r in pins.items() if n not in ("ansible", "ansible-core", "ansible-runner")}
    assert {_name(r): r for r in deps["python"]} == expected
    assert (ROOT / deps["galaxy"]).is_file()


def _version_in(version: str, spec: str) -> bool:
    key = tuple(int(x) for x in version.split("."))
    for clause in spec.split(","):
        op, bound = re.match(r"\s*(>=|<=|<|>|==)\s*([\d.]+)", clause).groups()  # type: ignore[union-attr]
        other = tuple(int(x) for x in bound.split("."))
        if not {">=": key >= other, "<=": key <= other, "<": key < other, ">": key > other, "==": key == other}[op]:
            return False
    return True


def test_galaxy_ranges_hold_the_collections_the_ansible_package_bundles() -> None:
    import ansible_collections

    requirements = yaml.safe_load((ROOT / "collections/requirements.yml").read_text())["collections"]
    base = Path(next(iter(ansible_collections.__path__)))
    for req in requirements:
        namespace, name = req["name"].split(".")
        manifest = json.loads((base / namespace / name / "MANIFEST.json").read_text())
        bundled = manifest["collection_info"]["version"]
        assert _version_in(bundled, req["version"]), (req["name"], bundled, req["version"])


def test_awx_finds_the_playbooks_and_the_inventory_source() -> None:
    # AWX lists *.yml playbooks under the project and reads inventory/aws_ec2.yml as a source.
    books = sorted(p.name for p in (ROOT / "playbooks").glob("*.yml"))
    assert {"site.yml", "provision.yml", "verify.yml", "teardown.yml"} <= set(books)
    for book in books:
        assert isinstance(yaml.safe_load((ROOT / "playbooks" / book).read_text()), list), book
    source = yaml.safe_load((ROOT / "inventory/aws_ec2.yml").read_text())
    assert source["plugin"] == "amazon.aws.aws_ec2"
    assert source["filters"]["tag:mocha-ansible:project"] == "mocha-ansible"


def test_role_pages_match_the_argument_specs() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role_docs.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout
