"""The converged gate of julia_build and mocha_cifar (issue 18): a re-run skips a role's
body only when the record the last full run left on the host names this run's inputs and
a probe of the real outputs still agrees with it. Here the gate's task files run on
localhost against files in tmp_path; molecule/julia_build and molecule/mocha_cifar
(side_effect) show the whole role skipping a converged host and repairing drift.

The Mocha tree is the TEST DOUBLE made by make_mocha_repo.sh; julia is a two-line script.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers import SANDBOX_DOUBLES, run_playbook

MAKE_MOCHA_REPO = SANDBOX_DOUBLES / "julia_mocha_stand_in" / "make_mocha_repo.sh"


def _gate(tmp_path: Path, role: str, steps: list[str], **variables: Any) -> bool:
    out = tmp_path / "gate.json"
    out.unlink(missing_ok=True)
    values = {"gate_role": role, "gate_steps": steps, "gate_out": str(out), **variables}
    proc = run_playbook("tests/integration/playbooks/converged_gate.yml", "-e", json.dumps(values))
    assert proc.returncode == 0, proc.stdout[-3000:]
    return bool(json.loads(out.read_text())["converged"])


def test_each_stand_in_mocha_tag_names_its_own_version(tmp_path):
    """Pkg.installed reads VERSION: with one VERSION under every tag, a pinned v0.3.1 read as
    0.2.0 and every re-run pinned and built Mocha again (changed, never converged)."""
    subprocess.run([str(MAKE_MOCHA_REPO), str(tmp_path / "m")], check=True)
    for tag in ("v0.1.2", "v0.2.0", "v0.3.1"):
        shown = subprocess.run(["git", "-C", str(tmp_path / "m"), "show", f"{tag}:VERSION"],
                               check=True, capture_output=True, text=True)  # fmt: skip
        assert shown.stdout.strip() == tag[1:]


# -- julia_build --------------------------------------------------------------------


def _julia_binary(prefix: Path, tag: str, says: str) -> Path:
    binary = prefix / tag / "bin" / "julia"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text(f"#!/bin/sh\necho 'julia version {says}'\n")
    binary.chmod(0o755)
    return binary


def _julia_vars(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "julia_build_version": "v0.6.4",
        "julia_build_prefix": str(tmp_path / "opt"),
        "julia_build_link": str(tmp_path / "bin" / "julia"),
        "julia_build_facts_dir": str(tmp_path / "facts"),
        "julia_build_as_user": [],  # runuser needs a build user; the probe is the same without it
        "julia_build_effective_jobs": 1,  # preflight's, which the skip's report names
        **extra,
    }


def _julia_converged_host(tmp_path: Path) -> dict[str, Any]:
    binary = _julia_binary(tmp_path / "opt", "v0.6.4", "0.6.4")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "julia").symlink_to(binary)
    (tmp_path / "facts").mkdir()
    variables = _julia_vars(tmp_path)
    assert not _gate(tmp_path, "julia_build", ["converged.yml", "converged_record.yml"], **variables)  # no record yet
    return variables


def test_julia_build_skips_only_when_the_record_and_the_install_agree(tmp_path):
    variables = _julia_converged_host(tmp_path)
    assert _gate(tmp_path, "julia_build", ["converged.yml"], **variables)
    # The skip still reports: ansible_local.julia is written as a full run writes it.
    assert json.loads((tmp_path / "facts" / "julia.fact").read_text())["version"] == "v0.6.4"


def test_julia_build_a_changed_input_runs_the_body(tmp_path):
    variables = _julia_converged_host(tmp_path)
    assert not _gate(tmp_path, "julia_build", ["converged.yml"], **{**variables, "julia_build_smoke_test": False})
    assert not _gate(tmp_path, "julia_build", ["converged.yml"], **{**variables, "julia_build_converged_gate": False})


def test_julia_build_a_moved_link_or_an_altered_or_missing_binary_runs_the_body(tmp_path):
    variables = _julia_converged_host(tmp_path)
    link = tmp_path / "bin" / "julia"
    link.unlink()
    link.symlink_to(_julia_binary(tmp_path / "elsewhere", "v0.6.4", "0.6.4"))
    assert not _gate(tmp_path, "julia_build", ["converged.yml"], **variables)
    link.unlink()
    link.symlink_to(tmp_path / "opt" / "v0.6.4" / "bin" / "julia")
    assert _gate(tmp_path, "julia_build", ["converged.yml"], **variables)
    _julia_binary(tmp_path / "opt", "v0.6.4", "0.5.0")
    assert not _gate(tmp_path, "julia_build", ["converged.yml"], **variables)
    (tmp_path / "opt" / "v0.6.4" / "bin" / "julia").unlink()
    assert not _gate(tmp_path, "julia_build", ["converged.yml"], **variables)


def test_julia_build_latest_stable_always_runs_the_body(tmp_path):
    """Only the body asks the repository whether a newer tag exists."""
    variables = _julia_converged_host(tmp_path)
    latest = {**variables, "julia_build_version": "latest-stable"}
    assert not _gate(tmp_path, "julia_build", ["converged.yml"], **latest)


# -- mocha_cifar --------------------------------------------------------------------


def _mocha_converged_host(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    home = tmp_path / "home"
    mocha = home / ".julia" / "v0.6" / "Mocha"
    mocha.parent.mkdir(parents=True)
    subprocess.run([str(MAKE_MOCHA_REPO), str(mocha)], check=True)
    run = home / "cifar10"  # the role's run folder, laid out as examples/cifar10
    outputs = [
        run / "convert.jl", run / "cifar10.jl", run / "cifar10-mocha-ansible.jl", run / ".mocha-ansible-trained.json",
        run / "data" / ".mocha-ansible-converted", run / "data" / "train.txt", run / "data" / "test.txt",
        mocha / "deps" / "libmochaext.so",
        home / "logs" / "results.json", home / "logs" / "train.log", tmp_path / "facts" / "mocha.fact",
        run / "snapshots" / "snapshot-000400.jld",
    ]  # fmt: skip
    for path in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{path.name}\n")
    (tmp_path / "mocha.sh").write_text("unset MOCHA_USE_CUDA MOCHA_CUDA_DEVICE\n")
    variables = {
        "mocha_cifar_home": str(home),
        "mocha_cifar_facts_dir": str(tmp_path / "facts"),
        "mocha_cifar_profile_file": str(tmp_path / "mocha.sh"),
        "mocha_cifar_runner": [],
        # What preflight and pkg.yml found and decided on the host.
        "mocha_cifar_julia_version": {"stdout": "julia version 0.6.4"},
        "mocha_cifar_pkg_dir": {"stdout": str(mocha)},
        "mocha_cifar_cuda_on": False,
        "mocha_cifar_cudnn_route": "",
        "mocha_cifar_vcpus": 2,
    }
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml", "converged_record.yml"], **variables)
    return variables, mocha


def test_mocha_cifar_skips_only_when_the_record_and_the_outputs_agree(tmp_path):
    variables, _ = _mocha_converged_host(tmp_path)
    assert _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)


def test_mocha_cifar_a_changed_input_or_decision_or_a_fresh_run_runs_the_body(tmp_path):
    variables, _ = _mocha_converged_host(tmp_path)
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **{**variables, "mocha_cifar_max_iter": 1000})
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **{**variables, "mocha_cifar_fresh_run": True})
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **{**variables, "mocha_cifar_vcpus": 4})
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"],
                     **{**variables, "mocha_cifar_julia_version": {"stdout": "julia version 0.5.0"}})  # fmt: skip


def test_mocha_cifar_an_altered_or_missing_output_runs_the_body(tmp_path):
    variables, mocha = _mocha_converged_host(tmp_path)
    results = tmp_path / "home" / "logs" / "results.json"
    results.write_text("{}\n")
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    results.write_text("results.json\n")
    assert _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    snapshot = tmp_path / "home" / "cifar10" / "snapshots" / "snapshot-000400.jld"
    snapshot.unlink()  # the trained model
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    snapshot.write_text("snapshot-000400.jld\n")
    data_list = tmp_path / "home" / "cifar10" / "data" / "train.txt"
    data_list.unlink()  # a data list get-cifar10.sh writes
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    data_list.write_text("train.txt\n")
    assert _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    (mocha / "deps" / "libmochaext.so").unlink()
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    (mocha / "deps" / "libmochaext.so").write_text("libmochaext.so\n")
    (mocha / "VERSION").write_text("9.9.9\n")  # a tracked file of the checkout edited
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
    subprocess.run(["git", "-C", str(mocha), "checkout", "-q", "--", "VERSION"], check=True)
    subprocess.run(["git", "-C", str(mocha), "checkout", "-q", "v0.2.0"], check=True)  # another commit
    assert not _gate(tmp_path, "mocha_cifar", ["converged.yml"], **variables)
