"""julia_build's toolchain (issue 16), run with ansible-playbook against this machine (Debian 12,
GCC 12). Each case stops before anything is built; the container build itself is the molecule
scenario molecule/julia_container.

- host toolchain, an out-of-range compiler: the refusal names the container toolchain as the fix;
- container toolchain, no docker on PATH and no package installs allowed: one message;
- container toolchain, an image that is not here and cannot be pulled (a registry on a closed
  loopback port): one message naming the image; nothing under the prefix in any case.

The repository is the TEST DOUBLE mocha_ansible/sandbox_doubles/julia_source_stand_in.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from mocha_ansible import docker_engine
from tests.conftest import project_resources
from tests.helpers import NOTHING, SANDBOX_DOUBLES, VENV_BIN, ansible_env, julia_play_on_localhost, private_cli

# Nothing listens on port 9 of loopback: the pull fails at once, and never leaves this machine.
UNPULLABLE = "127.0.0.1:9/mocha-ansible/no-such-toolchain:never"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    subprocess.run([str(SANDBOX_DOUBLES / "julia_source_stand_in" / "make_repo.sh"), str(repo)], check=True)
    return repo


def _flat(text: str) -> str:
    """The play's output with the YAML callback's line wrapping undone."""
    return " ".join(text.split())


def _path_without_docker(tmp_path: Path) -> str:
    """A PATH of links to every command in the system folders but docker (this machine has it in /usr/bin)."""
    bin_dir = tmp_path / "no-docker-bin"
    bin_dir.mkdir()
    for folder in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        for tool in Path(folder).iterdir():
            link = bin_dir / tool.name
            if tool.name != "docker" and not link.exists():
                link.symlink_to(tool)
    return str(bin_dir)


def _nothing_installed(tmp_path: Path) -> bool:
    return not (tmp_path / "opt").exists() and not (tmp_path / "bin").exists()


def test_host_refusal_names_the_container_toolchain(tmp_path: Path) -> None:
    proc = julia_play_on_localhost(
        tmp_path,
        "-e", f"julia_build_repo_url=file://{_repo(tmp_path)}",
        "-e", "julia_build_method=source", "-e", "julia_build_version=v0.5.0",
    )  # fmt: skip
    assert proc.returncode != 0
    out = _flat(proc.stdout)
    assert "Julia v0.5.0 builds with GCC 4.7 to 5.x, and this host has GCC 12" in out
    assert "julia_build_toolchain=container (provision --julia-toolchain container)" in out
    assert _nothing_installed(tmp_path) and not (tmp_path / "cache").exists()


def _play(tmp_path: Path, env: dict[str, str], *extra: str) -> str:
    """julia_play_on_localhost in this environment, building in the container; its output, unwrapped."""
    proc = julia_play_on_localhost(
        tmp_path,
        "-e", f"julia_build_repo_url=file://{_repo(tmp_path)}",
        "-e", "julia_build_method=source", "-e", "julia_build_version=v0.5.0",
        # Never the default image: a pull of ubuntu:16.04 would go to a registry off this machine.
        "-e", "julia_build_toolchain=container", "-e", f"julia_build_toolchain_image={UNPULLABLE}",
        *extra,
        env=env,
    )  # fmt: skip
    assert proc.returncode != 0
    return _flat(proc.stdout)


def test_container_without_an_engine_stops_with_one_message(tmp_path: Path) -> None:
    # julia_play_on_localhost's settings forbid package installs, so docker cannot be installed.
    out = _play(tmp_path, ansible_env({"PATH": f"{_path_without_docker(tmp_path)}:{VENV_BIN}"}))
    assert (
        "julia_build_toolchain=container needs a container engine; localhost has no docker, and the distro's"
        " package (docker.io) could not be installed: julia_build_install_packages is false"
    ) in out
    assert _nothing_installed(tmp_path) and not (tmp_path / "cache").exists()


def test_container_image_that_cannot_be_pulled_stops_with_one_message(tmp_path: Path) -> None:
    docker_engine.ensure_docker()
    out = _play(tmp_path, ansible_env(path_prefix="/usr/local/bin"))
    assert f"julia_build_toolchain=container: the image {UNPULLABLE} is not on localhost and cannot be pulled" in out
    assert _nothing_installed(tmp_path) and not (tmp_path / "cache").exists()


def test_a_git_tag_build_of_0_5_in_the_container_plans_its_dependencies_from_the_full_tarball(aws, tmp_path):
    """Issue 16's done-when: the tag's dependency hosts are gone, so the plan takes the dependency
    sources from the release's -full tarball (checked by the tag's deps/checksums) and builds in
    the era's image with its GCC 5.4."""
    proc = private_cli(
        tmp_path, "provision", "--check", "--julia-version", "v0.5.0", "--julia-from", "source",
        "--julia-toolchain", "container",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    route_line = next(line for line in proc.stdout.splitlines() if line.startswith("route: "))
    assert "Julia v0.5.0 by source" in route_line
    assert (
        "git tag v0.5.0; dependency sources from julia-0.5.0-full.tar.gz, each checked against the tag's deps/checksums"
    ) in route_line
    assert "built in ubuntu:16.04 (GCC 5.4)" in route_line
    assert "[  ok] julia: source build of v0.5.0 in container ubuntu:16.04 with its GCC 5.4" in proc.stdout
    assert project_resources() == NOTHING
