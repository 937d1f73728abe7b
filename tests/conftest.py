"""pytest fixtures for the real parts: the AWS emulator and the Docker engine.

Both are started by the fixtures themselves (through mocha_ansible.docker_engine and emulator, the
same code `provision --sandbox` uses), so a fresh machine needs no set-up by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from mocha_ansible import docker_engine
from mocha_ansible.emulator import Emulator, start_emulator, stop_emulator


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heavy tests first: with parallel workers (scripts/test runs pytest -n), a
    five-minute test handed out last would run alone at the end while the others idle."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    base = tmp_path_factory.mktemp("emulator")
    emu = start_emulator(base)
    yield emu
    stop_emulator(base)


def _point_at(emulator, monkeypatch: pytest.MonkeyPatch):
    """Reset an emulator and point this process's AWS environment at it alone."""
    emulator.reset()
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in {**emulator.env(), "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    return emulator


@pytest.fixture
def aws(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A clean emulator, and this process's environment pointed at it."""
    return _point_at(emulator, monkeypatch)


def project_resources(region: str = "us-east-1", endpoint_url: str | None = None) -> dict[str, list[str]]:
    """Everything in the emulator that is not there by default."""
    credentials = (
        {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"} if endpoint_url is not None else {}
    )
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint_url, **credentials)
    instances = [
        i["InstanceId"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    groups = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
    keys = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
    templates = [t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]]
    return {"instances": instances, "security_groups": groups, "key_pairs": keys, "launch_templates": templates}


@pytest.fixture(scope="session")
def debian_image() -> str:
    docker_engine.ensure_docker()
    return docker_engine.ensure_image("12")


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MOCHA_ANSIBLE_RUNS_DIR", str(tmp_path / "runs"))
    return home


@pytest.fixture(scope="session")
def _faulty_emulator():
    from tests.doubles.faulty_emulator import start_faulty_emulator

    emu = start_faulty_emulator()
    yield emu
    emu.stop()


@pytest.fixture
def faulty_aws(_faulty_emulator, monkeypatch: pytest.MonkeyPatch):
    """The fault-injecting emulator double, clean, with the environment pointed at it."""
    return _point_at(_faulty_emulator, monkeypatch)


@pytest.fixture
def instant_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Module processes of this test's plays sleep at once (tests/doubles/instant_clock);
    returns the log of the seconds they were asked to sleep, one line each."""
    log = tmp_path / "instant-clock.log"
    log.touch()
    folder = Path(__file__).parent / "doubles" / "instant_clock"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("MOCHA_ANSIBLE_INSTANT_CLOCK_LOG", str(log))
    return log
