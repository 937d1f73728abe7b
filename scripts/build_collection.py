"""Build the mocha_ansible.gpu collection from this checkout's roles/ and playbooks/.

    .venv/bin/python scripts/build_collection.py [--output-path DIR]

Roles keep their modules, module_utils and filters beside them (library/,
module_utils/, filter_plugins/), which a checkout's roles_path loads but a
collection role does not. The build stages a copy in the collection layout: those
files move to plugins/modules, plugins/module_utils and plugins/filter; imports of
the roles' own module_utils name the collection's, and the roles' templates call
their filters by FQCN (a collection role finds its collection's modules by short
name, but not its filters). Then it runs `ansible-galaxy collection build` on the
stage. The checkout stays the source.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Kept out of the repository's root: a galaxy.yml there makes molecule and
# ansible-lint install the whole checkout as a collection before every run.
GALAXY = ROOT / "collection" / "galaxy.yml"
PLUGIN_DIRS = {"library": "modules", "module_utils": "module_utils", "filter_plugins": "filter"}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ansible", *PLUGIN_DIRS)


def stage(dest: Path) -> str:
    """Lay the collection out under `dest`; return its FQCN prefix."""
    meta = yaml.safe_load(GALAXY.read_text(encoding="utf-8"))
    fqcn = f"{meta['namespace']}.{meta['name']}"
    for name in ("galaxy.yml", "CHANGELOG.md"):
        shutil.copy2(GALAXY.parent / name, dest / name)
    shutil.copy2(ROOT / "README.md", dest / "README.md")
    shutil.copytree(GALAXY.parent / "meta", dest / "meta")
    for name in ("playbooks", "roles"):
        shutil.copytree(ROOT / name, dest / name, ignore=SKIP)
    ours = {p.stem for p in ROOT.glob("roles/*/module_utils/*.py")}
    imports = re.compile(r"^from ansible\.module_utils\.(" + "|".join(map(re.escape, sorted(ours))) + r") import", re.M)
    target = f"from ansible_collections.{meta['namespace']}.{meta['name']}.plugins.module_utils.\\1 import"
    for role_dir, kind in PLUGIN_DIRS.items():
        for source in sorted(ROOT.glob(f"roles/*/{role_dir}/*.py")):
            out = dest / "plugins" / kind / source.name
            if out.exists():
                raise SystemExit(f"two roles ship plugins/{kind}/{source.name}; rename one")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(imports.sub(target, source.read_text(encoding="utf-8")), encoding="utf-8")
    _qualify_filters(dest, fqcn)
    return fqcn


def _filter_names() -> list[str]:
    names: list[str] = []
    for source in sorted(ROOT.glob("roles/*/filter_plugins/*.py")):
        spec = importlib.util.spec_from_file_location(f"_filters_{source.stem}", source)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names += module.FilterModule().filters()
    return names


def _qualify_filters(dest: Path, fqcn: str) -> None:
    """`| name` becomes `| ns.col.name` for the roles' own filters, in every role YAML and template."""
    used = re.compile(r"\|(\s*)(" + "|".join(map(re.escape, _filter_names())) + r")\b")
    for path in [*dest.glob("roles/*/**/*.yml"), *dest.glob("roles/*/templates/*")]:
        text = path.read_text(encoding="utf-8")
        path.write_text(used.sub(rf"|\1{fqcn}.\2", text), encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-path", default=str(ROOT / "dist"), help="Where the tarball goes (default: dist/).")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mocha-ansible-collection-") as tmp:
        fqcn = stage(Path(tmp))
        ansible_galaxy = Path(sys.executable).parent / "ansible-galaxy"
        build = [str(ansible_galaxy), "collection", "build", "--force", "--output-path", args.output_path, tmp]
        proc = subprocess.run(build, check=False)
    if proc.returncode == 0:
        print(f"built {fqcn} into {args.output_path}")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
