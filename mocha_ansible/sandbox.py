"""The local container lifecycle that stands in for instances under `provision --sandbox`.

The AWS side is the embedded emulator (mocha_ansible/emulator.py). Base images are
built locally (no registry is needed): debootstrap a Debian rootfs from this
machine's own apt sources, then `docker import` it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import yaml

from mocha_ansible.emulator import stop_emulator
from mocha_ansible.errors import MochaAnsibleError
from mocha_ansible.project import playbook, sandbox_dir

IMAGE_PACKAGES = ("python3", "python3-apt", "sudo", "ca-certificates", "procps", "git", "make")
DEBIAN_SUITES = {"12": "bookworm", "11": "bullseye"}


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


# --- Docker engine and local images -------------------------------------------------


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=False, text=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


def docker_ready() -> bool:
    return shutil.which("docker") is not None and _run(["docker", "info"]).returncode == 0


def loopback_only_namespace(net_dev: Path = Path("/proc/self/net/dev")) -> bool:
    """Whether this process's network namespace has no interface but lo (as under `unshare -n`).

    /proc/self/net follows the reader's namespace; /sys/class/net shows the one sysfs was mounted in.
    """
    try:
        lines = net_dev.read_text(encoding="utf-8").splitlines()[2:]
    except OSError:
        return False
    return {line.split(":", 1)[0].strip() for line in lines if ":" in line} == {"lo"}


def ensure_docker(timeout: float = 60.0) -> None:
    """Install Debian's docker.io if missing and start dockerd if it is not running."""
    if docker_ready():
        return
    if shutil.which("dockerd") is None:
        if os.geteuid() != 0:
            raise MochaAnsibleError("Docker is not installed", fix="sudo apt-get install docker.io")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "docker.io"]):
            res = _run(cmd, env=env)
            if res.returncode != 0:
                raise MochaAnsibleError(f"{' '.join(cmd)} failed: {res.stderr.strip()[-300:]}")
    if os.geteuid() != 0:
        raise MochaAnsibleError("the Docker engine is not running", fix="sudo systemctl start docker")
    if loopback_only_namespace():
        # A daemon started here keeps this namespace for good: its host-network containers
        # would see only lo and every apt install in them would fail, long after this call.
        raise MochaAnsibleError(
            "the Docker engine is not running, and this process is in a loopback-only network namespace,"
            " where a dockerd it started would give its containers no network",
            fix="start it outside the namespace first: ./scripts/sandbox, or python -m tests.harness prepare 12",
        )
    base = sandbox_dir()
    base.mkdir(parents=True, exist_ok=True)
    log = open(base / "dockerd.log", "ab")  # noqa: SIM115 (handed to the child)
    # No bridge and no iptables: this machine may not allow either; containers
    # use the host network instead.
    subprocess.Popen(
        ["dockerd", "--bridge=none", "--iptables=false"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not docker_ready():
        if time.monotonic() > deadline:
            raise MochaAnsibleError(f"dockerd did not come up; see {base / 'dockerd.log'}")
        time.sleep(0.5)


def apt_mirror(sources: Iterable[Path] | None = None) -> str:
    """The first Debian archive URI this machine's apt is configured with."""
    paths = (
        list(sources)
        if sources is not None
        else [
            Path("/etc/apt/sources.list"),
            *sorted(Path("/etc/apt/sources.list.d").glob("*.sources")),
            *sorted(Path("/etc/apt/sources.list.d").glob("*.list")),
        ]
    )
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.MULTILINE):
            uri = match.group(1).rstrip("/")
            if uri.endswith("/debian"):
                return uri
    raise MochaAnsibleError("no Debian archive in this machine's apt sources; cannot debootstrap a base image")


def image_tag(release: str) -> str:
    return f"mocha-ansible/debian:{release}"


def _recipe_hash(release: str, packages: Iterable[str]) -> str:
    return hashlib.sha256(f"{release}|{','.join(sorted(packages))}|v1".encode()).hexdigest()[:12]


def ensure_image(release: str = "12", packages: Iterable[str] = IMAGE_PACKAGES) -> str:
    """Build (once) and return the tag of a local Debian base image."""
    if release not in DEBIAN_SUITES:
        raise MochaAnsibleError(f"unknown Debian release {release!r}; accepted: {', '.join(DEBIAN_SUITES)}")
    tag = image_tag(release)
    pkgs = tuple(packages)
    recipe = _recipe_hash(release, pkgs)
    found = _run(["docker", "image", "inspect", "--format", '{{ index .Config.Labels "recipe" }}', tag])
    if found.returncode == 0 and found.stdout.strip() == recipe:
        return tag
    if shutil.which("debootstrap") is None:
        res = _run(
            ["apt-get", "install", "-y", "-q", "debootstrap"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        if res.returncode != 0:
            raise MochaAnsibleError(f"cannot install debootstrap: {res.stderr.strip()[-300:]}")
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="mocha-ansible-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        res = _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(pkgs)}",
                DEBIAN_SUITES[release],
                str(rootfs),
                mirror,
            ]
        )
        if res.returncode != 0:
            raise MochaAnsibleError(f"debootstrap failed: {(res.stdout + res.stderr).strip()[-400:]}")
        for deb in (rootfs / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            deb.unlink()
        tar = Path(tmp) / "rootfs.tar"
        res = _run(["tar", "-C", str(rootfs), "-cf", str(tar), "."])
        if res.returncode != 0:
            raise MochaAnsibleError(f"tar of the rootfs failed: {res.stderr.strip()[-300:]}")
        res = _run(
            [
                "docker", "import",
                "--change", f"LABEL recipe={recipe}",
                "--change", 'CMD ["sleep", "infinity"]',
                str(tar), tag,
            ]
        )  # fmt: skip
        if res.returncode != 0:
            raise MochaAnsibleError(f"docker import failed: {res.stderr.strip()[-300:]}")
    return tag


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
    res = _run([*listing, *_container_filter(deployment, base)])
    return sorted(res.stdout.split()) if res.returncode == 0 else []


def remove_containers(deployment: str | None = None, base: Path | None = None) -> list[str]:
    names = containers(deployment, base=base)
    if names:
        res = _run(["docker", "rm", "-f", *names])
        if res.returncode != 0:
            raise MochaAnsibleError(f"docker rm failed: {res.stderr.strip()[-300:]}")
    return names


def stop_containers(deployment: str | None = None) -> list[str]:
    names = containers(deployment, running_only=True)
    if names:
        res = _run(["docker", "stop", "--time", "5", *names])
        if res.returncode != 0:
            raise MochaAnsibleError(f"docker stop failed: {res.stderr.strip()[-300:]}")
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
    res = _run(["docker", "commit", *labels, f"mocha-sandbox-{instance_id}", tag])
    if res.returncode != 0:
        raise MochaAnsibleError(f"docker commit of mocha-sandbox-{instance_id} failed: {res.stderr.strip()[-300:]}")
    return tag


def remove_baked_images(ami_ids: Iterable[str] | None = None, base: Path | None = None) -> list[str]:
    """Delete the images of baked AMIs (all of this sandbox's when `ami_ids` is None)."""
    if not docker_ready():
        return []
    if ami_ids is None:
        mine = f"label={SANDBOX_LABEL}={sandbox_id(base)}"
        listed = _run(
            ["docker", "images", "--filter", mine, "--format", "{{.Repository}}:{{.Tag}}", "mocha-ansible/baked"]
        )
        tags = listed.stdout.split()
    else:
        tags = [baked_image_tag(a) for a in ami_ids]
    present = [t for t in tags if _run(["docker", "image", "inspect", t]).returncode == 0]
    if present:
        _run(["docker", "rmi", "-f", *present])
    return present


def image_for(ami_id: str, base: str) -> str:
    """Containers of an instance launched from a baked AMI start from what was baked."""
    tag = baked_image_tag(ami_id)
    return tag if _run(["docker", "image", "inspect", tag]).returncode == 0 else base
