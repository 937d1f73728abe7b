"""mocha_cifar refuses known-dead combinations before spending any time, on this machine.

julia is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_mocha_stand_in/julia.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import SANDBOX_DOUBLES, ansible_env, run_playbook

JULIA = SANDBOX_DOUBLES / "julia_mocha_stand_in" / "julia"


def _mocha(tmp_path: Path, julia_version: str = "0.5.0", cuda_fact: dict | None = None, check: bool = False, **extra):
    facts = tmp_path / "facts"
    facts.mkdir(exist_ok=True)
    if cuda_fact is not None:
        (facts / "cuda.fact").write_text(json.dumps(cuda_fact))
    variables = {
        "mocha_hosts": "localhost",
        "mocha_become": False,
        "mocha_cifar_julia": str(JULIA),
        "mocha_cifar_facts_dir": str(facts),
        "mocha_cifar_home": str(tmp_path / "home"),
        **extra,
    }
    env = ansible_env({"JULIA_STAND_IN_VERSION": julia_version, "HOME": str(tmp_path)})
    return run_playbook("playbooks/mocha.yml", "-e", json.dumps(variables), *(["--check"] if check else []), env=env)


def test_julia_07_and_later_have_no_mocha(tmp_path):
    proc = _mocha(tmp_path, julia_version="1.0.0")
    assert proc.returncode != 0
    assert "Julia 1.0 has no Mocha release" in proc.stdout and "retired since 2018-12" in proc.stdout
    assert not (tmp_path / "home").exists()


def test_no_julia(tmp_path):
    proc = _mocha(tmp_path, mocha_cifar_julia=str(tmp_path / "nope"))
    assert proc.returncode != 0 and "run the julia stage (julia_build) first" in proc.stdout


def test_a_mocha_version_pkg_cannot_resolve(tmp_path):
    proc = _mocha(tmp_path, mocha_cifar_version="v0.3.1")
    assert proc.returncode != 0
    assert "mocha_cifar_version=v0.3.1 does not resolve on Julia 0.5 (Pkg gives v0.2.0)" in proc.stdout


def test_gpu_with_a_cudnn_that_lacks_mochas_calls(tmp_path):
    fact = {
        "gpu_present": True,
        "problems": [
            {"check": "cudnn", "message": "cuDNN 9.14.0 lacks the calls Mocha v0.2.0 makes (it needs cuDNN v4)"}
        ],
    }
    proc = _mocha(tmp_path, cuda_fact=fact, mocha_cifar_cuda=True)
    assert proc.returncode != 0
    assert "cuDNN 9.14.0 lacks the calls Mocha v0.2.0 makes" in proc.stdout
    assert "set mocha_cifar_cuda: false to train on the CPU backend" in proc.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mocha_cifar_max_iter": 0}, "max_iter=0 (accepted: >= 1)"),
        ({"mocha_cifar_dataset_checksum": "c32a1d4a"}, "ALGORITHM:HEX"),
        ({"mocha_cifar_dataset_url": "ftp://example.com/x"}, "dataset_url=ftp://example.com/x"),
        ({"mocha_cifar_cuda": "maybe"}, "cuda=maybe (true, false or auto)"),
    ],
)
def test_bad_input(tmp_path, extra, message):
    proc = _mocha(tmp_path, **extra)
    assert proc.returncode != 0 and message in proc.stdout


def test_the_inputs_the_cli_accepts_pass_the_roles_own_check(tmp_path):
    """Issue 14.5: sha384 and a file:/// source passed the CLI; the role refused them after earlier stages."""
    sha384 = "sha384:" + "0123456789abcdef" * 6
    proc = _mocha(
        tmp_path, check=True, mocha_cifar_dataset_checksum=sha384, mocha_cifar_source="file:///srv/Mocha.jl",
        mocha_cifar_version="0.2.0",
    )  # fmt: skip
    inputs = proc.stdout.split("TASK [mocha_cifar : Check the inputs]", 1)[1].split("TASK [", 1)[0]
    assert "ok: [localhost]" in inputs, proc.stdout[-3000:]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mocha_cifar_source": "git@github.com:pluskid/Mocha.jl.git"}, "no SSH"),
        ({"mocha_cifar_dataset_url": "https://user:token@example.com/x.tgz"}, "no user:password@"),
        ({"mocha_cifar_version": 'v0.2.0"); run(`touch /tmp/pwned`); ("'}, "(like v0.2.0, or empty)"),
    ],
)
def test_the_inputs_the_cli_refuses_fail_the_roles_own_check(tmp_path, extra, message):
    proc = _mocha(tmp_path, **extra)
    assert proc.returncode != 0 and message in proc.stdout
    assert "TASK [mocha_cifar : Ask julia its version]" not in proc.stdout


def test_auto_falls_back_to_the_cpu_with_a_warning(tmp_path):
    fact = {
        "gpu_present": True,
        "problems": [
            {"check": "cudnn", "message": "cuDNN 9.14.0 lacks the calls Mocha v0.2.0 makes (it needs cuDNN v4)"}
        ],
    }
    # Check mode: the backend decision is made and reported, nothing is installed.
    proc = _mocha(tmp_path, cuda_fact=fact, mocha_cifar_cuda="auto", check=True)
    out = " ".join(proc.stdout.split())  # the callback wraps long messages
    assert "WARNING: mocha_cifar uses the CPU backend. CPU: cuda_verify found cuDNN 9.14.0 lacks" in out
    assert "GPU training would fail" not in proc.stdout
