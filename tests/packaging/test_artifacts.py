"""The wheel and the collection work where no checkout is (issue 19).

Both are built from this checkout. The wheel goes into a fresh virtual environment
(its dependencies come from the package index, so this module runs outside the
loopback-only namespace of the other tests; scripts/test gives it its own gate).
Every command of the installed CLI then runs from an empty folder, inside a
loopback-only network namespace of its own with a private emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mocha_ansible import __version__
from tests.helpers import ROOT, VENV_BIN


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    wheel = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)], out, env)
    assert wheel.returncode == 0, wheel.stderr[-2000:]
    build = [sys.executable, str(ROOT / "scripts" / "build_collection.py"), "--output-path", str(out)]
    collection = _run(build, out, env)
    assert collection.returncode == 0, collection.stdout[-2000:] + collection.stderr[-2000:]
    return out


def _tracked(*paths: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True, check=True)
    return listed.stdout.split()


def test_the_wheel_holds_every_tracked_project_file(dist: Path) -> None:
    wheel = next(dist.glob("mocha_ansible-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = _tracked("roles", "playbooks", "inventory", "ansible.cfg")
    assert len(wanted) > 50
    missing = [p for p in wanted if f"mocha_ansible/_project/{p}" not in names]
    assert missing == []
    # The offline sandbox's stand-ins are package data.
    doubles = _tracked("mocha_ansible/sandbox_doubles")
    assert len(doubles) > 10
    assert [p for p in doubles if p not in names] == []


def test_the_collection_holds_the_roles_plugins_and_playbooks(dist: Path) -> None:
    tarball = next(dist.glob("mocha_ansible-gpu-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    for role in ("ec2_gpu", "cuda_verify", "julia_build", "mocha_cifar"):
        assert f"roles/{role}/meta/argument_specs.yml" in names
        assert f"roles/{role}/tasks/main.yml" in names
    modules = [p.name for p in ROOT.glob("roles/*/library/*.py")]
    filters = [p.name for p in ROOT.glob("roles/*/filter_plugins/*.py")]
    assert modules and all(f"plugins/modules/{m}" in names for m in modules)
    assert filters and all(f"plugins/filter/{f}" in names for f in filters)
    assert "playbooks/site.yml" in names and "meta/runtime.yml" in names
    assert not any("__pycache__" in n for n in names)


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("fresh-venv")
    made = _run([sys.executable, "-m", "venv", str(where)], where, dict(os.environ))
    assert made.returncode == 0, made.stderr
    wheel = next(dist.glob("mocha_ansible-*.whl"))
    pip = _run([str(where / "bin" / "pip"), "install", "-q", f"{wheel}[sandbox]"], where, dict(os.environ))
    assert pip.returncode == 0, pip.stderr[-3000:]
    yield where


# Runs in a loopback-only namespace: a private emulator for the AWS commands.
CLI_CHECKS = r"""
set -u
ip link set lo up
cli="$VENV/bin/mocha-ansible"
py="$VENV/bin/python"
"$cli" --version
eval "$("$py" -c 'from mocha_ansible import emulator as e; print("export AWS_ENDPOINT_URL=" + e.start_emulator().url)')"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
echo "=== provision --check"
"$cli" provision --check --ami ami-785db401; echo "rc=$?"
"$py" -c 'from mocha_ansible import emulator; emulator.stop_emulator()'
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
echo "=== mirrors"
"$py" -m mocha_ansible.sandbox_doubles.mirrors "$HOME/mirrors"; echo "rc=$?"
echo "=== provision --sandbox --check"
"$cli" provision --sandbox --check -e julia_build_allow_unsupported_gcc=true; echo "rc=$?"
# Only the emulator: --down would also remove other sandboxes' containers.
"$py" -c 'from mocha_ansible import emulator; emulator.stop_emulator()'
"""


def test_the_installed_cli_works_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(elsewhere), "LANG": "C.UTF-8", "VENV": str(venv)}
    proc = _run(["unshare", "-n", "bash", "-c", CLI_CHECKS], elsewhere, env)
    out = proc.stdout + proc.stderr
    assert f"mocha-ansible {__version__}" in out
    plan, rest = out.split("=== provision --check", 1)[1].split("=== mirrors", 1)
    built, sandboxed = rest.split("=== provision --sandbox --check", 1)
    assert f"--julia-repo=file://{elsewhere}/mirrors/julia" in built and "rc=0" in built, built[-2000:]
    assert "Will create:" in plan and "--check: stopping after the plan; nothing was created." in plan, plan[-2000:]
    assert "rc=0" in plan, plan[-2000:]
    assert "SANDBOX" not in plan
    assert "in the emulator: nothing is billed" in sandboxed and "rc=0" in sandboxed, sandboxed[-2000:]
    # Nothing was written beside the installed code.
    site = next((venv / "lib").glob("python3*/site-packages/mocha_ansible"))
    installed = _installed_at(venv)
    written = [p for p in site.rglob("*") if p.is_file() and p.stat().st_mtime > installed]
    assert all("__pycache__" in str(p) for p in written), written


def _installed_at(venv: Path) -> float:
    """When pip finished installing: anything newer under the package was written by a run."""
    return max(p.stat().st_mtime for p in (venv / "lib").glob("python3*/site-packages/mocha_ansible-*.dist-info/*"))


PLAYBOOK = """
- name: Check this machine's GPU stack with the collection's role, report only
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: mocha_ansible.gpu.cuda_verify
      vars:
        cuda_verify_required: false
"""


def test_the_collection_runs_from_a_folder_without_a_checkout(dist: Path, tmp_path: Path) -> None:
    tarball = next(dist.glob("mocha_ansible-gpu-*.tar.gz"))
    collections = tmp_path / "collections"
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        # The collection installed here, plus amazon.aws/community.docker from the `ansible` package.
        "ANSIBLE_COLLECTIONS_PATH": f"{collections}:{next(VENV_BIN.parent.glob('lib/python3*/site-packages'))}",
    }
    galaxy = VENV_BIN / "ansible-galaxy"
    installed = _run([str(galaxy), "collection", "install", str(tarball), "-p", str(collections)], tmp_path, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    (tmp_path / "pb.yml").write_text(PLAYBOOK, encoding="utf-8")
    play = _run([str(VENV_BIN / "ansible-playbook"), "pb.yml"], tmp_path, env)
    assert play.returncode == 0, play.stdout[-3000:]
    assert "mocha_ansible.gpu.cuda_verify : " in play.stdout
    assert "nvidia-smi was not found" in play.stdout
    doc = _run([str(VENV_BIN / "ansible-doc"), "mocha_ansible.gpu.cuda_verify_probe"], tmp_path, env)
    assert doc.returncode == 0 and "nvidia-smi" in doc.stdout, doc.stderr
    site = _run([str(VENV_BIN / "ansible-playbook"), "mocha_ansible.gpu.site", "--syntax-check"], tmp_path, env)
    assert site.returncode == 0, site.stdout + site.stderr


def test_one_version_everywhere() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    galaxy = yaml.safe_load((ROOT / "collection" / "galaxy.yml").read_text(encoding="utf-8"))
    assert f'\nversion = "{__version__}"\n' in pyproject
    assert galaxy["version"] == __version__
    cli = _run([sys.executable, "-m", "mocha_ansible", "--version"], ROOT, dict(os.environ))
    assert cli.stdout.strip() == f"mocha-ansible {__version__}"
