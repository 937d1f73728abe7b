"""Where a run's instances live: AWS, or the sandbox (the embedded emulator and local containers).

Chosen once from argv (`--sandbox`) and passed down. The commands ask it for what
differs (credentials and endpoint, the key folder, what to prepare, the role
overrides, what follows a teardown, the words of the hints) instead of asking
whether this is the sandbox; everything else is the code path AWS gets.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from mocha_ansible import docker_engine, emulator, sandbox
from mocha_ansible.config import default_values
from mocha_ansible.credentials import SECRET_ENV_VARS
from mocha_ansible.errors import ConfigError, ExitCode
from mocha_ansible.invocation import command
from mocha_ansible.settings import ROLE_VARS, Settings

FLAG = "--sandbox"


def add_flag(parser: argparse._ActionsContainer, help_text: str) -> None:
    parser.add_argument(FLAG, action="store_true", help=help_text)


def add_down_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--down", action="store_true", help=f"With {FLAG}: remove its containers and the emulator's state."
    )


class Environment(Protocol):
    playbook: str  # what provisions and configures the hosts
    emulated: bool  # the route's fact: the hosts are the sandbox's image, not an AMI
    host_gcc: str | None  # the hosts' compiler, where known before any host exists
    billed: bool  # whether what the plan creates costs money (and so needs a yes)
    hosts_by_address: bool  # reached at their public address, so an emulator's made-up ones are off limits
    plan_note: str  # after each item the plan creates
    cost_note: str  # after the cost so far
    prepare_stage: str | None  # the progress stage that prepare() runs in, if it has one
    flags: tuple[str, ...]  # what a printed command adds to choose this environment again

    def connect(self) -> None: ...
    def release(self, keep: bool) -> None: ...
    def validate(self, settings: Settings) -> None: ...
    def down(self, json_mode: bool = False) -> int: ...
    def prepare(self, settings: Settings, check: bool, say: Callable[[str], None] = print) -> Settings: ...
    def use_baked(self, ami_id: str) -> None: ...
    def key_dir(self, given: Path) -> Path: ...
    def role_overrides(self, settings: Settings) -> dict[str, Any]: ...
    def notes(self, settings: Settings) -> list[str]: ...
    def run_facts(self) -> dict[str, Any]: ...
    def containers(self, deployment: str | None) -> list[str]: ...
    def after_stop(self, deployment: str) -> None: ...
    def after_start(self, deployment: str) -> None: ...
    def after_teardown(self, deployment: str | None) -> list[str]: ...
    def after_amis_deleted(self, ami_ids: list[str]) -> None: ...
    def after_bake(self, source: str, image_id: str) -> None: ...
    def ssh_note(self, instance_id: str) -> str | None: ...


class Aws:
    """The real thing: boto3's own credentials and endpoint, instances reached over SSH."""

    playbook = "site.yml"
    emulated = False
    host_gcc: str | None = None
    billed = True
    hosts_by_address = True
    plan_note = ""
    cost_note = ""
    prepare_stage: str | None = None
    flags: tuple[str, ...] = ()

    def release(self, keep: bool) -> None:
        """Nothing was started."""

    def connect(self) -> None:
        """Nothing to start: boto3 finds credentials and endpoint itself."""

    def validate(self, settings: Settings) -> None:
        """Every setting works against AWS."""

    def down(self, json_mode: bool = False) -> int:
        raise ConfigError(f"provision: --down only applies with {FLAG}; accepted: {FLAG} --down")

    def prepare(self, settings: Settings, check: bool, say: Callable[[str], None] = print) -> Settings:
        return settings

    def use_baked(self, ami_id: str) -> None:
        """The AMI itself carries what was baked."""

    def key_dir(self, given: Path) -> Path:
        return given

    def role_overrides(self, settings: Settings) -> dict[str, Any]:
        return {}

    def notes(self, settings: Settings) -> list[str]:
        return []

    def run_facts(self) -> dict[str, Any]:
        return {"sandbox": False}

    def containers(self, deployment: str | None) -> list[str]:
        return []

    def after_stop(self, deployment: str) -> None:
        """EC2 stopped the instances; nothing else runs them."""

    def after_start(self, deployment: str) -> None:
        """EC2 started the instances; nothing else runs them."""

    def after_teardown(self, deployment: str | None) -> list[str]:
        return []

    def after_amis_deleted(self, ami_ids: list[str]) -> None:
        """Deregistering an AMI is all there is to it."""

    def after_bake(self, source: str, image_id: str) -> None:
        """The AMI is the bake."""

    def ssh_note(self, instance_id: str) -> str | None:
        return None


class Sandbox:
    """No AWS account and no GPU: the emulator on 127.0.0.1 answers for EC2, and each instance is a container."""

    playbook = "sandbox.yml"
    emulated = True
    billed = False
    hosts_by_address = False  # the container is the machine; its emulated address leads nowhere
    plan_note = " [in the emulator: nothing is billed]"
    cost_note = " (what AWS would bill; the sandbox bills nothing)"
    prepare_stage: str | None = "sandbox"
    flags: tuple[str, ...] = (FLAG,)

    def __init__(self, image: str = "") -> None:
        self.image = image  # the containers' image, once prepared
        self.host_gcc: str | None = None  # known once prepare() has chosen the image's release
        self.started_emulator = False  # this command started the emulator (none was running)

    def connect(self) -> None:
        self.started_emulator = self.started_emulator or emulator.running_emulator() is None
        emu = emulator.start_emulator()
        os.environ.update(emu.env())

    def release(self, keep: bool) -> None:
        """After the command: an emulator it started for itself goes, unless it holds what the
        command created (`keep`); a command that found nothing running leaves nothing running."""
        if self.started_emulator and not keep:
            emulator.stop_emulator()

    def validate(self, settings: Settings) -> None:
        if settings.target is not None:
            raise ConfigError(f"provision: {FLAG} and --target exclude each other; accepted: one of them")

    def down(self, json_mode: bool = False) -> int:
        gone = sandbox.down()
        if json_mode:
            print(json.dumps({"type": "sandbox-down", **gone}))
            return ExitCode.OK
        emulator_state = (
            "stopped the emulator and deleted its state." if gone["emulator_stopped"] else "no emulator was running."
        )
        print(f"Sandbox down: removed {len(gone['containers'])} container(s); {emulator_state}")  # type: ignore[arg-type]
        return ExitCode.OK

    def prepare(self, settings: Settings, check: bool, say: Callable[[str], None] = print) -> Settings:
        """The emulator, the image's AMI and address range, and (unless --check) Docker and the base image."""
        self.connect()
        self.host_gcc = sandbox.IMAGE_GCC[sandbox.SANDBOX_RELEASE]
        if not check:
            docker_engine.ensure_docker()
            if not docker_engine.image_ready(sandbox.SANDBOX_RELEASE):
                say(
                    f"sandbox: building the local Debian {sandbox.SANDBOX_RELEASE} image with debootstrap; this happens"
                    " once, on the first run, and took about 100 s on a 2-core machine"
                )
            self.image = docker_engine.ensure_image(sandbox.SANDBOX_RELEASE)
        return self.adapt(settings)

    @staticmethod
    def adapt(settings: Settings) -> Settings:
        """The emulator's own AMI for the default preset (it holds no real image), and SSH from loopback."""
        return settings.model_copy(
            update={
                "ami": sandbox.SANDBOX_AMI if settings.ami == default_values()["ami"] else settings.ami,
                "ssh_cidr": settings.ssh_cidr or "127.0.0.1/32",
            }
        )

    def use_baked(self, ami_id: str) -> None:
        self.image = sandbox.image_for(ami_id, self.image)

    def key_dir(self, given: Path) -> Path:
        return sandbox.key_dir()

    def role_overrides(self, settings: Settings) -> dict[str, Any]:
        sources = source_vars(settings)
        overrides = sandbox.role_overrides(self.image, sources)
        # The user's own -e wins over the sandbox's defaults; a local source given with -e
        # is the same file, seen from inside the container.
        return {k: v for k, v in overrides.items() if k not in settings.extra_vars or k in sources}

    def notes(self, settings: Settings) -> list[str]:
        """What the sandbox ran against, and what a run on AWS would do differently."""
        defaults = default_values()

        def source(label: str, name: str) -> str:
            value = getattr(settings, name)
            kind = "upstream" if value == defaults[name] else "a local mirror or other source"
            return f"  {label}: {value} ({kind})"

        tarball = f"julia_build_{settings.julia_from.replace('-', '_')}_url"
        started, down = self.started_emulator, command("provision", FLAG, "--down")
        return [
            "SANDBOX: no AWS account and no GPU are used.",
            f"  AWS: the embedded emulator at {os.environ.get('AWS_ENDPOINT_URL', '?')} ran the real ec2_gpu role;",
            f"  each emulated instance is a local container from {self.image} (Debian {sandbox.SANDBOX_RELEASE}).",
            "  cuda_verify: report only (the container has no GPU); Mocha trains on the CPU backend.",
            (
                f"  Julia: the {settings.julia_from} tarball " + str(settings.extra_vars.get(tarball, "(upstream)"))
                if settings.julia_from != "source"
                else source("Julia source", "julia_repo")
            ),
            source("Mocha source", "mocha_source"),
            source("CIFAR-10", "dataset_url"),
            "  On AWS instead: a real GPU instance, billed by the hour; SSH to its public address after the wait",
            "  for port 22; the AMI's own OS and compiler; the NVIDIA driver and CUDA checked and required.",
            *([f"  This run started the emulator; it runs on for the next commands until {down}."] if started else []),
        ]

    def run_facts(self) -> dict[str, Any]:
        return {"sandbox": True}

    def containers(self, deployment: str | None) -> list[str]:
        return sandbox.containers(deployment)

    def after_stop(self, deployment: str) -> None:
        sandbox.stop_containers(deployment)

    def after_start(self, deployment: str) -> None:
        sandbox.start_containers(deployment)

    def after_teardown(self, deployment: str | None) -> list[str]:
        return sandbox.remove_containers(deployment)

    def after_amis_deleted(self, ami_ids: list[str]) -> None:
        sandbox.remove_baked_images(ami_ids)

    def after_bake(self, source: str, image_id: str) -> None:
        sandbox.commit_container(source, image_id)

    def ssh_note(self, instance_id: str) -> str | None:
        return f"sandbox: no sshd; use `docker exec -it mocha-sandbox-{instance_id} bash`"


def source_vars(settings: Settings) -> dict[str, str]:
    """The role variables of the sources the hosts fetch, with the settings' values."""
    sources = {ROLE_VARS[name]: getattr(settings, name) for name in sandbox.SOURCE_SETTINGS}
    sources.update(
        {var: str(settings.extra_vars[var]) for var in sandbox.SOURCE_EXTRA_VARS if var in settings.extra_vars}
    )
    return sources


def teardown_command(env: Environment, deployment: str) -> str:
    """The teardown of `deployment` in this environment, as a hint prints it."""
    return command("teardown", *env.flags, "--deployment", deployment)


def next_steps(env: Environment, deployment: str) -> list[tuple[str, str]]:
    """(command, what it is for) after a run that kept its instances."""
    steps = [
        (command("results", "latest"), "what it trained; --plot draws the curves"),
        (
            command("status", *env.flags),
            "the instances, their cost so far and their guard" if env.billed else "the instances (containers here)",
        ),
        (teardown_command(env, deployment), "remove them all; billing stops" if env.billed else "remove them"),
    ]
    if env.emulated:
        steps.append((command("provision", FLAG, "--down"), "then the sandbox itself: the emulator and its state"))
    return steps


def for_run(args: argparse.Namespace, record: dict[str, Any]) -> Environment:
    """The environment a recorded run used (its run.json says sandbox), or else argv's."""
    return _sandbox() if record.get("sandbox") else from_args(args)


def from_args(args: argparse.Namespace) -> Environment:
    """The one place argv picks the environment."""
    return _sandbox() if getattr(args, "sandbox", False) else Aws()


def _sandbox() -> Sandbox:
    # The emulator's keys are all the sandbox uses: a profile of the user's (perhaps stale,
    # perhaps SSO) is neither needed nor read, by this process or by the plays, and the
    # user's keys and session token never travel with the emulator's.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", *SECRET_ENV_VARS):
        os.environ.pop(name, None)
    return Sandbox()
