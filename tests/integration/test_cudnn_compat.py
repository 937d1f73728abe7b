"""mocha_cifar's cuDNN compatibility layer without a GPU: it builds with the host's compiler
(-Wall -Werror) for each Mocha generation, exports exactly the table's entry points with the
arities of Mocha's ccalls, fails with one clear line when no real cuDNN is there, and translates
the changed calls as the table says, checked against the TEST DOUBLE
tests/doubles/cudnn9_double (a libcudnn.so.9 that computes nothing and logs what it is asked).
The numerical proof on a real GPU is tests/gpu/cudnn_compat_on_device.sh."""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import DOUBLES, ROOT, SANDBOX_DOUBLES, ansible_env, run_playbook

SRC = ROOT / "roles" / "mocha_cifar" / "files" / "cudnn_compat"
TABLE = yaml.safe_load((ROOT / "roles" / "mocha_cifar" / "vars" / "cudnn_compat.yml").read_text())[
    "mocha_cifar_cudnn_compat_table"
]
ROWS: list[dict[str, Any]] = TABLE["entry_points"]
GENS = (4, 5)
INFO = "mochaCudnnCompatInfo"
CCALL_TYPES = {
    "Handle",
    "StreamHandle",
    "Cint",
    "Int",
    "Csize_t",
    "Ptr{Void}",
    "Ptr{Cint}",
    "Ptr{Int}",
    "Ptr{Csize_t}",
    "Ptr{Handle}",
    "Ptr{StreamHandle}",
}


def _exported(gen: int) -> dict[str, int]:
    return {r["name"]: len(r["ccall"]) for r in ROWS if gen in r["gens"] and r.get("export", True)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    out = {}
    for gen in GENS:
        folder = tmp_path_factory.mktemp(f"gen{gen}")
        done = subprocess.run(
            ["make", "-C", str(SRC), f"GEN={gen}", f"OUT={folder}"], check=False, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "-Wall -Wextra -Werror" in done.stdout
        out[gen] = folder
    return out


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lib = tmp_path_factory.mktemp("double") / "libcudnn.so.9"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-Wall", "-o", str(lib), str(DOUBLES / "cudnn9_double" / "cudnn9_double.c")],
        check=True,
    )
    return lib


def test_every_row_of_the_table_has_a_source_and_mochas_types() -> None:
    for row in ROWS:
        assert re.search(r"\[mocha-v0\.[0-9]\.[0-9]\]", row["source"]), row["name"]
        assert set(row["ccall"]) <= CCALL_TYPES, row["name"]
        assert row["how"] in {"forward", "translate", "not_supported"}, row["name"]
        assert set(row["gens"]) <= set(GENS) and row["gens"], row["name"]
        assert row["how"] == "not_supported" or row["to"].startswith("cudnn"), row["name"]
    for gen in GENS:
        names = [r["name"] for r in ROWS if gen in r["gens"]]
        assert len(names) == len(set(names)), f"generation {gen} lists a name twice"
    assert {m for g in TABLE["generations"].values() for m in g["mocha"]} >= {"v0.1.2", "v0.2.0", "v0.3.1"}


@pytest.mark.parametrize("gen", GENS)
def test_exports_exactly_the_tables_entry_points(built: dict[int, Path], gen: int) -> None:
    nm = subprocess.run(
        ["nm", "-D", "--defined-only", str(built[gen] / "libcudnn.so")], capture_output=True, text=True, check=True
    )
    exported = {line.split()[-1] for line in nm.stdout.splitlines() if " T " in line}
    assert exported == set(_exported(gen)) | {INFO}
    other = 5 if gen == 4 else 4
    only_other = set(_exported(other)) - set(_exported(gen))
    assert only_other and not (exported & only_other)


@pytest.mark.parametrize("gen", GENS)
def test_each_entry_point_takes_mochas_argument_count(gen: int) -> None:
    """Same-name calls whose arity changed between generations (nm cannot see arity)."""
    pre = subprocess.run(
        ["cc", "-E", "-P", f"-DMOCHA_CUDNN_GEN={gen}", str(SRC / "cudnn_compat.c")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    defined = {}
    for name, params in re.findall(r'visibility\("default"\)\)\)\s+\w+\s+(\w+)\(([^)]*)\)\s*\{', pre):
        defined[name] = len([p for p in params.split(",") if p.strip() and p.strip() != "void"])
    defined.pop(INFO)
    assert defined == _exported(gen)
    changed = {r["name"] for r in ROWS if r["gens"] == [4]} & {r["name"] for r in ROWS if r["gens"] == [5]}
    assert {"cudnnSetFilter4dDescriptor", "cudnnSetPooling2dDescriptor", "cudnnGetFilterDescriptor"} <= changed


def _call(lib: Path, body: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = f"import ctypes, json\nlib = ctypes.CDLL({str(lib)!r})\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env, timeout=60
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LD_LIBRARY_PATH", "MOCHA_CUDNN_COMPAT_LIBCUDNN"}}
    env.update(extra)
    return env


@pytest.mark.parametrize("gen", GENS)
def test_without_a_real_cudnn_every_call_fails_with_one_clear_line(built: dict[int, Path], gen: int) -> None:
    for name in ("libcudnn.so.9", "libcudnn.so.8"):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        pytest.skip(f"this machine has a real {name}")
    done = _call(
        built[gen] / "libcudnn.so",
        """
        h = ctypes.c_void_p()
        print(lib.cudnnCreate(ctypes.byref(h)), lib.cudnnCreateTensorDescriptor(ctypes.byref(h)),
              lib.cudnnSetConvolution2dDescriptor(h, 2, 2, 1, 1, 1, 1, 1))
        """,
        _clean_env(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1", "1"]  # CUDNN_STATUS_NOT_INITIALIZED, Mocha's "Not initialized"
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "libcudnn.so.9" in lines[0] and "libcudnn.so.8" in lines[0], done.stderr
    assert f"cuDNN v{gen} calls" in lines[0]


@pytest.mark.parametrize(
    ("real", "old"),
    [
        (0, 0),
        (1001, 1),
        (1005, 10),
        (2000, 3),
        (2002, 3),
        (2001, 5),
        (3000, 9),
        (3007, 6),
        (4000, 4),
        (4004, 2),
        (5000, 8),
        (5003, 8),
    ],
)
def test_cudnn9_status_codes_keep_their_old_meanings(built: dict[int, Path], double: Path, real: int, old: int) -> None:
    done = _call(
        built[4] / "libcudnn.so",
        "print(lib.cudnnDestroyTensorDescriptor(None))",
        _clean_env(MOCHA_CUDNN_COMPAT_LIBCUDNN=str(double), CUDNN_DOUBLE_STATUS=str(real)),
    )
    assert done.stdout.strip() == str(old), done.stderr


def _logged(built: Path, double: Path, tmp_path: Path, body: str, **env: str) -> tuple[str, list[str]]:
    log = tmp_path / "double.log"
    log.unlink(missing_ok=True)
    done = _call(
        built / "libcudnn.so",
        body,
        _clean_env(MOCHA_CUDNN_COMPAT_LIBCUDNN=str(double), CUDNN_DOUBLE_LOG=str(log), **env),
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout.strip(), log.read_text().splitlines() if log.exists() else []


def test_v4_descriptors_gain_the_old_behaviour(built: dict[int, Path], double: Path, tmp_path: Path) -> None:
    out, log = _logged(
        built[4],
        double,
        tmp_path,
        """
        print(lib.cudnnSetFilter4dDescriptor(None, 0, 32, 3, 5, 5),
              lib.cudnnSetPooling2dDescriptor(None, 0, 3, 3, 0, 0, 2, 2),
              lib.cudnnSetConvolution2dDescriptor(None, 2, 2, 1, 1, 1, 1, 1))
        """,
    )
    assert out == "0 0 0"
    assert log == [
        "cudnnSetFilter4dDescriptor 0 0 32 3 5 5",  # format NCHW added
        "cudnnSetPooling2dDescriptor 0 0 3 3 0 0 2 2",  # CUDNN_NOT_PROPAGATE_NAN added
        "cudnnSetConvolution2dDescriptor 2 2 1 1 1 1 1 0",  # dilation 1, compute type float
        "cudnnSetConvolutionMathType 3",  # FMA only: no TF32
    ]


def test_v5_calls_with_todays_arguments_pass_through(built: dict[int, Path], double: Path, tmp_path: Path) -> None:
    out, log = _logged(
        built[5],
        double,
        tmp_path,
        """
        print(lib.cudnnSetFilter4dDescriptor(None, 1, 0, 32, 3, 5, 5),
              lib.cudnnSetPooling2dDescriptor(None, 1, 0, 3, 3, 1, 1, 2, 2))
        """,
    )
    assert out == "0 0"
    assert log == ["cudnnSetFilter4dDescriptor 1 0 32 3 5 5", "cudnnSetPooling2dDescriptor 1 0 3 3 1 1 2 2"]


def test_upscale_other_than_one_is_not_supported_rather_than_dilated(
    built: dict[int, Path], double: Path, tmp_path: Path
) -> None:
    out, log = _logged(
        built[4], double, tmp_path, "print(lib.cudnnSetConvolution2dDescriptor(None, 0, 0, 1, 1, 2, 1, 1))"
    )
    assert out == "9" and log == []


@pytest.mark.parametrize(
    "case",
    [(1, 0, 2), (0, 0, 0), (2, 10000, 2), (2, 100, 0)],
    ids=["prefer-fastest", "no-workspace", "limit-fits", "limit-too-small"],
)
def test_the_removed_algorithm_query_keeps_the_old_preference(
    built: dict[int, Path], double: Path, tmp_path: Path, case: tuple[int, int, int]
) -> None:
    preference, limit, algo = case
    # Ranked list: Winograd (6, Mocha asserts <= FFT), a TF32 tensor-op one, then two FMA ones.
    body = f"""
        algo = ctypes.c_int64(-1)
        rc = lib.cudnnGetConvolutionForwardAlgorithm(None, None, None, None, None, ctypes.c_int64({preference}),
                                                     ctypes.c_size_t({limit}), ctypes.byref(algo))
        print(rc, algo.value)
        """
    out, _ = _logged(built[4], double, tmp_path, body, CUDNN_DOUBLE_FWD_PERF="6:0:3,1:4096:1,2:8192:3,0:0:3")
    assert out == f"0 {algo}"  # the whole 64-bit Int Mocha reads is written


def test_the_algorithm_query_says_not_supported_when_nothing_fits(
    built: dict[int, Path], double: Path, tmp_path: Path
) -> None:
    body = """
        algo = ctypes.c_int64(-1)
        print(lib.cudnnGetConvolutionForwardAlgorithm(None, None, None, None, None, ctypes.c_int64(0),
                                                      ctypes.c_size_t(0), ctypes.byref(algo)), algo.value)
        """
    out, _ = _logged(built[5], double, tmp_path, body, CUDNN_DOUBLE_FWD_PERF="2:8192:3")
    assert out == "9 -1"


def test_double_tensors_get_a_double_compute_type(built: dict[int, Path], double: Path, tmp_path: Path) -> None:
    out, log = _logged(
        built[5],
        double,
        tmp_path,
        """
        print(lib.cudnnSetConvolution2dDescriptor(None, 2, 2, 1, 1, 1, 1, 1),
              lib.cudnnConvolutionForward(*([None] * 7), 0, None, ctypes.c_size_t(0), None, None, None))
        """,
        CUDNN_DOUBLE_DTYPE="1",
    )
    assert out == "0 0"
    assert "cudnnSetConvolution2dDescriptor 2 2 1 1 1 1 1 1" in log
    assert log[-1] == "cudnnConvolutionForward"


def test_calls_without_a_faithful_translation_say_not_supported(built: dict[int, Path], double: Path) -> None:
    readme = (ROOT / "roles" / "mocha_cifar" / "README.md").read_text()
    for row in (r for r in ROWS if r["how"] == "not_supported" and r.get("export", True)):
        gen = row["gens"][0]
        args = ", ".join(["None"] * len(row["ccall"]))
        done = _call(
            built[gen] / "libcudnn.so",
            f"print(lib.{row['name']}({args}))",
            _clean_env(MOCHA_CUDNN_COMPAT_LIBCUDNN=str(double)),
        )
        assert done.stdout.strip() == "9", row["name"]
        assert f"`{row['name']}`" in readme, f"the role README does not list {row['name']}"


def _role(
    tmp_path: Path, env: dict[str, str] | None = None, **overrides: Any
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "facts.json"
    variables = {
        "mocha_cifar_wanted": "v0.2.0",
        "mocha_cifar_cuda_on": True,
        "mocha_cifar_home": str(tmp_path / "home"),
        "mocha_cifar_cudnn_compat_dir": str(tmp_path / "layer"),
        "mocha_cifar_runner": [],  # no Mocha user here; the test below runs the probe as `nobody`
        "cudnn_compat_test_out": str(out),
        **overrides,
    }
    return run_playbook(
        "tests/integration/playbooks/cudnn_compat.yml", "-e", json.dumps(variables), env=ansible_env(env)
    ), out


def test_the_role_builds_the_layer_once_and_gives_it_to_mochas_calls(tmp_path: Path, double: Path) -> None:
    first, out = _role(tmp_path, mocha_cifar_cudnn_compat_search_paths=[str(double.parent)])
    assert first.returncode == 0, first.stdout[-3000:]
    facts = json.loads(out.read_text())
    layer = tmp_path / "layer" / "gen4"
    assert facts["record"] == {
        "generation": 4,
        "cudnn_version": 91900,
        "forwards_to": str(double),
        "layer": str(layer / "libcudnn.so"),
        "experimental": True,
    }
    assert f"LD_LIBRARY_PATH={layer}:{double.parent}" in facts["julia_env"]
    assert f"MOCHA_CUDNN_COMPAT_LIBCUDNN={double}" in facts["julia_env"]
    second, _ = _role(tmp_path, mocha_cifar_cudnn_compat_search_paths=[str(double.parent)])
    assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", second.stdout), second.stdout[-2000:]


NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0, reason="runuser needs root, as the role has on the host")
def test_the_role_runs_the_probe_as_the_mocha_user(tmp_path: Path, double: Path) -> None:
    """Issue 32 item 11: the probe loads code from the found cuDNN's folder, which another user
    may own, so it runs as the Mocha user (here `nobody`). The double logs each call it gets to
    $CUDNN_DOUBLE_LOG, so the log's owner is the user the probe ran as."""
    base = Path(tempfile.mkdtemp(prefix="mocha-ansible-cudnn-", dir="/var/tmp"))  # tmp_path is root's, 0700
    try:
        base.chmod(0o755)
        cudnn, logs = base / "cudnn", base / "logs"
        cudnn.mkdir()
        shutil.copy(double, cudnn / double.name)
        logs.mkdir()
        os.chown(logs, NOBODY, NOBODY)
        done, out = _role(
            tmp_path,
            env={"CUDNN_DOUBLE_LOG": str(logs / "calls.log")},
            mocha_cifar_cudnn_compat_dir=str(base / "layer"),
            mocha_cifar_cudnn_compat_search_paths=[str(cudnn)],
            mocha_cifar_runner=["runuser", "-u", "nobody", "--"],
            mocha_cifar_user="nobody",
        )
        assert done.returncode == 0, done.stdout[-3000:]
        assert json.loads(out.read_text())["record"]["forwards_to"] == str(cudnn / double.name)
        log = logs / "calls.log"
        assert "cudnnCreateConvolutionDescriptor" in log.read_text().splitlines()
        assert log.stat().st_uid == NOBODY
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("gen", GENS)
def test_the_probe_refuses_a_cudnn_missing_a_part_mocha_needs(built: dict[int, Path], double: Path, gen: int) -> None:
    """cuDNN 9 opens the sub-library behind a call on first use: with libcudnn_cnn.so.9 missing,
    cudnnCreateConvolutionDescriptor fails (seen with cuDNN 9.28.1 here), so the probe creates each
    descriptor kind Mocha sets up."""
    layer = built[gen] / "libcudnn.so"
    env = _clean_env(MOCHA_CUDNN_COMPAT_LIBCUDNN=str(double), CUDNN_DOUBLE_FAIL="cudnnCreateConvolutionDescriptor")
    done = subprocess.run(
        [str(built[gen] / "cudnn_compat_probe"), str(layer)], check=False, capture_output=True, text=True, env=env
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [
        f"mocha cudnn_compat probe: cudnnCreateConvolutionDescriptor returned cuDNN status 9 through {layer};"
        f" {double} lacks a part Mocha needs"
    ]


# Issue 32 item 10: an AddressSanitizer/UBSan build of the layer and its probe; any report aborts.
SANITIZE = "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
PATH_MAX = os.pathconf("/", "PC_PATH_MAX")  # dlinfo(3): RTLD_DI_ORIGIN's buffer must hold this many bytes


@pytest.fixture(scope="module")
def sanitized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sanitized")
    done = subprocess.run(
        ["make", "-C", str(SRC), "GEN=4", f"OUT={folder}", f"CFLAGS={SANITIZE}"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def _deep_folder(root: Path, length: int) -> Path:
    """A folder whose absolute path is `length` bytes, in names of at most 200 bytes (NAME_MAX is 255)."""
    path = str(root)
    while len(path) < length:
        path += "/" + "d" * min(200, length - len(path) - 1)
    os.makedirs(path)
    assert len(path) == length
    return Path(path)


def _sanitized_probe(sanitized: Path, libcudnn: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_env(
        MOCHA_CUDNN_COMPAT_LIBCUDNN=libcudnn, ASAN_OPTIONS="halt_on_error=1", UBSAN_OPTIONS="print_stacktrace=1"
    )
    return subprocess.run(
        [str(sanitized / "cudnn_compat_probe"), str(sanitized / "libcudnn.so")],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


def test_the_sanitized_probe_reports_a_cudnn_in_a_folder_near_path_max(
    sanitized: Path, double: Path, tmp_path: Path
) -> None:
    """The old 512-byte real_path overflowed here (global-buffer-overflow in init)."""
    lib = _deep_folder(tmp_path, PATH_MAX - len("/libcudnn.so.9") - 1) / "libcudnn.so.9"
    lib.write_bytes(double.read_bytes())
    done = _sanitized_probe(sanitized, str(lib), tmp_path)
    assert "Sanitizer" not in done.stderr and "runtime error" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {"generation": 4, "cudnn_version": 91900, "forwards_to": str(lib)}


def test_the_sanitized_layer_refuses_a_cudnn_path_longer_than_path_max(
    sanitized: Path, double: Path, tmp_path: Path
) -> None:
    """A relative name opened from a deep working folder: the folder fits PATH_MAX, the file's
    path does not. The layer says so in one line instead of cutting (or overrunning) it."""
    folder = _deep_folder(tmp_path, PATH_MAX - 8)
    where = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # the file's full path is too long to name
    try:
        copy = os.open("libcudnn.so.9", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=where)
        os.write(copy, double.read_bytes())
        os.close(copy)
    finally:
        os.close(where)
    done = _sanitized_probe(sanitized, "./libcudnn.so.9", folder)
    assert "Sanitizer" not in done.stderr and "runtime error" not in done.stderr, done.stderr[-3000:]
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [
        f"mocha cudnn_compat: the path of libcudnn.so.9 in {str(folder)[:64]}... is longer than PATH_MAX"
        f" ({PATH_MAX} bytes)"
    ]


def test_the_role_refuses_a_cudnn_missing_a_part_mocha_needs(tmp_path: Path, double: Path) -> None:
    done, out = _role(
        tmp_path,
        env={"CUDNN_DOUBLE_FAIL": "cudnnCreatePoolingDescriptor"},
        mocha_cifar_cudnn_compat_search_paths=[str(double.parent)],
    )
    assert done.returncode != 0 and not out.exists()
    assert "the cuDNN compatibility layer cannot forward to" in done.stdout
    assert "cudnnCreatePoolingDescriptor returned cuDNN status 9" in done.stdout


def test_the_role_refuses_a_host_without_cudnn_9_or_8(tmp_path: Path) -> None:
    done, out = _role(tmp_path, mocha_cifar_cudnn_compat_search_paths=[str(tmp_path)])
    assert done.returncode != 0 and not out.exists()
    assert "no libcudnn.so.9 or libcudnn.so.8 is in" in done.stdout


def test_the_role_refuses_a_mocha_it_has_no_build_for(tmp_path: Path, double: Path) -> None:
    done, _ = _role(tmp_path, mocha_cifar_wanted="v0.1.0", mocha_cifar_cudnn_compat_search_paths=[str(double.parent)])
    assert done.returncode != 0
    assert "has no build for Mocha v0.1.0" in done.stdout


CUDNN_PROBLEM = {"check": "cudnn", "message": "cuDNN 9.14.0 lacks the calls Mocha v0.2.0 makes (it needs cuDNN v4)"}


def _preflight(tmp_path: Path, fact: dict[str, Any], **variables: Any) -> tuple[subprocess.CompletedProcess[str], Path]:
    facts, out = tmp_path / "facts", tmp_path / "backend.json"
    facts.mkdir(exist_ok=True)
    (facts / "cuda.fact").write_text(json.dumps(fact))
    variables = {
        "mocha_cifar_julia": str(SANDBOX_DOUBLES / "julia_mocha_stand_in" / "julia"),
        "mocha_cifar_facts_dir": str(facts),
        "mocha_cifar_home": str(tmp_path / "home"),
        "cudnn_compat_test_out": str(out),
        **variables,
    }
    env = ansible_env({"JULIA_STAND_IN_VERSION": "0.5.0", "HOME": str(tmp_path)})
    done = run_playbook("tests/integration/playbooks/cudnn_compat_preflight.yml", "-e", json.dumps(variables), env=env)
    return done, out


@pytest.mark.parametrize(
    ("cuda", "cudnn", "compat", "cuda_on"),
    [
        (True, "9.14.0", True, True),  # accepted through the layer
        ("auto", "9.14.0", True, True),  # auto turns the GPU on through the layer
        ("auto", "9.14.0", False, False),  # the default route is unchanged
        ("auto", "7.6.5", True, False),  # a cuDNN the layer does not forward to
    ],
)
def test_preflight_accepts_the_gpu_backend_through_the_layer(
    tmp_path: Path, cuda: Any, cudnn: str, compat: bool, cuda_on: bool
) -> None:
    fact = {"gpu_present": True, "cudnn": cudnn, "problems": [CUDNN_PROBLEM]}
    done, out = _preflight(tmp_path, fact, mocha_cifar_cuda=cuda, mocha_cifar_cudnn_compat=compat)
    assert done.returncode == 0, done.stdout[-3000:]
    assert json.loads(out.read_text()) == {"cuda_on": cuda_on}


def test_the_gpu_scripts_read_mochas_signatures_from_the_table() -> None:
    from bench.cudnn_compat_mocha import signatures

    for gen in GENS:
        assert signatures(gen) == {r["name"]: r["ccall"] for r in ROWS if gen in r["gens"]}


@pytest.mark.parametrize("gen", GENS)
def test_the_gpu_scripts_call_sequences_run_against_the_double(built: dict[int, Path], double: Path, gen: int) -> None:
    """Mocha's sequences as the GPU check makes them, with addresses above 4 GiB: every argument
    converts to the ccall's C type and every call reaches the layer (the double computes nothing)."""
    body = f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from bench.cudnn_compat_mocha import FLOAT, DOUBLE, POOL_MAX, RELU, Layer, scalar
        layer = Layer({str(built[gen] / "libcudnn.so")!r}, {gen})
        far = 0x7F0000000000
        for dtype in (FLOAT, DOUBLE):
            one, zero = scalar(dtype, 1.0), scalar(dtype, 0.0)
            x, y = layer.tensor(dtype, 100, 3, 32, 32), layer.tensor(dtype, 100, 32, 32, 32)
            strided = layer.tensor(dtype, 100, 3, 32, 32, strides=(3072, 1, 96, 3))
            w, conv = layer.filter(dtype, 32, 3, 5, 5), layer.convolution(2)
            algo, size = layer.forward_algorithm(x, w, conv, y)
            layer.call("cudnnConvolutionForward", layer.handle, one, x, far, w, far, conv, algo, far, size, zero, y, 1)
            layer.backward_filter(conv, scale=(one, zero), x=(x, far), dy=(y, far), dw=(w, far))
            layer.backward_data(conv, scale=(one, zero), w=(w, far), dy=(y, far), dx=(x, far))
            pool = layer.pooling(POOL_MAX, 3, 2)
            layer.call("cudnnPoolingForward", layer.handle, pool, one, x, far, zero, y, far)
            layer.call("cudnnActivationForward", layer.handle, RELU, x, far, x, far)
            layer.call("cudnnTransformTensor4d", layer.handle, x, far, strided, far)
        print(json.dumps(layer.info()))
        """
    done = _call(
        built[gen] / "libcudnn.so",
        body,
        _clean_env(MOCHA_CUDNN_COMPAT_LIBCUDNN=str(double), CUDNN_DOUBLE_FWD_PERF="1:0:3"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"generation": gen, "cudnn_version": 91900, "forwards_to": str(double)}


def test_the_v2_backward_calls_run_the_heuristics_first_choice(
    built: dict[int, Path], double: Path, tmp_path: Path
) -> None:
    body = """
        args = [None, None, None, None, None, None, None, None, None, None]
        print(lib.cudnnConvolutionBackwardFilter_v2(*args), lib.cudnnConvolutionBackwardData_v2(*args))
        """
    # Ranked: a tensor-op algorithm (TF32: skipped), then algorithm 3 that needs no workspace.
    out, log = _logged(built[4], double, tmp_path, body, CUDNN_DOUBLE_FWD_PERF="1:0:1,3:0:3,0:0:3")
    assert out == "0 0"
    assert [line for line in log if line.startswith("cudnnConvolutionBackward")] == [
        "cudnnConvolutionBackwardFilter algorithm 3 workspace (nil) 0",
        "cudnnConvolutionBackwardData algorithm 3 workspace (nil) 0",
    ]


def test_the_v2_backward_calls_ask_the_heuristics_once_per_handle_and_shape(
    built: dict[int, Path], double: Path, tmp_path: Path
) -> None:
    """The ranking cost 0.65 ms of host time per call on an H200 (docs/gpu-runs/2026-11-27-h200-cudnn-compat,
    run2); its answer is kept under the handle and what each descriptor the query reads holds. The
    double's getters tell descriptors apart by their address, so each step changes one thing."""
    body = f"""
        import os
        real = ctypes.CDLL({str(double)!r})  # the double the layer opened: same globals
        def both(handle=1, x=0x10, dy=0x20, w=0x30, dx=0x40):
            v = ctypes.c_void_p
            filt = [v(handle), None, v(x), None, v(dy), None, None, None, v(w), None]
            data = [v(handle), None, v(w), None, v(dy), None, None, None, v(dx), None]
            done = lib.cudnnConvolutionBackwardFilter_v2(*filt), lib.cudnnConvolutionBackwardData_v2(*data)
            print("step", done)
        both(); both()
        os.environ["CUDNN_DOUBLE_FWD_PERF"] = "0:0:3"  # same inputs: the kept choice stands
        both()
        os.environ["CUDNN_DOUBLE_N"] = "2"  # the batch size
        both()
        both(handle=2)  # another handle
        lib.cudnnDestroy(ctypes.c_void_p(1))  # forgets handle 1
        both()
        both(x=0x11)  # the input: the filter gradient's query reads it, the data gradient's does not
        both(dx=0x41)  # the input gradient: the other way round
        both(w=0x31)  # the filter: both read it
        real.cudnnSetConvolution2dDescriptor(None, 1, 1, 1, 1, 1, 1, 1, 0)  # the convolution
        both()
        real.cudnnSetConvolutionMathType(None, 1)  # its math type
        both()
        """
    out, log = _logged(built[4], double, tmp_path, body, CUDNN_DOUBLE_FWD_PERF="1:0:1,3:0:3,0:0:3")
    assert out.splitlines() == ["step (0, 0)"] * 11
    asked, ran = "cudnnGetConvolutionBackward", "cudnnConvolutionBackward"
    steps = [
        line.split()[0].removeprefix(asked) if line.startswith(asked) else line.split()[2]
        for line in log
        if line.startswith((asked, ran))
    ]
    f, d = "FilterAlgorithm_v7", "DataAlgorithm_v7"
    assert steps == [
        *(f, "3", d, "3"),  # asked; algorithm 1 (TF32) skipped
        *("3", "3"),  # kept
        *("3", "3"),  # kept, though the ranking changed
        *(f, "0", d, "0"),  # batch 2: asked
        *(f, "0", d, "0"),  # handle 2: asked
        *(f, "0", d, "0"),  # handle 1 destroyed: forgotten
        *(f, "0", "0"),  # another x: the filter gradient asks again
        *("0", d, "0"),  # another dx: the data gradient asks again
        *(f, "0", d, "0"),  # another filter
        *(f, "0", d, "0"),  # another convolution
        *(f, "0", d, "0"),  # another math type
    ]


@pytest.mark.parametrize(
    ("cudnn", "mocha", "compat", "flagged"),
    [
        ("9.14.0", "v0.2.0", True, False),  # through the layer
        ("8.9.7", "v0.3.1", "True", False),  # a template may hand over the flag as a string
        ("9.14.0", "v0.2.0", False, True),  # the default route is unchanged
        ("7.6.5", "v0.2.0", True, True),  # a cuDNN the layer does not forward to
        ("9.14.0", "v0.1.0", True, True),  # a Mocha the layer has no build for
    ],
)
def test_cuda_verify_accepts_cudnn_9_or_8_only_through_the_layer(
    cudnn: str, mocha: str, compat: Any, flagged: bool
) -> None:
    from mocha_ansible.project import role_python

    probe = role_python("cuda_verify", "module_utils/cuda_probe.py")
    support = probe.with_mocha_compat(
        yaml.safe_load((ROOT / "roles/cuda_verify/vars/cuda_support.yml").read_text())["cuda_verify_support"],
        yaml.safe_load((ROOT / "roles/mocha_cifar/vars/mocha_compat.yml").read_text())["mocha_cifar_compat"],
    )
    problems = probe.evaluate({"cudnn": cudnn}, {"mocha_version": mocha, "cudnn_compat": compat}, support)
    assert [p["check"] for p in problems if p["check"] == "cudnn"] == (["cudnn"] if flagged else [])
    layer = support["cudnn_via_compat_layer"][0]
    assert {str(m) for m in TABLE["host_cudnn_majors"]} == {
        str(major) for major in range(int(layer["cudnn"]["min"]), int(layer["cudnn"]["below"]))
    }
