"""julia_build's methods (issue 15.2): the release table, the stand-in tarballs, and the
refusals that stop before any package, download or clone, run by ansible-playbook on this
machine. The installs themselves (binary, source-full, a tampered tarball) run in a real
container: molecule/julia_build.
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
import tempfile
from pathlib import Path

import pytest
import yaml

from mocha_ansible.sandbox_doubles import mirrors
from tests.helpers import ROOT, SANDBOX_DOUBLES, ansible_env, julia_play_on_localhost

RELEASES = ROOT / "roles" / "julia_build" / "vars" / "julia_releases.yml"
OFFICIAL = "https://github.com/JuliaLang/julia.git"
SHA = "0" * 64
SHA_UPPER = "A" * 64


def _table() -> dict:
    return yaml.safe_load(RELEASES.read_text())


@pytest.fixture(scope="module")
def stand_in_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    dest = tmp_path_factory.mktemp("julia") / "repo"
    subprocess.run([str(SANDBOX_DOUBLES / "julia_source_stand_in" / "make_repo.sh"), str(dest)], check=True)
    return f"file://{dest}"


_julia = julia_play_on_localhost


def _refused(proc: subprocess.CompletedProcess[str], message: str, tmp_path: Path) -> None:
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-3000:]
    for made in ("cache", "cache-downloads", "opt", "bin", "facts"):
        assert not (tmp_path / made).exists(), made


# -- the table --------------------------------------------------------------------


def test_every_release_row_has_a_source_and_a_sha256_or_an_explained_blank():
    releases = _table()["julia_build_releases"]
    assert {"v0.4.7", "v0.5.0", "v0.5.2", "v0.6.4"} <= set(releases)
    for tag, row in releases.items():
        assert re.fullmatch(r"\d+\.\d+", row["minor"]) and tag.startswith(f"v{row['minor']}."), tag
        for key in ("binary", "source_full"):
            entry = row[key]
            assert entry["source"].strip(), (tag, key)
            assert entry["url"].startswith("https://") and f"julia-{tag[1:]}-" in entry["url"], (tag, key)
            if entry["sha256"]:
                assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]), (tag, key)
            else:
                assert entry["note"].strip(), f"{tag} {key}: an empty sha256 needs a note saying why"
        assert isinstance(row["git"]["deps_reachable"], bool) and row["git"]["source"].strip(), tag


def test_the_binary_rows_are_the_official_linux_tarballs():
    releases = _table()["julia_build_releases"]
    for tag, row in releases.items():
        version, minor = tag[1:], row["minor"]
        assert row["binary"]["url"] == (
            f"https://julialang-s3.julialang.org/bin/linux/x64/{minor}/julia-{version}-linux-x86_64.tar.gz"
        )
        assert row["binary"]["sha256"], tag
    # The figure the issue quotes from JuliaLang/www.julialang.org downloads/oldreleases.md
    assert releases["v0.6.4"]["binary"]["sha256"] == "d20e6984bcf8c3692d853a9922e2cf1de19b91201cb9e396d9264c32cebedc46"


def test_every_method_has_minutes_with_a_source_and_a_kind():
    minutes = _table()["julia_build_method_minutes"]
    assert set(minutes) == {"binary", "source", "source-full"}
    for method, row in minutes.items():
        assert float(row["minutes"]) > 0 and row["source"].strip(), method
        assert row["kind"] in {"measured", "cited", "estimate"}, method


# -- the stand-in tarballs (TEST DOUBLES) -------------------------------------------


def test_the_stand_in_tarballs_have_the_official_layouts_and_their_sha256(tmp_path):
    binary, full = mirrors.julia_binary_tarball(tmp_path / "a"), mirrors.julia_full_tarball(tmp_path / "a")
    assert binary.path.name == "julia-0.6.4-linux-x86_64.tar.gz" and full.path.name == "julia-0.6.4-full.tar.gz"
    for made in (binary, full):
        assert made.sha256 == hashlib.sha256(made.path.read_bytes()).hexdigest()
        assert made.url == f"file://{made.path}" and made.checksum == f"sha256:{made.sha256}"
    # The same bytes on every build: the checksum the sandbox passes stays right.
    assert mirrors.julia_binary_tarball(tmp_path / "b").sha256 == binary.sha256
    assert mirrors.julia_full_tarball(tmp_path / "b").sha256 == full.sha256
    with tarfile.open(binary.path) as tar:
        names = tar.getnames()
        assert all(re.match(r"julia-[0-9a-f]{10}(/|$)", n) for n in names), names
        assert tar.getmember(f"{mirrors.BINARY_TOP}/bin/julia").mode & 0o111
    with tarfile.open(full.path) as tar:
        assert {"julia-0.6.4/Makefile", "julia-0.6.4/julia.c", "julia-0.6.4/VERSION"} <= set(tar.getnames())
        version = tar.extractfile("julia-0.6.4/VERSION")
        assert version is not None and version.read() == b"0.6.4\n"


def test_the_unpacked_binary_stand_in_answers_the_smoke_test(tmp_path):
    binary = mirrors.julia_binary_tarball(tmp_path)
    (tmp_path / "u").mkdir()
    subprocess.run(["tar", "-xzf", str(binary.path), "-C", str(tmp_path / "u"), "--strip-components=1"], check=True)
    julia = str(tmp_path / "u" / "bin" / "julia")

    def run(*args: str) -> str:
        env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        return subprocess.run([julia, *args], env=env, capture_output=True, text=True, check=True).stdout

    assert run("--version") == "julia version 0.6.4\n"
    assert run("-e", "println(1+1)") == "2\n"


def test_the_sandbox_flags_point_binary_and_source_full_at_the_stand_ins(tmp_path):
    binary, full = mirrors.julia_binary_tarball(tmp_path), mirrors.julia_full_tarball(tmp_path)
    flags = mirrors.Mirrors(tmp_path, tmp_path, tmp_path, "0" * 32, binary, full).tarball_vars()
    assert flags == [
        f"--extra-vars=julia_build_binary_url=file://{binary.path}",
        f"--extra-vars=julia_build_binary_checksum=sha256:{binary.sha256}",
        f"--extra-vars=julia_build_source_full_url=file://{full.path}",
        f"--extra-vars=julia_build_source_full_checksum=sha256:{full.sha256}",
    ]


# -- the role's refusals, before anything is made -----------------------------------


def test_binary_for_a_tag_the_table_lacks_is_refused_naming_the_accepted_tags(tmp_path):
    proc = _julia(tmp_path, "-e", "julia_build_method=binary", "-e", "julia_build_version=v0.7.0")
    _refused(
        proc,
        "julia_build_version=v0.7.0 has no URL and sourced sha256 for julia_build_method=binary in"
        " vars/julia_releases.yml; accepted: a tag listed with one (v0.4.7, v0.5.0, v0.5.2, v0.6.4), or"
        " julia_build_binary_url and julia_build_binary_checksum=sha256:<64 hex>",
        tmp_path,
    )


def test_source_full_without_a_sourced_sha256_is_refused_until_one_is_given(tmp_path):
    proc = _julia(tmp_path, "-e", "julia_build_method=source-full", "-e", "julia_build_version=v0.6.4")
    _refused(
        proc,
        "julia_build_version=v0.6.4 has no sourced sha256 for julia_build_method=source-full in"
        " vars/julia_releases.yml; accepted: a tag listed with one (none yet), or julia_build_source_full_url and"
        " julia_build_source_full_checksum=sha256:<64 hex>",
        tmp_path,
    )


def test_a_binary_url_alone_does_not_stand_in_for_a_checksum(tmp_path):
    proc = _julia(
        tmp_path, "-e", "julia_build_method=binary", "-e", "julia_build_version=v0.7.0",
        "-e", "julia_build_binary_url=file:///nowhere/julia.tar.gz",
    )  # fmt: skip
    _refused(proc, "julia_build_version=v0.7.0 has no sourced sha256 for julia_build_method=binary", tmp_path)


def test_latest_stable_is_refused_for_a_tarball_method(tmp_path):
    proc = _julia(tmp_path, "-e", "julia_build_method=binary", "-e", "julia_build_version=latest-stable")
    _refused(
        proc,
        "julia_build_version=latest-stable works with julia_build_method: source only; accepted for binary:"
        " a tag like v0.6.4",
        tmp_path,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("julia_build_binary_checksum=md5:abc",
         "julia_build_binary_checksum=md5:abc; accepted: sha256:<64 lowercase hex>, or empty for the table's"),
        (f"julia_build_source_full_checksum=sha256:{SHA_UPPER}",
         f"julia_build_source_full_checksum=sha256:{SHA_UPPER}; accepted: sha256:<64"),
        ("julia_build_binary_url=http://example.invalid/j.tar.gz",
         "julia_build_binary_url=http://example.invalid/j.tar.gz; accepted: an https:// or file:/// URL"),
        ("julia_build_method=tarball", "julia_build_method must be one of: binary, source, source-full"),
    ],
)  # fmt: skip
def test_bad_method_inputs(tmp_path, extra, message):
    _refused(_julia(tmp_path, "-e", extra), message, tmp_path)


def test_a_git_tag_build_with_dead_dependency_hosts_and_no_full_tarball_is_refused(tmp_path):
    """A release row that says the dependency hosts are gone and names no -full tarball (this table has none
    such: the row is given as an extra variable) is refused before anything is made."""
    releases = _table()["julia_build_releases"]
    row = {k: v for k, v in releases["v0.5.0"].items() if k != "source_full"}
    proc = _julia(
        tmp_path, "-e", "julia_build_method=source", "-e", "julia_build_version=v0.5.0",
        "-e", f"julia_build_repo_url={OFFICIAL}", "-e", json.dumps({"julia_build_releases": {"v0.5.0": row}}),
    )  # fmt: skip
    _refused(
        proc, f"julia_build_method=source: a git-tag build of julia_build_version=v0.5.0 from {OFFICIAL}", tmp_path
    )
    assert "downloads its dependencies from hosts that are gone (JuliaLang/julia#" in proc.stdout
    assert "and no -full tarball is known to take them from" in proc.stdout
    assert (
        "fix: julia_build_source_full_url=URL (where the release row has git.deps_from: source_full),"
        " or julia_build_method: source-full (or binary)"
    ) in proc.stdout


def test_a_git_tag_build_from_a_mirror_passes_that_check(tmp_path, stand_in_repo):
    """A mirror brings its own dependency sources: the next check (the compiler) is what stops it."""
    proc = _julia(
        tmp_path, "-e", "julia_build_method=source", "-e", "julia_build_version=v0.5.0",
        "-e", f"julia_build_repo_url={stand_in_repo}",
    )  # fmt: skip
    assert proc.returncode != 0
    assert "hosts that are gone" not in proc.stdout
    assert "Julia v0.5.0 builds with GCC 4.7 to 5.x" in proc.stdout
    assert not (tmp_path / "cache").exists()


def test_source_full_checks_the_compiler_before_downloading(tmp_path):
    proc = _julia(
        tmp_path, "-e", "julia_build_method=source-full", "-e", "julia_build_version=v0.5.0",
        "-e", "julia_build_source_full_url=file:///nowhere/julia-0.5.0-full.tar.gz",
        "-e", f"julia_build_source_full_checksum=sha256:{SHA}",
    )  # fmt: skip
    _refused(proc, "Julia v0.5.0 builds with GCC 4.7 to 5.x", tmp_path)


# -- a git-tag build seeded from the -full tarball (issue 16) -------------------------
# The repository is the TEST DOUBLE julia_source_stand_in made with JULIA_DOUBLE_DEPS_FILE: each
# tag commits deps/checksums/<file>/sha512 and its make stops unless deps/srccache/<file> matches,
# as real Julia's deps Makefiles do. The -full tarball is a stand-in built here (TEST DOUBLE).
# The build runs on this machine with its GCC 12 (the compiler check is waived: the stand-in is
# plain C); the build user is this test's own and is removed afterwards.


def _seed_user(base: Path) -> str:
    """The build user of one test: its own name, since xdist runs these tests side by side and
    each test removes its user at the end (a shared name made another test's re-run create it again)."""
    return "mocha-seed-" + base.name.rsplit("-", 1)[-1]


DEPS_FILE = "pcre-stand-in.tar.bz2"


@pytest.fixture
def seed_dir():
    """A folder the build user can enter (pytest's tmp_path is root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="mocha-julia-seed-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)
    subprocess.run(["userdel", _seed_user(base)], capture_output=True, check=False)


def _full_tarball(dest: Path, deps: bytes) -> Path:
    """A stand-in julia-0.5.0-full.tar.gz: the dependency file, and a top-level file that must not be unpacked."""
    path = dest / "julia-0.5.0-full.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in ((f"julia-0.5.0/deps/srccache/{DEPS_FILE}", deps), ("julia-0.5.0/NOT-FROM-THE-TAG", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _stand_in_repo_with_deps(base: Path) -> None:
    deps = base / DEPS_FILE
    deps.write_bytes(b"the dependency source the tag's checksum names\n")
    env = {**os.environ, "JULIA_DOUBLE_DEPS_FILE": str(deps)}
    subprocess.run([str(SANDBOX_DOUBLES / "julia_source_stand_in" / "make_repo.sh"), str(base / "repo")], env=env,
                   check=True)  # fmt: skip


def _seeded_build(base: Path, full: Path) -> subprocess.CompletedProcess[str]:
    log_dir = base / "make-runs"
    log_dir.mkdir(exist_ok=True)
    log_dir.chmod(0o1777)
    return _julia(
        base, "-e", "julia_build_method=source", "-e", "julia_build_version=v0.5.0",
        "-e", f"julia_build_repo_url=file://{base / 'repo'}", "-e", f"julia_build_user={_seed_user(base)}",
        "-e", "julia_build_allow_unsupported_gcc=true", "-e", f"julia_build_source_full_url=file://{full}",
        # The stand-in's make-runs.log in this test's folder: in the shared /var/tmp the first
        # test's build user owns it and the next test's user may not append to it.
        env={**ansible_env(), "JULIA_DOUBLE_LOG_DIR": str(log_dir)},
    )  # fmt: skip


def _changed(proc: subprocess.CompletedProcess[str]) -> int:
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", proc.stdout).group(1))  # type: ignore[union-attr]


def test_a_git_tag_build_takes_its_dependency_sources_from_the_full_tarball(seed_dir):
    _stand_in_repo_with_deps(seed_dir)
    full = _full_tarball(seed_dir, b"the dependency source the tag's checksum names\n")
    proc = _seeded_build(seed_dir, full)
    assert proc.returncode == 0, proc.stdout[-3000:]
    # A git-tag build has no julia_build_source_url: the skipped download task must not warn about it.
    assert "template error" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    src = seed_dir / "cache" / "build-v0.5.0"
    assert (src / "deps" / "srccache" / DEPS_FILE).read_bytes() == b"the dependency source the tag's checksum names\n"
    # Only deps/srccache is taken from the tarball, never its other files.
    assert not (src / "NOT-FROM-THE-TAG").exists() and not (src / "deps" / "srccache" / "NOT-FROM-THE-TAG").exists()
    # The stand-in's make checked the file against the tag's deps/checksums before compiling.
    log = (seed_dir / "cache" / "build-v0.5.0.log").read_text()
    assert f"stand-in deps: deps/srccache/{DEPS_FILE} matches deps/checksums/{DEPS_FILE}/sha512" in log
    assert (seed_dir / "opt" / "v0.5.0" / "bin" / "julia").is_file()
    assert (src / ".mocha-ansible-deps-seeded").is_file()
    again = _seeded_build(seed_dir, full)
    assert again.returncode == 0 and _changed(again) == 0, again.stdout[-3000:]


def test_a_tampered_dependency_in_the_full_tarball_fails_the_build_and_installs_nothing(seed_dir):
    _stand_in_repo_with_deps(seed_dir)
    full = _full_tarball(seed_dir, b"a dependency source someone changed\n")
    proc = _seeded_build(seed_dir, full)
    assert proc.returncode != 0
    log = (seed_dir / "cache" / "build-v0.5.0.log").read_text()
    assert f"stand-in deps: deps/srccache/{DEPS_FILE} does not match deps/checksums/{DEPS_FILE}/sha512" in log
    assert not (seed_dir / "opt" / "v0.5.0").exists()
    assert not (seed_dir / "bin" / "julia").exists()


def test_the_sandbox_full_stand_in_seeds_a_git_tag_build_of_the_plain_stand_in(seed_dir):
    """The sandbox's mirrors pass their -full stand-in with every run: a `--julia-from source` run (bench.run's
    source route, v0.5.0) seeds from it and builds."""
    subprocess.run(
        [str(SANDBOX_DOUBLES / "julia_source_stand_in" / "make_repo.sh"), str(seed_dir / "repo")], check=True
    )
    full = mirrors.julia_full_tarball(seed_dir / "releases")
    proc = _seeded_build(seed_dir, full.path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    seeded = seed_dir / "cache" / "build-v0.5.0" / "deps" / "srccache" / "stand-in-dependency.txt"
    assert seeded.read_bytes() == b"a dependency source stand-in\n"
    assert (seed_dir / "opt" / "v0.5.0" / "bin" / "julia").is_file()
