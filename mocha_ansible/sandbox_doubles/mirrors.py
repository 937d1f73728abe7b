"""TEST DOUBLES as local mirrors: what `provision --sandbox` uses offline.

Builds, under one folder, the three things a real run fetches from the internet:
- a Julia source stand-in repository (julia_source_stand_in) whose built `julia`
  hands Mocha's calls to julia_mocha_stand_in/julia;
- the stand-in Mocha repository (julia_mocha_stand_in/mocha_tree, tag v0.2.0);
- a small CIFAR-10 in the real binary layout, and its MD5.

`python -m mocha_ansible.sandbox_doubles.mirrors DEST` prints the provision flags that point at
them, one per line. None of it is real Julia, Mocha or CIFAR-10.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Mirrors:
    julia: Path
    mocha: Path
    dataset: Path
    md5: str

    def flags(self) -> list[str]:
        return [
            f"--julia-repo=file://{self.julia}",
            f"--mocha-source={self.mocha}",
            f"--dataset-url=file://{self.dataset}",
            f"--dataset-checksum=md5:{self.md5}",
            # The stand-in is plain C: the GCC range of real Julia 0.5 does not apply.
            "--extra-vars=julia_build_allow_unsupported_gcc=true",
        ]


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
    julia, mocha, www = dest / "julia", dest / "mocha", dest / "www"
    # Mirrors made from older stand-ins would serve old behaviour: remake them.
    stamp, recipe = dest / ".recipe", _recipe()
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != recipe:
        for old in (julia, mocha, www):
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
    stamp.write_text(recipe, encoding="utf-8")
    return Mirrors(julia, mocha, dataset, md5_file.read_text(encoding="utf-8").strip())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m mocha_ansible.sandbox_doubles.mirrors DEST")
    print("\n".join(build(Path(sys.argv[1])).flags()))
