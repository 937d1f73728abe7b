"""The trained model comes home (issue 23): mocha_cifar's results step fetches the snapshot taken at
max_iter beside results.json and names it there (snapshot: the path on the host, snapshot_file: the file
beside results.json, snapshot_iteration: its iteration).

Training is the TEST DOUBLE julia (mocha_ansible/sandbox_doubles/julia_mocha_stand_in), which runs the
script's coffee breaks as Mocha's solve does: once at iteration 0 too, so cifar10.jl's every-5000 Snapshot
writes snapshot-000000.jld, an untrained model, before training (issue 30 item 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import SANDBOX_DOUBLES, ansible_env, run_playbook

STAND_IN = SANDBOX_DOUBLES / "julia_mocha_stand_in"


@pytest.mark.parametrize("max_iter", [400, 7000, 10000])
def test_the_snapshot_at_max_iter_is_fetched_beside_results_json(tmp_path: Path, max_iter: int):
    home, facts, fetched = tmp_path / "home", tmp_path / "facts", tmp_path / "runs" / "hosts"
    (home / "logs").mkdir(parents=True)
    facts.mkdir()
    example = tmp_path / "cifar10"
    shutil.copytree(STAND_IN / "mocha_tree" / "examples" / "cifar10", example)
    (example / "data").mkdir(exist_ok=True)
    for split in ("train", "test"):  # what convert.jl and get-cifar10.sh leave in data/
        (example / "data" / f"{split}.hdf5").write_text("stand-in hdf5\n")
        (example / "data" / f"{split}.txt").write_text(f"data/{split}.hdf5\n")
    values = {
        "mocha_steps": ["train.yml", "results.yml"], "mocha_steps_out": str(tmp_path / "decided.json"),
        "mocha_cifar_julia": str(STAND_IN / "julia"), "mocha_cifar_home": str(home), "mocha_cifar_runner": [],
        "mocha_cifar_facts_dir": str(facts), "mocha_cifar_example": str(example), "mocha_cifar_cuda_on": False,
        "mocha_cifar_julia_minor": "0.5", "mocha_cifar_version": "v0.2.0", "mocha_cifar_wanted": "0.2.0",
        "mocha_cifar_omp_threads": 1, "mocha_cifar_max_iter": max_iter, "mocha_cifar_results_dir": str(fetched),
        "mocha_cifar_native_ext": False,
    }  # fmt: skip
    env = ansible_env(
        {"JULIA_STAND_IN_VERSION": "0.5.0", "HOME": str(home), "ANSIBLE_ASYNC_DIR": str(tmp_path / "async")}
    )
    proc = run_playbook("tests/integration/playbooks/mocha_steps.yml", "-e", json.dumps(values), env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]

    # Mocha wrote the untrained model too; it is never the one that comes home.
    assert (example / "snapshots" / "snapshot-000000.jld").read_text() == "stand-in snapshot at iteration 0\n"
    report = json.loads((fetched / "localhost" / "results.json").read_text())
    name = f"snapshot-{max_iter:06d}.jld"
    assert report["snapshot"] == f"{example}/snapshots/{name}"
    assert report["snapshot_file"] == name and report["snapshot_iteration"] == max_iter
    assert [p.name for p in (fetched / "localhost").glob("*.jld")] == [name]
    assert (fetched / "localhost" / name).read_text() == f"stand-in snapshot at iteration {max_iter}\n"
