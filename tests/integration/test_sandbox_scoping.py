"""Two sandboxes on one machine never touch each other's containers or baked images."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mocha_ansible import sandbox


def _start(image: str, name: str, base: Path, deployment: str) -> None:
    labels = ["--label", f"{sandbox.SANDBOX_LABEL}={sandbox.sandbox_id(base)}"]
    labels += ["--label", f"{sandbox.DEPLOYMENT_LABEL}={deployment}"]
    cmd = ["docker", "run", "-d", "--network", "host", "--name", name, *labels, image, "sleep", "infinity"]
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def two_boxes(debian_image: str, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    for base in (mine, theirs):
        base.mkdir()
    stamp = tmp_path.name[-12:]
    _start(debian_image, f"mocha-sandbox-scope-a-{stamp}", mine, "default")
    _start(debian_image, f"mocha-sandbox-scope-b-{stamp}", theirs, "default")
    yield mine, theirs
    names = [f"mocha-sandbox-scope-a-{stamp}", f"mocha-sandbox-scope-b-{stamp}"]
    subprocess.run(["docker", "rm", "-f", *names], check=False, capture_output=True)


def test_each_sandbox_lists_and_removes_only_its_own(two_boxes: tuple[Path, Path]) -> None:
    mine, theirs = two_boxes
    (a,) = sandbox.containers("default", base=mine)
    (b,) = sandbox.containers("default", base=theirs)
    assert a != b
    assert sandbox.down(mine)["containers"] == [a]
    assert sandbox.containers(base=mine) == []
    assert sandbox.containers("default", base=theirs) == [b], "down removed another sandbox's container"


def test_the_id_follows_the_state_folder(tmp_path: Path) -> None:
    assert sandbox.sandbox_id(tmp_path / "x") == sandbox.sandbox_id(tmp_path / "x")
    assert sandbox.sandbox_id(tmp_path / "x") != sandbox.sandbox_id(tmp_path / "y")
