"""`preflight --sandbox` judges the same plan as `provision --sandbox --check`.

It used to judge the AWS preset the sandbox never launches (dlami-ubuntu, its driver and
cuDNN) and SSH from "your address", while provision judged the sandbox's image and loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mocha_ansible import sandbox
from tests.helpers import ROOT, VENV_BIN


def _plan(env: dict[str, str], *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (plan,) = [obj for obj in map(json.loads, proc.stdout.splitlines()) if obj.get("type") == "plan"]
    return plan


def test_preflight_and_provision_check_give_one_plan_in_the_sandbox(tmp_path: Path) -> None:
    env = {**sandbox.private_env(tmp_path), "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        preflight = _plan(env, "preflight", "--sandbox")
        check = _plan(env, "provision", "--sandbox", "--check")
    finally:
        subprocess.run([sys.executable, "-m", "mocha_ansible", "provision", "--sandbox", "--down"],
                       cwd=ROOT, env=env, capture_output=True, timeout=120, check=False)  # fmt: skip
    assert preflight == check
    assert preflight["extravars"]["ec2_gpu_ami"] == sandbox.SANDBOX_AMI  # type: ignore[index]
    assert preflight["extravars"]["ec2_gpu_ssh_cidr"] == "127.0.0.1/32"  # type: ignore[index]
    assert all(item.endswith("[in the emulator: nothing is billed]") for item in preflight["creates"])  # type: ignore[attr-defined]
