"""Run directories: rotation deletes only this tool's own runs, and never changes a folder it did not make."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mocha_ansible import results
from mocha_ansible.cli import main

FOREIGN = (".ssh", ".aws", ".gnupg", ".config", ".git", "notes")


def _home_like(root: Path) -> None:
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    for name in FOREIGN:
        (root / name).mkdir()
        (root / name / "keep-me").write_text("precious\n")


def test_rotation_in_a_home_keeps_every_folder_it_did_not_make(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _home_like(home)
    # Named like a run, but not made by the tool: no marker, no run.json.
    lookalike = home / "20200101-000000-000000"
    lookalike.mkdir()
    made = [results.new_run_dir(home, keep=3) for _ in range(6)]
    for name in FOREIGN:
        assert (home / name / "keep-me").read_text() == "precious\n", name
    assert lookalike.is_dir()
    own = sorted(p.name for p in home.iterdir() if results.is_run_dir(p))
    assert own == [p.name for p in made[-3:]]
    assert os.stat(home).st_mode & 0o777 == 0o755, "the tool changed the mode of a folder it did not create"


def test_a_link_named_like_a_run_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / results.RUN_MARKER).write_text("planted\n")
    root.mkdir()
    (root / "20000101-000000-000000").symlink_to(victim)
    results.new_run_dir(root, keep=1)
    results.new_run_dir(root, keep=1)
    assert (victim / results.RUN_MARKER).is_file()


def test_a_new_runs_root_is_private(tmp_path: Path) -> None:
    root = tmp_path / "state" / "runs"
    results.new_run_dir(root)
    assert os.stat(root).st_mode & 0o777 == 0o700


def test_results_lists_only_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    _home_like(home)
    run = results.new_run_dir(home)
    results.write_record(run, {"command": "provision", "status": "ok"})
    assert main(["--runs-dir", str(home), "results"]) == 0
    out = capsys.readouterr().out
    assert run.name in out
    assert not any(name in out for name in FOREIGN)
