"""The Docker engine the sandbox and the tests run containers on, and the local base images.

Base images are built locally (no registry is needed): debootstrap a Debian rootfs from
this machine's own apt sources, then `docker import` it. Used by mocha_ansible/sandbox.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from mocha_ansible.errors import MochaAnsibleError
from mocha_ansible.project import sandbox_dir

IMAGE_PACKAGES = ("python3", "python3-apt", "sudo", "ca-certificates", "procps", "git", "make")
DEBIAN_SUITES = {"12": "bookworm", "11": "bullseye"}


def run_captured(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=False, text=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


def docker_ready() -> bool:
    return shutil.which("docker") is not None and run_captured(["docker", "info"]).returncode == 0


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
            res = run_captured(cmd, env=env)
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


def image_ready(release: str = "12", packages: Iterable[str] = IMAGE_PACKAGES) -> bool:
    """Whether the base image is built, from this recipe: ensure_image then has nothing to do."""
    found = run_captured(
        ["docker", "image", "inspect", "--format", '{{ index .Config.Labels "recipe" }}', image_tag(release)]
    )
    return found.returncode == 0 and found.stdout.strip() == _recipe_hash(release, tuple(packages))


def ensure_image(release: str = "12", packages: Iterable[str] = IMAGE_PACKAGES) -> str:
    """Build (once) and return the tag of a local Debian base image."""
    if release not in DEBIAN_SUITES:
        raise MochaAnsibleError(f"unknown Debian release {release!r}; accepted: {', '.join(DEBIAN_SUITES)}")
    tag = image_tag(release)
    pkgs = tuple(packages)
    recipe = _recipe_hash(release, pkgs)
    if image_ready(release, pkgs):
        return tag
    if shutil.which("debootstrap") is None:
        res = run_captured(
            ["apt-get", "install", "-y", "-q", "debootstrap"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        if res.returncode != 0:
            raise MochaAnsibleError(f"cannot install debootstrap: {res.stderr.strip()[-300:]}")
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="mocha-ansible-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        res = run_captured(
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
        res = run_captured(["tar", "-C", str(rootfs), "-cf", str(tar), "."])
        if res.returncode != 0:
            raise MochaAnsibleError(f"tar of the rootfs failed: {res.stderr.strip()[-300:]}")
        res = run_captured(
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
