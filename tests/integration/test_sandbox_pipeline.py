"""`provision --sandbox` end to end, offline: the embedded emulator (moto) runs the
real ec2_gpu role, a real Docker container stands in for each emulated instance,
and the host stages run in it for real (apt, git, make) against the TEST DOUBLES
of mocha_ansible/sandbox_doubles/mirrors.py (no real Julia, Mocha or CIFAR-10)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from mocha_ansible import sandbox
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


@pytest.mark.heavy
def test_full_pipeline_then_a_fleet_of_three_then_teardown(box: Sandbox) -> None:
    # The README's first command (after bootstrap), which builds its own mirrors.
    first = subprocess.run(
        [str(ROOT / "scripts" / "sandbox"), "--deployment", "e2e", "--max-iter", "400"],
        cwd=ROOT, env=box.env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    assert "SANDBOX: no AWS account and no GPU are used." in first.stdout
    for stage in ("sandbox", "preflight", "provision", "verify", "julia", "mocha", "results", "after"):
        assert f"[{stage}] ok in" in first.stdout, stage
    assert "Tear down with: mocha-ansible teardown --sandbox --deployment e2e" in first.stdout
    assert "Estimated cost so far: $" in first.stdout and "the sandbox bills nothing" in first.stdout

    (instance,) = box.resources()["instances"]
    (container,) = box.containers("e2e")
    assert container == f"mocha-sandbox-{instance}"
    # The default route: the stand-in of the official binary tarball, checksummed, unpacked
    # and linked by julia_build.
    assert box.docker_exec(container, "readlink", "/usr/local/bin/julia") == "/opt/julia/v0.6.4/bin/julia"
    assert box.docker_exec(container, "/usr/local/bin/julia", "--version") == "julia version 0.6.4"

    run_dir = Path(first.stdout.split("run directory: ")[1].split()[0])
    report = json.loads((run_dir / "hosts" / instance / "results.json").read_text())
    assert report["iterations"] == 400 and report["backend"] == "cpu-native"
    assert json.loads((run_dir / "hosts" / instance / "julia_build.json").read_text())["method"] == "binary"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "ok" and record["sandbox"] is True

    status = json.loads(box.cli("status", "--sandbox", "--json").stdout)
    assert [i["id"] for i in status["instances"]] == [instance]
    assert status["instances"][0]["expires"] and status["estimated_cost_usd"] >= 0
    shown = box.cli("results", "latest")
    assert "backend cpu-native; 400/400 iterations" in shown.stdout, shown.stdout
    ssh = box.cli("ssh-config", "--sandbox")
    assert "Host mocha-1" in ssh.stdout and f"docker exec -it {container} bash" in ssh.stdout

    baked = box.cli("bake", "--sandbox", "--deployment", "e2e", "--json")
    assert baked.returncode == 0, baked.stdout[-3000:] + baked.stderr
    ami = json.loads(baked.stdout.splitlines()[-1])["image_id"]

    # The same deployment grown to three: the first instance is found, two join it,
    # launched from the baked AMI, so julia_build finds Julia there and installs nothing.
    fleet = box.provision("--deployment", "e2e", "--count", "3", "--ami-from-bake", "--json")
    assert fleet.returncode == 0, fleet.stdout[-3000:] + fleet.stderr
    instances = box.resources()["instances"]
    assert len(instances) == 3 and instance in instances
    assert box.containers("e2e") == sorted(f"mocha-sandbox-{i}" for i in instances)
    fleet_run = Path(json.loads(fleet.stdout.splitlines()[-1])["run_dir"])
    for inst in instances:
        assert json.loads((fleet_run / "hosts" / inst / "results.json").read_text())["iterations"] == 400
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=box.emulator.url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    images = {i["InstanceId"]: i["ImageId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    for inst in set(instances) - {instance}:
        assert images[inst] == ami
        assert json.loads((fleet_run / "hosts" / inst / "julia_build.json").read_text())["built_now"] is False
        # The image carries the baked host's trained model; each new host trains its own.
        record = box.docker_exec(f"mocha-sandbox-{inst}", "find", "/", "-xdev", "-name", ".mocha-ansible-trained.json",
                                 "-exec", "cat", "{}", "+")  # fmt: skip
        assert [json.loads(line)["host"] for line in record.splitlines()] == [inst], record

    down = box.cli("teardown", "--sandbox", "--yes")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "kept 1 baked AMI(s)" in down.stdout
    assert box.resources() == NOTHING
    assert box.containers("e2e") == []
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [ami]
    amis = box.cli("teardown", "--sandbox", "--yes", "--amis")
    assert amis.returncode == 0, amis.stdout + amis.stderr
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert sandbox.remove_baked_images([ami]) == [], "teardown --amis left the baked image"


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
    assert box.resources() == NOTHING


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
