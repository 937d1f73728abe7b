"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from mocha_ansible import sandbox
from mocha_ansible.emulator import Emulator, running_emulator, stop_emulator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DOUBLES = ROOT / "tests" / "doubles"
# The stand-ins the offline sandbox serves are product assets.
SANDBOX_DOUBLES = ROOT / "mocha_ansible" / "sandbox_doubles"
GPU_PROFILES = DOUBLES / "gpu_stand_in" / "profiles"
VENV_BIN = Path(sys.executable).parent


def ansible_env(extra: dict[str, str] | None = None, path_prefix: str | None = None) -> dict[str, str]:
    """A minimal environment for ansible-playbook runs in tests."""
    import os

    env = {k: v for k, v in os.environ.items() if k.startswith(("LANG", "LC_", "HOME", "TMPDIR", "AWS_"))}
    path = f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin"
    env["PATH"] = f"{path_prefix}:{path}" if path_prefix else path
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env.update(extra or {})
    return env


def run_playbook(
    playbook: str | Path, *extra_args: str, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:

    cmd = [
        str(VENV_BIN / "ansible-playbook"),
        str(ROOT / playbook) if not Path(playbook).is_absolute() else str(playbook),
    ]
    return subprocess.run(
        [*cmd, *extra_args],
        env=env or ansible_env(),
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def private_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mocha-ansible ARGS` with HOME and the runs folder under tmp_path, and this process's AWS_ settings."""
    import os

    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LANG"))}
    env.update(PATH=f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin", HOME=str(tmp_path / "home"),
               MOCHA_ANSIBLE_RUNS_DIR=str(tmp_path / "runs"))  # fmt: skip
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def julia_play_on_localhost(
    tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """playbooks/julia.yml against this machine, everything it writes under tmp_path."""
    return run_playbook(
        "playbooks/julia.yml",
        "-e", "mocha_hosts=localhost", "-e", "mocha_become=false",
        "-e", "julia_build_install_packages=false",
        "-e", f"julia_build_cache_dir={tmp_path / 'cache'}",
        "-e", f"julia_build_prefix={tmp_path / 'opt'}",
        "-e", f"julia_build_link={tmp_path / 'bin' / 'julia'}",
        "-e", f"julia_build_facts_dir={tmp_path / 'facts'}",
        *extra,
        env=env,
    )  # fmt: skip


NOTHING = {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}


def policy_actions() -> list[str]:
    """Every action docs/iam-policy.json allows, sorted."""
    policy = json.loads((ROOT / "docs" / "iam-policy.json").read_text(encoding="utf-8"))
    statements = policy["Statement"]
    return sorted({a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])})


def iam_checks(url: str, *, on: bool) -> None:
    """The emulator's IAM checks on (from its next request) or off; users made by enforce_iam stay."""
    req = urllib.request.Request(
        f"{url}/moto-api/reset-auth", data=b"0" if on else b"inf", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(req, timeout=10):
        pass


def actions_only(actions: list[str]) -> dict[str, object]:
    """A policy allowing exactly `actions` on every resource (moto judges actions only)."""
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}


class Sandbox:
    """One private sandbox (emulator state, runs, HOME) driven through the CLI."""

    def __init__(self, base: Path, flags: list[str]) -> None:
        self.base = base
        self.flags = flags
        self.env = sandbox.private_env(base)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "mocha_ansible", *args]

    def cli(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def provision(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli("provision", "--sandbox", *self.flags, *args)

    @property
    def emulator(self) -> Emulator:
        emu = running_emulator(self.base / "state")
        assert emu is not None, "the sandbox emulator is not running"
        return emu

    def resources(self) -> dict[str, list[str]]:
        from tests.conftest import project_resources

        return project_resources(endpoint_url=self.emulator.url)

    def containers(self, deployment: str) -> list[str]:
        return sandbox.containers(deployment, base=self.base / "state")

    def docker_exec(self, container: str, *cmd: str) -> str:
        res = subprocess.run(["docker", "exec", container, *cmd], capture_output=True, text=True, check=True)
        return res.stdout.strip()

    def close(self) -> None:
        subprocess.run(
            self.argv("teardown", "--sandbox", "--yes"), cwd=ROOT, env=self.env, capture_output=True, check=False
        )
        stop_emulator(self.base / "state")


def in_loopback_namespace(
    script: str, *, env: dict[str, str], timeout: int, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """A bash script in a network namespace of its own, with only loopback up.

    For what provisions against an emulator: an address it invented is unreachable
    there, so a mistake fails at once and reaches nobody.
    """
    return subprocess.run(
        ["unshare", "-n", "bash", "-c", "ip link set lo up\n" + script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def provision_on_emulator(
    emulator: Emulator, tmp_path: Path, deployment: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`provision --stages provision` of one g4dn.xlarge against `emulator`, with a private HOME."""
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(tmp_path / "home"),
        "MOCHA_ANSIBLE_RUNS_DIR": str(tmp_path / "runs"),
        **emulator.env(),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", "provision", "--yes", "--stages", "provision",
         "--instance-type", "g4dn.xlarge", "--ami", "ami-785db401", "--deployment", deployment,
         "-e", "ec2_gpu_wait_for_ssh=false", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def ec2_gpu_vars(key_dir: Path, **extra: Any) -> dict[str, Any]:
    """ec2_gpu's variables for a launch against the emulator: moto's Ubuntu image, SSH from a
    documentation address, no SSH wait (moto starts no machine), deployment "t"."""
    return {
        "ec2_gpu_instance_type": "g4dn.xlarge",
        "ec2_gpu_ami": "ami-785db401",  # Ubuntu, x86_64, in moto's catalogue
        "ec2_gpu_ssh_cidr": "203.0.113.7/32",
        "ec2_gpu_wait_for_ssh": False,
        "ec2_gpu_key_dir": str(key_dir),
        "ec2_gpu_deployment": "t",
        **extra,
    }
