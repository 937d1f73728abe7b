"""TEST DOUBLES as local mirrors: what `provision --sandbox` uses offline.

Builds, under one folder, the things a real run fetches from the internet:
- a Julia source stand-in repository (julia_source_stand_in) whose built `julia`
  hands Mocha's calls to julia_mocha_stand_in/julia;
- stand-ins for the two Julia release tarballs, each with its sha256: the official
  binary tarball (julia-0.6.4-linux-x86_64.tar.gz, in the official layout
  julia-<short commit>/bin/julia) and the release's -full source tarball
  (julia-0.6.4-full.tar.gz, the source stand-in tree under julia-0.6.4/);
- the stand-in Mocha repository (julia_mocha_stand_in/mocha_tree, tagged v0.1.2, v0.2.0 and v0.3.1);
- a small CIFAR-10 in the real binary layout, and its MD5.

`python -m mocha_ansible.sandbox_doubles.mirrors DEST` prints the provision flags that point at
them, one per line. None of it is real Julia, Mocha or CIFAR-10.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The release the tarball stand-ins pretend to be (the default julia_build_version).
TARBALL_VERSION = "0.6.4"
# The official binary tarball's top folder is julia-<10 hex of the commit>, not the
# tag; the stand-in's is made up in that form (not 0.6.4's real commit).
BINARY_TOP = "julia-d0b1e5ad0e"

# bin/julia of the binary stand-in: hands every call to the Mocha stand-in julia,
# which answers --version with JULIA_STAND_IN_VERSION.
_BINARY_LAUNCHER = f"""#!/bin/sh
# TEST DOUBLE (mocha_ansible/sandbox_doubles/mirrors.py): stands in for the official julia. Not Julia.
JULIA_STAND_IN_VERSION={TARBALL_VERSION}
export JULIA_STAND_IN_VERSION
exec "$(dirname "$(readlink -f "$0")")/../libexec/julia-stand-in/delegate" "$@"
"""


@dataclass(frozen=True)
class Tarball:
    """A stand-in release tarball and its sha256, served as a file:// URL."""

    path: Path
    sha256: str

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    @property
    def checksum(self) -> str:
        return f"sha256:{self.sha256}"


@dataclass(frozen=True)
class Mirrors:
    julia: Path
    mocha: Path
    dataset: Path
    md5: str
    binary: Tarball
    full: Tarball

    def flags(self) -> list[str]:
        return [
            f"--julia-repo=file://{self.julia}",
            f"--mocha-source={self.mocha}",
            f"--dataset-url=file://{self.dataset}",
            f"--dataset-checksum=md5:{self.md5}",
            # The stand-in is plain C: the GCC range of real Julia 0.5 does not apply.
            "--extra-vars=julia_build_allow_unsupported_gcc=true",
            *self.tarball_vars(),
        ]

    def tarball_vars(self) -> list[str]:
        """binary and source-full fetch the stand-in tarballs, checked against their sha256."""
        return [
            f"--extra-vars=julia_build_{method}_{name}={value}"
            for method, tarball in (("binary", self.binary), ("source_full", self.full))
            for name, value in (("url", tarball.url), ("checksum", tarball.checksum))
        ]


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
    tar.addfile(info)


def _write_tarball(path: Path, entries: list[tuple[str, bytes | None, int]]) -> Tarball:
    """A .tar.gz of (name, data or None for a folder, mode), the same bytes on every build."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, data, mode in entries:
            if data is None:
                _add_dir(tar, name)
            else:
                _add(tar, name, data, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return Tarball(path, hashlib.sha256(buffer.getvalue()).hexdigest())


def julia_binary_tarball(dest: Path) -> Tarball:
    """TEST DOUBLE of julia-0.6.4-linux-x86_64.tar.gz: julia-<hash>/bin/julia, the Mocha stand-in behind it."""
    delegate = (HERE / "julia_mocha_stand_in" / "julia").read_bytes()
    return _write_tarball(
        dest / f"julia-{TARBALL_VERSION}-linux-x86_64.tar.gz",
        [
            (f"{BINARY_TOP}/", None, 0o755),
            (f"{BINARY_TOP}/bin/", None, 0o755),
            (f"{BINARY_TOP}/bin/julia", _BINARY_LAUNCHER.encode(), 0o755),
            (f"{BINARY_TOP}/libexec/", None, 0o755),
            (f"{BINARY_TOP}/libexec/julia-stand-in/", None, 0o755),
            (f"{BINARY_TOP}/libexec/julia-stand-in/delegate", delegate, 0o755),
        ],
    )


def julia_full_tarball(dest: Path) -> Tarball:
    """TEST DOUBLE of julia-0.6.4-full.tar.gz: the source stand-in tree (no git) and a deps/srccache file."""
    top, source = f"julia-{TARBALL_VERSION}", HERE / "julia_source_stand_in"
    return _write_tarball(
        dest / f"julia-{TARBALL_VERSION}-full.tar.gz",
        [
            (f"{top}/", None, 0o755),
            (f"{top}/Makefile", (source / "Makefile").read_bytes(), 0o644),
            (f"{top}/julia.c", (source / "julia.c").read_bytes(), 0o644),
            (f"{top}/VERSION", f"{TARBALL_VERSION}\n".encode(), 0o644),
            (f"{top}/delegate", (HERE / "julia_mocha_stand_in" / "julia").read_bytes(), 0o755),
            # A real -full tarball carries deps/srccache, which a git-tag build of a tag whose
            # dependency hosts are gone takes from it (julia_build's build.yml); the stand-in
            # repository's tags name no checksum for it, so its make does not check it.
            (f"{top}/deps/srccache/stand-in-dependency.txt", b"a dependency source stand-in\n", 0o644),
        ],
    )


def _recipe() -> str:
    """A digest of every stand-in file the mirrors are made from."""
    digest = hashlib.sha256()
    sources = [Path(__file__).resolve(), *(HERE / "julia_source_stand_in").rglob("*")]
    sources += (HERE / "julia_mocha_stand_in").rglob("*")
    for path in sorted(p for p in sources if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build(dest: Path) -> Mirrors:
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    julia, mocha, www, releases = dest / "julia", dest / "mocha", dest / "www", dest / "releases"
    # Mirrors made from older stand-ins would serve old behaviour: remake them.
    stamp, recipe = dest / ".recipe", _recipe()
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != recipe:
        for old in (julia, mocha, www, releases):
            shutil.rmtree(old, ignore_errors=True)
    dataset, md5_file = www / "cifar-10-binary.tar.gz", www / "md5"
    if not (julia / ".git").is_dir():
        # Through sh: an installed wheel need not keep the scripts' executable bits.
        subprocess.run(
            [
                "sh",
                str(HERE / "julia_source_stand_in" / "make_repo.sh"),
                str(julia),
                str(HERE / "julia_mocha_stand_in" / "julia"),
            ],
            check=True,
        )
    if not (mocha / ".git").is_dir():
        subprocess.run(["sh", str(HERE / "julia_mocha_stand_in" / "make_mocha_repo.sh"), str(mocha)], check=True)
    if not md5_file.is_file():
        www.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, str(HERE / "julia_mocha_stand_in" / "make_dataset.py"), str(dataset), "10", str(md5_file)],
            check=True,
            stdout=subprocess.DEVNULL,  # it prints the MD5; this module's stdout is the flags
        )
    # Byte-identical on every build, so rewriting them is harmless.
    binary, full = julia_binary_tarball(releases), julia_full_tarball(releases)
    stamp.write_text(recipe, encoding="utf-8")
    return Mirrors(julia, mocha, dataset, md5_file.read_text(encoding="utf-8").strip(), binary, full)


if __name__ == "__main__":
    # --tarballs DEST: only the two release tarballs (molecule's julia_build scenario).
    if len(sys.argv) == 3 and sys.argv[1] == "--tarballs":
        for made in (julia_binary_tarball(Path(sys.argv[2])), julia_full_tarball(Path(sys.argv[2]))):
            print(made.path.name, made.sha256)
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit("usage: python -m mocha_ansible.sandbox_doubles.mirrors [--tarballs] DEST")
    print("\n".join(build(Path(sys.argv[1])).flags()))
