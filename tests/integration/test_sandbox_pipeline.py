"""`provision --sandbox` end to end, offline: the embedded emulator (moto) runs the
real ec2_gpu role, a real Docker container stands in for each emulated instance,
and the host stages run in it for real (apt, git, make) against the TEST DOUBLES
of mocha_ansible/sandbox_doubles/mirrors.py (no real Julia, Mocha or CIFAR-10). The whole
pipeline, from the README's first command to teardown, is test_sandbox_journey.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mocha_ansible.emulator import running_emulator
from mocha_ansible.sandbox_doubles import mirrors
from tests.helpers import NOTHING, ROOT, Sandbox

# Up to the stage that is interrupted: mocha adds time and nothing to what is shown.
STAGES_TO_JULIA = "provision,verify,julia"


def _stages(stdout: str) -> dict[str, dict]:
    """stage -> its stage_finished record, from --json output."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("type") == "stage_finished":
                out[event["stage"]] = event
    return out


@pytest.fixture(scope="module")
def mirror_flags(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return mirrors.build(tmp_path_factory.mktemp("mirrors")).flags()


@pytest.fixture
def box(debian_image: str, mirror_flags: list[str], tmp_path: Path) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path, [*mirror_flags, "--max-iter", "400"])
    yield sb
    sb.close()


# SIGINT only (Ctrl-C, the sandbox user's signal): the CLI's one handler takes SIGINT and
# SIGTERM alike, and tests/reliability/test_faults.py interrupts provisioning with each.
@pytest.mark.heavy
def test_interrupted_during_julia_build_resumes_without_a_second_instance(box: Sandbox) -> None:
    signum = signal.SIGINT
    proc = subprocess.Popen(
        box.argv("provision", "--sandbox", *box.flags, "--deployment", "resume", "--stages", STAGES_TO_JULIA, "--json"),
        cwd=ROOT, env=box.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if '"stage_started"' in line and '"julia"' in line:
            time.sleep(3)  # inside the stage: the build packages are being installed
            proc.send_signal(signum)
            break
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen) + rest + err
    interrupted = _stages("".join(seen) + rest)
    assert interrupted["julia"]["status"] == "interrupted"
    assert "Resume with the same command" in rest

    again = box.provision("--deployment", "resume", "--stages", STAGES_TO_JULIA, "--json")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    resumed = _stages(again.stdout)
    assert resumed["provision"]["changed"] == 0 and resumed["verify"]["changed"] == 0
    assert resumed["julia"]["status"] == "ok"
    assert len(box.resources()["instances"]) == 1
    assert len(box.containers("resume")) == 1


def test_destroy_on_failure_leaves_nothing(box: Sandbox) -> None:
    # mocha without julia fails on purpose: the role finds no julia to run.
    proc = box.provision("--deployment", "doomed", "--stages", "provision,mocha", "--destroy-on-failure")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    assert "[mocha] failed" in proc.stdout
    assert "--destroy-on-failure: deleted everything deployment 'doomed' had." in proc.stdout
    assert box.resources() == NOTHING
    assert box.containers("doomed") == []


def test_after_terminate_leaves_nothing(box: Sandbox) -> None:
    proc = box.provision("--deployment", "brief", "--stages", "provision,verify", "--after", "terminate")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "[after] ok" in proc.stdout and "Terminated: nothing of the deployment is left." in proc.stdout
    assert box.resources() == NOTHING
    assert box.containers("brief") == []


def test_check_in_the_sandbox_creates_nothing(box: Sandbox) -> None:
    proc = box.provision("--check")
    assert proc.returncode == 0, proc.stderr
    assert "nothing was created" in proc.stdout and "[in the emulator: nothing is billed]" in proc.stdout
    # The emulator it started for the plan went with it (issue 34 item 7): nothing can exist.
    assert running_emulator(box.base / "state") is None


def test_down_removes_containers_and_emulator_state(box: Sandbox) -> None:
    up = box.provision("--deployment", "gone", "--stages", "provision")
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr
    assert len(box.containers("gone")) == 1
    keys = box.base / "state" / "keys"
    assert keys.is_dir()
    down = box.cli("provision", "--sandbox", "--down")
    assert down.returncode == 0 and "removed 1 container(s)" in down.stdout, down.stdout + down.stderr
    assert box.containers("gone") == [] and not keys.exists()
    assert running_emulator(box.base / "state") is None
    assert not os.path.exists(box.base / "state" / "emulator.json")
