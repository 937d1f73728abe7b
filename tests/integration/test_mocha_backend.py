"""mocha_cifar's backend choice (issue 15): the GPU gate against the cuDNN generation
Mocha calls, the CPU backend with the native extension, the cuDNN redistributable, the
tutorial's repair step and Julia's package manager over https.

julia is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_mocha_stand_in/julia (its
Pkg.build really compiles the stand-in deps/*.cpp into libmochaext.so with g++ -fopenmp);
nvcc is the TEST DOUBLE tests/doubles/nvcc_recorder; the GPU is the TEST DOUBLE
tests/doubles/gpu_stand_in replaying the H100 recording in tests/fixtures/gpu.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import DOUBLES, FIXTURES, GPU_PROFILES, ROOT, SANDBOX_DOUBLES, ansible_env, run_playbook

STAND_IN = SANDBOX_DOUBLES / "julia_mocha_stand_in"
JULIA = STAND_IN / "julia"
COMPAT = yaml.safe_load((ROOT / "roles/mocha_cifar/vars/mocha_compat.yml").read_text())["mocha_cifar_compat"]


def _steps(
    tmp_path: Path,
    steps: list[str],
    *,
    julia: str = "0.5.0",
    cuda_fact: dict[str, Any] | None = None,
    env_extra: dict[str, str] | None = None,
    path_prefix: str | None = None,
    **variables: Any,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True, exist_ok=True)
    facts = tmp_path / "facts"
    facts.mkdir(exist_ok=True)
    if cuda_fact is not None:
        (facts / "cuda.fact").write_text(json.dumps(cuda_fact))
    values = {
        "mocha_steps": steps,
        "mocha_cifar_julia": str(JULIA),
        "mocha_cifar_home": str(home),
        "mocha_cifar_runner": [],
        "mocha_cifar_facts_dir": str(facts),
        "mocha_steps_out": str(tmp_path / "decided.json"),
        **variables,
    }
    env = ansible_env(
        {"JULIA_STAND_IN_VERSION": julia, "HOME": str(home), "ANSIBLE_ASYNC_DIR": str(tmp_path / "async"),
         **(env_extra or {})},
        path_prefix=path_prefix,
    )  # fmt: skip
    proc = run_playbook("tests/integration/playbooks/mocha_steps.yml", "-e", json.dumps(values), env=env)
    # The callback wraps long messages and doubles quotes inside YAML strings.
    proc.stdout = " ".join(proc.stdout.split()).replace("''", "'")
    out = tmp_path / "decided.json"
    return proc, json.loads(out.read_text()) if out.exists() and proc.returncode == 0 else {}


def _env_log(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "home" / "julia-env.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "home" / "julia-calls.log"
    return log.read_text().splitlines() if log.exists() else []


def _mocha_repo(tmp_path: Path) -> Path:
    source = tmp_path / "mocha-src"
    subprocess.run([str(STAND_IN / "make_mocha_repo.sh"), str(source)], check=True)
    return source


def _h100_fact(tmp_path: Path) -> dict[str, Any]:
    """cuda_verify's own fact for the H100 stand-in, with the cuDNN the H100 machine had:
    PyTorch's bundled cuDNN reported 91900 (tests/fixtures/gpu/h100-nvcc13/environment.txt)."""
    facts = tmp_path / "cuda-facts"
    env = ansible_env(
        {"GPU_STAND_IN_PROFILE": str(GPU_PROFILES / "h100-nvcc13"), "GPU_STAND_IN_LOG": str(tmp_path / "gpu.log")},
        path_prefix=str(DOUBLES / "gpu_stand_in" / "bin"),
    )
    proc = run_playbook(
        "playbooks/verify.yml",
        "-e", "mocha_hosts=localhost", "-e", "mocha_become=false", "-e", "cuda_verify_smoke_test=false",
        "-e", f"cuda_verify_facts_dir={facts}", "-e", f"cuda_verify_work_dir={tmp_path / 'work'}",
        "-e", "cuda_verify_nvcc_search_paths=[]",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    fact = json.loads((facts / "cuda.fact").read_text())
    assert fact["gpu_present"] and fact["problems"] == []
    recorded = (FIXTURES / "gpu" / "h100-nvcc13" / "environment.txt").read_text()
    version = int(re.search(r"^(\d{5})$", recorded, re.M).group(1))  # 91900
    fact["cudnn"] = f"{version // 10000}.{version // 100 % 100}.{version % 100}"
    return fact


@pytest.mark.parametrize(("julia", "mocha", "needs"), [("0.6.4", "v0.3.1", "5"), ("0.5.0", "v0.2.0", "4")])
def test_auto_stays_on_the_cpu_with_the_h100s_cudnn_9(tmp_path, julia, mocha, needs):
    fact = _h100_fact(tmp_path)
    assert fact["cudnn"] == "9.19.0"
    proc, decided = _steps(tmp_path, ["preflight.yml"], julia=julia, cuda_fact=fact, mocha_cifar_cuda="auto")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["cuda_on"] == "False" and decided["backend"] == "cpu-native"
    reason = f"CPU: this host's cuDNN 9 lacks Mocha {mocha}'s calls (needs cuDNN {needs})"
    assert decided["reason"] == reason
    assert f"WARNING: mocha_cifar uses the CPU backend. {reason}" in proc.stdout
    assert "mocha_cifar_cudnn_compat: true" in proc.stdout and "mocha_cifar_cudnn_redist_url" in proc.stdout


def test_true_with_the_h100s_cudnn_9_fails_naming_the_fixes(tmp_path):
    fact = _h100_fact(tmp_path)
    proc, _ = _steps(tmp_path, ["preflight.yml"], julia="0.6.4", cuda_fact=fact, mocha_cifar_cuda=True)
    assert proc.returncode != 0
    assert "mocha_cifar: mocha_cifar_cuda=True, but this host's cuDNN 9 lacks Mocha v0.3.1's calls (needs cuDNN 5)" in (
        proc.stdout
    )
    assert "mocha_cifar_cudnn_compat: true" in proc.stdout
    assert "cudnn/v5.1/cudnn-8.0-linux-x64-v5.1.tgz" in proc.stdout


REDIST = {
    "mocha_cifar_cudnn_redist_url": "file:///srv/cudnn.tgz",
    "mocha_cifar_cudnn_redist_checksum": "sha256:" + "0" * 64,
}
GPU = {"gpu_present": True, "problems": [], "driver": {"gpus": [{"name": "GPU", "compute_cap": "7.5"}]}}


@pytest.mark.parametrize(
    ("julia", "cudnn", "extra", "on", "route"),
    [
        # auto never turns the GPU on with cuDNN >= 6 for v0.3.x, or >= 5 for v0.1.2/v0.2.0.
        ("0.6.4", "5.1.10", {}, "True", "host"),
        ("0.6.4", "6.0.21", {}, "False", ""),
        ("0.6.4", "8.9.7", {}, "False", ""),
        ("0.6.4", "4.0.7", {}, "False", ""),
        ("0.5.0", "4.0.7", {}, "True", "host"),
        ("0.5.0", "5.1.10", {}, "False", ""),
        ("0.4.7", "5.1.10", {}, "False", ""),
        ("0.6.4", None, {}, "False", ""),
        # Either experimental route serves Mocha's calls.
        ("0.6.4", "9.19.0", {"mocha_cifar_cudnn_compat": True}, "True", "compat"),
        ("0.6.4", "7.6.5", {"mocha_cifar_cudnn_compat": True}, "False", ""),
        ("0.6.4", "9.19.0", REDIST, "True", "redist"),
    ],
)  # fmt: skip
def test_the_gpu_gate(tmp_path, julia, cudnn, extra, on, route):  # noqa: PLR0917 (pytest's parameters)
    fact = {**GPU, "cudnn": cudnn}
    proc, decided = _steps(tmp_path, ["preflight.yml"], julia=julia, cuda_fact=fact, **extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (decided["cuda_on"], decided["route"]) == (on, route)
    assert decided["backend"] == ("gpu" if on == "True" else "cpu-native")
    if on == "False":
        assert decided["reason"].startswith("CPU: ")


def test_a_gpu_with_other_problems_stays_off_even_with_a_matching_cudnn(tmp_path):
    fact = {**GPU, "cudnn": "5.1.10", "problems": [{"check": "smoke", "message": "SAXPY on the GPU failed: x"}]}
    proc, decided = _steps(tmp_path, ["preflight.yml"], julia="0.6.4", cuda_fact=fact)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["cuda_on"] == "False"
    assert decided["reason"] == "CPU: cuda_verify found SAXPY on the GPU failed: x"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mocha_cifar_cudnn_redist_url": "file:///srv/cudnn.tgz"}, "cudnn_redist_checksum=(empty)"),
        ({**REDIST, "mocha_cifar_cudnn_redist_url": "http://example.com/c.tgz"},
         "cudnn_redist_url=http://example.com/c.tgz (empty, or an https or file:/// URL"),
        ({"mocha_cifar_cudnn_redist_url": "file:///c.tgz", "mocha_cifar_cudnn_redist_checksum": "sha256:00"},
         "cudnn_redist_checksum=sha256:00 (ALGORITHM:HEX"),
        ({"mocha_cifar_cudnn_redist_url": "file:///c.tgz", "mocha_cifar_cudnn_redist_checksum": "sha256:" + "0" * 64,
          "mocha_cifar_cudnn_compat": True}, "not both"),
        ({"mocha_cifar_omp_threads": "0"}, "omp_threads=0 (auto or a number >= 1)"),
    ],
)  # fmt: skip
def test_bad_backend_inputs_are_refused_first(tmp_path, extra, message):
    proc, _ = _steps(tmp_path, ["preflight.yml"], **extra)
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    assert _calls(tmp_path) == []  # refused before julia was asked anything


def test_cpu_backend_gets_the_native_extension_and_the_vcpu_count(tmp_path):
    source = _mocha_repo(tmp_path)
    proc, decided = _steps(
        tmp_path, ["preflight.yml", "pkg.yml", "backend.yml", "test.yml"], mocha_cifar_source=str(source),
        mocha_cifar_version="v0.2.0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["backend"] == "cpu-native"
    assert (tmp_path / "home/.julia/v0.5/Mocha/deps/libmochaext.so").exists()  # built by a real g++ -fopenmp
    vcpus = str(os.cpu_count())
    seen = {" ".join(entry["args"]): entry["env"] for entry in _env_log(tmp_path)}
    native = {"MOCHA_USE_NATIVE_EXT": "true", "OMP_NUM_THREADS": vcpus}
    assert seen["-e using Mocha"] == native
    assert seen['-e Pkg.setprotocol!("https"); Pkg.test("Mocha")'] == native
    assert "TASK [mocha_cifar : Check the banner says what was asked]" in proc.stdout
    assert decided["tests"] == [{"attempt": 1, "passed": True}]


def test_pure_julia_cpu_backend_has_no_native_extension(tmp_path):
    source = _mocha_repo(tmp_path)
    proc, decided = _steps(
        tmp_path, ["preflight.yml", "pkg.yml", "backend.yml"], mocha_cifar_source=str(source),
        mocha_cifar_version="v0.2.0", mocha_cifar_native_ext=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["backend"] == "cpu"
    seen = {" ".join(entry["args"]): entry["env"] for entry in _env_log(tmp_path)}
    assert seen["-e using Mocha"] == {}


def test_a_native_extension_that_does_not_load_fails_on_the_banner(tmp_path):
    """The library exists but is not a shared object: Mocha's src/native.jl fails to load it."""
    source = _mocha_repo(tmp_path)
    proc, _ = _steps(tmp_path, ["preflight.yml", "pkg.yml"], mocha_cifar_source=str(source), mocha_cifar_omp_threads=3)
    assert proc.returncode == 0, proc.stdout[-3000:]
    (tmp_path / "home/.julia/v0.5/Mocha/deps/libmochaext.so").write_text("not a library\n")
    proc, _ = _steps(tmp_path, ["preflight.yml", "pkg.yml", "backend.yml"], mocha_cifar_omp_threads=3,
                     mocha_cifar_source=str(source))  # fmt: skip
    assert proc.returncode != 0
    assert "native extension enabled and loaded" in proc.stdout and "Could not load native extension" in proc.stdout


def test_julia_04_uses_no_setprotocol_and_05_initialises_over_https(tmp_path):
    source = _mocha_repo(tmp_path)
    proc, _ = _steps(tmp_path / "a", ["preflight.yml", "pkg.yml"], julia="0.4.7", mocha_cifar_source=str(source),
                     mocha_cifar_version="v0.1.2")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    calls = _calls(tmp_path / "a")
    assert f'-e Pkg.clone(ARGS[1], "Mocha") -- {source}' in calls
    assert not [c for c in calls if "setprotocol" in c]
    proc, _ = _steps(tmp_path / "b", ["preflight.yml", "pkg.yml"], julia="0.6.4", mocha_cifar_source=str(source),
                     mocha_cifar_version="v0.3.1")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    calls = _calls(tmp_path / "b")
    init = calls.index('-e Pkg.setprotocol!("https"); Pkg.init()')
    assert init < calls.index(f'-e Pkg.setprotocol!("https"); Pkg.clone(ARGS[1], "Mocha") -- {source}')
    assert init < calls.index('-e print(Pkg.installed("Mocha"))')


def test_julia_06_trusts_the_hosts_ca_bundle_and_04_is_left_alone(tmp_path):
    """Issue 30 item 9: Julia 0.5/0.6's libgit2 would trust only its 2018 share/julia/cert.pem."""
    source = _mocha_repo(tmp_path)
    host_bundle = "/etc/ssl/certs/ca-certificates.crt"  # this Debian machine's, as on the DLAMI
    assert Path(host_bundle).is_file()
    proc, _ = _steps(tmp_path / "six", ["preflight.yml", "pkg.yml"], julia="0.6.4", mocha_cifar_source=str(source),
                     mocha_cifar_version="v0.3.1")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    six = _env_log(tmp_path / "six")
    assert [e["args"] for e in six if e["args"][:1] == ["-e"]]  # Pkg calls ran
    assert {e["tls_ca"] for e in six if e["args"][:1] == ["-e"]} == {host_bundle}
    proc, _ = _steps(tmp_path / "four", ["preflight.yml", "pkg.yml"], julia="0.4.7", mocha_cifar_source=str(source),
                     mocha_cifar_version="v0.1.2")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert {e["tls_ca"] for e in _env_log(tmp_path / "four")} == {"share/julia/cert.pem"}


@pytest.mark.heavy
def test_a_failing_first_test_is_repaired_once_and_both_attempts_recorded(tmp_path):
    """The double's switch test-needs-branch fails Pkg.test while Mocha's checkout is a
    detached HEAD (as Pkg.pin leaves it); the repair puts it on branch master."""
    source = _mocha_repo(tmp_path)
    proc, decided = _steps(
        tmp_path, ["preflight.yml", "pkg.yml", "backend.yml", "test.yml"], mocha_cifar_source=str(source),
        mocha_cifar_version="v0.2.0", env_extra={"JULIA_STAND_IN_TEST_NEEDS_BRANCH": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    first, second = decided["tests"]
    assert (first["attempt"], first["passed"], second) == (1, False, {"attempt": 2, "passed": True})
    assert first["log"].endswith("/logs/pkg-test-cpu.log") and "detached HEAD" in first["log_tail"]
    calls = _calls(tmp_path)
    assert calls.count('-e Pkg.setprotocol!("https"); Pkg.rm("Mocha")') == 1
    assert calls.count('-e Pkg.setprotocol!("https"); Pkg.test("Mocha")') == 2
    mocha = tmp_path / "home/.julia/v0.5/Mocha"
    git = ["git", "-C", str(mocha)]
    branch = subprocess.run([*git, "symbolic-ref", "--short", "HEAD"], check=True, capture_output=True, text=True)
    assert branch.stdout.strip() == "master"
    tag = subprocess.run([*git, "rev-parse", "HEAD", "v0.2.0^{commit}"], check=True, capture_output=True, text=True)
    assert len(set(tag.stdout.split())) == 1  # master at the wanted version
    record = json.loads((tmp_path / "home/logs/tests-0.2.0-cpu-native.json").read_text())
    assert record == decided["tests"]
    # A later run reads the record instead of testing again.
    again, later = _steps(tmp_path, ["preflight.yml", "pkg.yml", "test.yml"], mocha_cifar_source=str(source),
                          mocha_cifar_version="v0.2.0")  # fmt: skip
    assert again.returncode == 0 and later["tests"] == record
    assert _calls(tmp_path).count('-e Pkg.setprotocol!("https"); Pkg.test("Mocha")') == 2


def _redist(tmp_path: Path, major: int) -> tuple[Path, str]:
    """A stand-in (TEST DOUBLE) of NVIDIA's redistributable layout: cuda/include/cudnn.h
    declaring the major, and a placeholder cuda/lib64/libcudnn.so.<major>."""
    archive = tmp_path / f"cudnn-stand-in-v{major}.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (
            ("cuda/include/cudnn.h", f"/* TEST DOUBLE */\n#define CUDNN_MAJOR {major}\n#define CUDNN_MINOR 1\n"),
            (f"cuda/lib64/libcudnn.so.{major}", "TEST DOUBLE, not a library\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive, "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()


def _kernels(tmp_path: Path, **overrides: Any) -> subprocess.CompletedProcess[str]:
    """backend.yml alone with CUDA on (the nvcc recorder double as nvcc)."""
    mocha = tmp_path / "Mocha"
    if not mocha.exists():
        shutil.copytree(STAND_IN / "mocha_tree", mocha)
        (tmp_path / "home").mkdir()
        (tmp_path / "include").mkdir()
        (tmp_path / "include" / "curand_kernel.h").write_text("/* stand-in */\n")
    variables = {
        "mocha_cifar_pkg_dir": {"stdout": str(mocha)},
        "mocha_cifar_cuda_on": True,
        "mocha_cifar_runner": [],
        "mocha_cifar_home": str(tmp_path / "home"),
        "mocha_cifar_julia": str(JULIA),
        "mocha_cifar_curand_paths": [str(tmp_path / "include")],
        "mocha_cifar_profile_file": str(tmp_path / "mocha.sh"),
        "mocha_cifar_row": COMPAT["0.6"],
        "mocha_cifar_cudnn_redist_dir": str(tmp_path / "redist"),
        **overrides,
    }
    env = ansible_env(
        {"NVCC_RECORD_LOG": str(tmp_path / "nvcc.log"), "HOME": str(tmp_path / "home")},
        path_prefix=str(DOUBLES / "nvcc_recorder"),
    )
    return run_playbook("tests/integration/playbooks/mocha_kernels.yml", "-e", json.dumps(variables), env=env)


def test_the_redistributable_reaches_only_mochas_processes(tmp_path):
    archive, checksum = _redist(tmp_path, 5)
    proc = _kernels(tmp_path, mocha_cifar_cudnn_redist_url=archive.as_uri(), mocha_cifar_cudnn_redist_checksum=checksum)
    assert proc.returncode == 0, proc.stdout[-3000:]
    libs = list((tmp_path / "redist").glob("sha256-*/cuda/lib64"))
    assert len(libs) == 1 and (libs[0] / "libcudnn.so.5").exists()
    seen = {" ".join(entry["args"]): entry["env"] for entry in _env_log(tmp_path)}
    assert seen["-e using Mocha"]["LD_LIBRARY_PATH"] == str(libs[0])
    assert "cudnn" not in (tmp_path / "mocha.sh").read_text()  # users' shells: nothing system-wide


def test_a_tampered_redistributable_unpacks_nothing(tmp_path):
    archive, _ = _redist(tmp_path, 5)
    proc = _kernels(
        tmp_path, mocha_cifar_cudnn_redist_url=archive.as_uri(), mocha_cifar_cudnn_redist_checksum="sha256:" + "0" * 64
    )
    assert proc.returncode != 0 and "checksum" in proc.stdout.lower()
    assert not list((tmp_path / "redist").glob("*/cuda"))
    assert not list((tmp_path / "redist").glob("*/cudnn.tgz"))


def test_a_redistributable_of_another_generation_is_refused(tmp_path):
    archive, checksum = _redist(tmp_path, 9)
    proc = _kernels(tmp_path, mocha_cifar_cudnn_redist_url=archive.as_uri(), mocha_cifar_cudnn_redist_checksum=checksum)
    assert proc.returncode != 0
    assert "holds cuDNN 9, and Mocha v0.3.1 calls cuDNN v5 (5.1)" in proc.stdout
    assert "-e using Mocha" not in _calls(tmp_path)  # refused before Mocha ran with it


def test_kernels_are_built_for_the_gpus_own_compute_capability(tmp_path):
    proc = _kernels(
        tmp_path, mocha_cifar_nvcc_flags="", ansible_local={"cuda": {"driver": {"gpus": [{"compute_cap": "9.0"}]}}}
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "nvcc.log").read_text().splitlines() == ["args=-ptx kernels.cu append=-arch=compute_90"]


def test_a_failed_package_build_fails_the_play_though_julia_exits_0(tmp_path):
    """Mocha's deps/build.jl runs $CXX (g++ unless set); here CXX=false fails it. Julia's Pkg
    catches that, prints [ BUILD ERRORS ] and exits 0 (JuliaLang/julia#15045), as the stand-in
    does: the role reads the log of its Pkg.build (after Pkg.clone, which builds nothing)."""
    proc, _ = _steps(tmp_path, ["preflight.yml", "pkg.yml"], env_extra={"CXX": "false"},
                     mocha_cifar_source=str(_mocha_repo(tmp_path)))  # fmt: skip
    assert proc.returncode != 0, proc.stdout[-3000:]
    log = tmp_path / "home" / "logs" / "pkg-build.log"
    said = "mocha_cifar: pkg-build exited 0, but Julia's Pkg reported build errors for Mocha"
    assert said in proc.stdout, proc.stdout[-3000:]
    assert f"Whole log: {log}" in proc.stdout
    assert "[ BUILD ERRORS ]" in log.read_text()
    assert not (tmp_path / "home/.julia/v0.5/Mocha/deps/libmochaext.so").exists()


def test_a_source_whose_last_component_is_not_mocha_still_clones_as_mocha(tmp_path):
    """Pkg.clone(url) names the package from the URL's last component (base/pkg/entry.jl): the
    sandbox's own mirror, .../mocha, would clone as "mocha", and Pkg.pin("Mocha", ...) then fails.
    The role names the package: Pkg.clone(url, "Mocha")."""
    source = tmp_path / "mirrors" / "mocha"
    source.parent.mkdir()
    subprocess.run([str(STAND_IN / "make_mocha_repo.sh"), str(source)], check=True)
    proc, _ = _steps(tmp_path, ["preflight.yml", "pkg.yml"], mocha_cifar_source=str(source),
                     mocha_cifar_version="v0.2.0")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    depot = {p.name for p in (tmp_path / "home/.julia/v0.5").iterdir()}
    assert "Mocha" in depot and "mocha" not in depot, depot
    assert f'-e Pkg.setprotocol!("https"); Pkg.clone(ARGS[1], "Mocha") -- {source}' in _calls(tmp_path)
