"""Issue 17 item 2: AWS or the sandbox is one Environment, chosen once from argv and passed down."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

from mocha_ansible import environment
from mocha_ansible.cli import build_parser
from mocha_ansible.config import build_settings
from mocha_ansible.environment import Aws, Sandbox
from mocha_ansible.errors import ConfigError
from mocha_ansible.pipeline import build_job
from mocha_ansible.preflight import judge_route
from tests.helpers import ROOT

# The modules that once asked "is this the sandbox?" and now ask the Environment.
_CALLERS = ("cli", "commands", "provision", "lifecycle", "preflight", "pipeline", "ssh_config")


def _venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hints say `mocha-ansible` when PATH finds it (tests/unit/test_invocation.py has the rest)."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["provision"], Aws),
        (["provision", "--sandbox"], Sandbox),
        (["preflight", "--sandbox"], Sandbox),
        (["status", "--sandbox"], Sandbox),
        (["teardown"], Aws),
        (["ssh-config", "--sandbox"], Sandbox),
        (["bake", "--sandbox"], Sandbox),
        (["results"], Aws),  # no --sandbox flag at all
    ],
)
def test_argv_chooses_the_environment(argv: list[str], kind: type) -> None:
    assert type(environment.from_args(build_parser().parse_args(argv))) is kind


_SANDBOX_MODULES = ("mocha_ansible.sandbox", "mocha_ansible.emulator", "mocha_ansible.docker_engine")


def test_only_the_environment_reaches_the_sandbox() -> None:
    """The callers neither import the sandbox's modules nor read --sandbox themselves."""
    offenders = []
    for name in _CALLERS:
        tree = ast.parse((ROOT / "mocha_ansible" / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in _SANDBOX_MODULES:
                offenders.append(f"{name}: from {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module == "mocha_ansible":
                hits = [a.name for a in node.names if f"mocha_ansible.{a.name}" in _SANDBOX_MODULES]
                offenders += [f"{name}: import {hit}" for hit in hits]
            if isinstance(node, ast.Attribute) and node.attr == "sandbox":
                offenders.append(f"{name}:{node.lineno}: .sandbox")
            if isinstance(node, ast.Constant) and node.value == "sandbox":
                offenders.append(f"{name}:{node.lineno}: 'sandbox'")
    assert offenders == []


def test_aws_adds_nothing_to_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _venv_on_path(monkeypatch)
    settings = build_settings({}, {})
    job = build_job(settings, tmp_path, False)
    assert job.playbook.name == "site.yml"
    assert "mocha_sandbox_image" not in job.extravars and "ec2_gpu_wait_for_ssh" not in job.extravars
    aws = Aws()
    assert environment.teardown_command(aws, "d1") == "mocha-ansible teardown --deployment d1"
    assert aws.notes(settings) == [] and aws.ssh_note("i-1") is None and aws.billed


def test_the_sandbox_overrides_roles_but_not_the_users_own_extra_vars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _venv_on_path(monkeypatch)
    monkeypatch.setenv("MOCHA_ANSIBLE_SANDBOX_DIR", str(tmp_path / "state"))
    mocha = tmp_path / "Mocha.jl"
    mocha.mkdir()
    settings = build_settings({"mocha_source": str(mocha), "extra_vars": {"cuda_verify_required": True}}, {})
    job = build_job(settings, tmp_path, False, 0, Sandbox(image="img"))
    assert job.playbook.name == "sandbox.yml"
    assert job.extravars["mocha_sandbox_image"] == "img"
    assert job.extravars["ec2_gpu_key_dir"] == str(tmp_path / "state" / "keys")
    assert job.extravars["cuda_verify_required"] is True  # the user's -e wins
    # The local Mocha source, as the container sees it once bound.
    assert job.extravars["mocha_cifar_source"].startswith("/srv/mocha-ansible/") and any(
        v.startswith(f"{mocha}:") for v in job.extravars["mocha_sandbox_volumes"]
    )
    assert environment.teardown_command(Sandbox(), "d1") == "mocha-ansible teardown --sandbox --deployment d1"


def test_the_sandbox_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ConfigError, match=r"--sandbox and --target exclude each other"):
        Sandbox().validate(build_settings({"target": "localhost"}, {}))
    with pytest.raises(ConfigError, match=r"--down only applies with --sandbox; accepted: --sandbox --down"):
        Aws().down()


def test_the_route_takes_the_environments_facts() -> None:
    """The sandbox's image compiler is a fact once prepare() has run (provision, preflight); before, unknown."""
    checksum = {"julia_build_source_full_checksum": "sha256:" + "0" * 64}
    settings = build_settings(
        {
            "ami": "ami-0123456789abcdef0",
            "julia_from": "source-full",
            "julia_version": "v0.6.4",
            "extra_vars": checksum,
        },
        {},
    )
    box = Sandbox()
    driver = next(link for link in judge_route(settings, box).links if link.name == "driver")
    assert driver.status == "ok" and "the sandbox image" in driver.detail
    assert next(link for link in judge_route(settings).links if link.name == "driver").status == "warn"
    box.host_gcc = "12.2.0"  # what prepare() knows of the image
    with pytest.raises(ConfigError, match=r"^route: julia: .*GCC 12\.2\.0"):
        judge_route(settings, box)


def test_adapt_swaps_only_the_default_ami() -> None:
    assert Sandbox.adapt(build_settings({}, {})).ami.startswith("ami-")
    assert Sandbox.adapt(build_settings({}, {})).ssh_cidr == "127.0.0.1/32"
    assert Sandbox.adapt(build_settings({"ami": "ami-0123456789abcdef0"}, {})).ami == "ami-0123456789abcdef0"


def test_the_sandbox_keeps_none_of_the_users_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's keys are all the sandbox uses: a user's session token (SSO, an assumed
    role) went along with them to the emulator, which an IAM-enforcing emulator refused."""
    users = {
        "AWS_PROFILE": "dev",
        "AWS_DEFAULT_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": "AKIAUSERKEY",
        "AWS_SECRET_ACCESS_KEY": "user-secret",
        "AWS_SESSION_TOKEN": "user-token",
        "AWS_SECURITY_TOKEN": "user-token",
    }
    for name, value in users.items():
        monkeypatch.setenv(name, value)
    environment.from_args(build_parser().parse_args(["status", "--sandbox"]))
    assert [name for name in users if name in os.environ] == []
    monkeypatch.setenv("AWS_SESSION_TOKEN", "user-token")
    environment.from_args(build_parser().parse_args(["status"]))
    assert os.environ["AWS_SESSION_TOKEN"] == "user-token", "AWS's own route must keep the user's credentials"


@pytest.mark.parametrize("built", [False, True])
def test_the_first_image_build_is_announced_and_a_built_image_is_not(
    monkeypatch: pytest.MonkeyPatch, built: bool
) -> None:
    """Issue 34 item 3: the first run's image build took 97 s behind a bare spinner."""
    from mocha_ansible import docker_engine

    sb = Sandbox()
    monkeypatch.setattr(sb, "connect", lambda: None)
    monkeypatch.setattr(docker_engine, "ensure_docker", lambda: None)
    monkeypatch.setattr(docker_engine, "image_ready", lambda release: built)
    monkeypatch.setattr(docker_engine, "ensure_image", lambda release: "mocha-ansible/debian:12")
    said: list[str] = []
    settings = build_settings({}, {})
    sb.prepare(settings, check=False, say=said.append)
    assert sb.image == "mocha-ansible/debian:12"
    if built:
        assert said == []
    else:
        assert len(said) == 1 and "building the local Debian 12 image with debootstrap" in said[0]
        assert "once, on the first run" in said[0]
