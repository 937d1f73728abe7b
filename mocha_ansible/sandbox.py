"""The local container lifecycle that stands in for instances under `provision --sandbox`.

The AWS side is the embedded emulator (mocha_ansible/emulator.py); the Docker engine and
the local base images are mocha_ansible/docker_engine.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import yaml

from mocha_ansible.docker_engine import docker_ready, run_captured
from mocha_ansible.emulator import stop_emulator
from mocha_ansible.errors import MochaAnsibleError
from mocha_ansible.project import playbook, sandbox_dir


def key_dir() -> Path:
    """Where the sandbox's ec2_gpu keeps the keys it creates: with the rest of its state."""
    return sandbox_dir() / "keys"


def private_env(base: Path) -> dict[str, str]:
    """An environment for `mocha-ansible` whose HOME, runs and sandbox state all lie under `base`.

    A sandbox of its own (its emulator, containers, keys and runs) that shares nothing
    with the user's: what the benchmarks and the tests drive the CLI with.
    """
    (base / "home").mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(base / "home"),
        "LANG": "C.UTF-8",
        "MOCHA_ANSIBLE_RUNS_DIR": str(base / "runs"),
        "MOCHA_ANSIBLE_SANDBOX_DIR": str(base / "state"),
    }


# --- The pipeline in the sandbox ------------------------------------------------------

# The containers' labels, as playbooks/sandbox.yml writes them (one file both read).
_LABELS: dict[str, str] = yaml.safe_load(playbook("vars/sandbox_labels.yml").read_text(encoding="utf-8"))[
    "mocha_sandbox_labels"
]
SANDBOX_LABEL = _LABELS["sandbox"]
DEPLOYMENT_LABEL = _LABELS["deployment"]
# In the emulator's built-in catalogue (Ubuntu 16.04, the tutorial's era); the AMI
# presets name real images the emulator does not hold.
SANDBOX_AMI = "ami-785db401"
SANDBOX_RELEASE = "12"
# The compiler the sandbox image's build-essential brings, for the Julia <-> GCC check.
IMAGE_GCC = {"12": "12.2.0", "11": "10.2.1"}


# Where the controller's local sources appear inside a container. Outside any home
# folder: a 0700 home (root's) would hide a mount below it from the unprivileged
# build user, who clones and builds from it.
CONTAINER_SOURCES = "/srv/mocha-ansible"
# Settings whose values the hosts fetch; local paths and file:// URLs among them are
# bound read-only into each container and rewritten to the container's view.
SOURCE_SETTINGS = ("julia_repo", "mocha_source", "dataset_url")
# Role variables given with -e whose local file:// values are bound the same way
# (the mirrors' Julia tarballs).
SOURCE_EXTRA_VARS = ("julia_build_binary_url", "julia_build_source_full_url")


def _local_path(source: str) -> Path | None:
    path = source.removeprefix("file://")
    return Path(path) if path.startswith("/") else None


def source_mounts(sources: Iterable[str]) -> dict[str, str]:
    """Controller folder -> its read-only mount point in a container, for each local source."""
    mounts: dict[str, str] = {}
    for source in sources:
        path = _local_path(source)
        if path is None:
            continue
        # A dataset URL names a file; its folder is what the container needs.
        folder = str(path if path.is_dir() else path.parent)
        mounts.setdefault(folder, f"{CONTAINER_SOURCES}/{len(mounts)}-{Path(folder).name}")
    return mounts


def in_container(source: str, mounts: dict[str, str]) -> str:
    """`source` as a container sees it once `mounts` are bound."""
    path = _local_path(source)
    if path is None:
        return source
    for folder, mount in mounts.items():
        if path == Path(folder) or Path(folder) in path.parents:
            rewritten = mount + str(path)[len(folder) :]
            return ("file://" + rewritten) if source.startswith("file://") else rewritten
    return source


def role_overrides(image: str, sources: dict[str, str]) -> dict[str, object]:
    """What differs from AWS: containers for instances, local sources bound into them,
    no SSH to wait for, no GPU to insist on, keys kept with the sandbox.

    `sources`: role variable -> the value the settings give it (see SOURCE_SETTINGS).
    """
    mounts = source_mounts(sources.values())
    return {
        "mocha_sandbox_image": image,
        "mocha_sandbox_id": sandbox_id(),
        "mocha_sandbox_volumes": [f"{folder}:{mount}:ro" for folder, mount in mounts.items()],
        **{var: in_container(value, mounts) for var, value in sources.items()},
        "ec2_gpu_wait_for_ssh": False,
        "ec2_gpu_key_dir": str(key_dir()),
        "cuda_verify_required": False,
    }


def sandbox_id(base: Path | None = None) -> str:
    """Which sandbox a container belongs to: one per state folder (and so per emulator).

    Two sandboxes on one machine (two users, parallel tests) never list, stop or
    remove each other's containers or images.
    """
    return hashlib.sha256(str((base or sandbox_dir()).resolve()).encode()).hexdigest()[:12]


def _container_filter(deployment: str | None, base: Path | None) -> list[str]:
    args = ["--filter", f"label={SANDBOX_LABEL}={sandbox_id(base)}"]
    if deployment is not None:
        args += ["--filter", f"label={DEPLOYMENT_LABEL}={deployment}"]
    return args


def containers(deployment: str | None = None, *, running_only: bool = False, base: Path | None = None) -> list[str]:
    """This sandbox's containers (of one deployment, or all)."""
    if not docker_ready():
        return []
    listing = ["docker", "ps", "--format", "{{.Names}}", *(() if running_only else ("-a",))]
    res = run_captured([*listing, *_container_filter(deployment, base)])
    return sorted(res.stdout.split()) if res.returncode == 0 else []


def remove_containers(deployment: str | None = None, base: Path | None = None) -> list[str]:
    names = containers(deployment, base=base)
    if names:
        res = run_captured(["docker", "rm", "-f", *names])
        if res.returncode != 0:
            raise MochaAnsibleError(f"docker rm failed: {res.stderr.strip()[-300:]}")
    return names


def stop_containers(deployment: str | None = None) -> list[str]:
    names = containers(deployment, running_only=True)
    if names:
        res = run_captured(["docker", "stop", "--time", "5", *names])
        if res.returncode != 0:
            raise MochaAnsibleError(f"docker stop failed: {res.stderr.strip()[-300:]}")
    return names


def start_containers(deployment: str | None = None) -> list[str]:
    running = set(containers(deployment, running_only=True))
    names = [name for name in containers(deployment) if name not in running]
    if names:
        res = run_captured(["docker", "start", *names])
        if res.returncode != 0:
            raise MochaAnsibleError(f"docker start failed: {res.stderr.strip()[-300:]}")
    return names


def down(base: Path | None = None) -> dict[str, object]:
    """Remove this sandbox's containers and baked images, stop its emulator and delete its state."""
    base = base or sandbox_dir()
    removed = remove_containers(base=base)
    remove_baked_images(base=base)  # their AMIs go with the emulator's state
    stopped = stop_emulator(base)
    for name in ("emulator.log", "keys"):
        path = base / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return {"containers": removed, "emulator_stopped": stopped}


def baked_image_tag(ami_id: str) -> str:
    return f"mocha-ansible/baked:{ami_id}"


def commit_container(instance_id: str, ami_id: str) -> str:
    """The sandbox's half of `bake`: the instance's container becomes the AMI's image."""
    tag = baked_image_tag(ami_id)
    labels = ["--change", f"LABEL {SANDBOX_LABEL}.ami={ami_id}", "--change", f"LABEL {SANDBOX_LABEL}={sandbox_id()}"]
    res = run_captured(["docker", "commit", *labels, f"mocha-sandbox-{instance_id}", tag])
    if res.returncode != 0:
        raise MochaAnsibleError(f"docker commit of mocha-sandbox-{instance_id} failed: {res.stderr.strip()[-300:]}")
    return tag


def remove_baked_images(ami_ids: Iterable[str] | None = None, base: Path | None = None) -> list[str]:
    """Delete the images of baked AMIs (all of this sandbox's when `ami_ids` is None)."""
    if not docker_ready():
        return []
    if ami_ids is None:
        mine = f"label={SANDBOX_LABEL}={sandbox_id(base)}"
        listed = run_captured(
            ["docker", "images", "--filter", mine, "--format", "{{.Repository}}:{{.Tag}}", "mocha-ansible/baked"]
        )
        tags = listed.stdout.split()
    else:
        tags = [baked_image_tag(a) for a in ami_ids]
    present = [t for t in tags if run_captured(["docker", "image", "inspect", t]).returncode == 0]
    if present:
        run_captured(["docker", "rmi", "-f", *present])
    return present


def image_for(ami_id: str, base: str) -> str:
    """Containers of an instance launched from a baked AMI start from what was baked."""
    tag = baked_image_tag(ami_id)
    return tag if run_captured(["docker", "image", "inspect", tag]).returncode == 0 else base
