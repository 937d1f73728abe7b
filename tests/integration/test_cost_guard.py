"""The cost guard that user-data installs: armed on boot, again after a reboot, fired after the deadline.

The script is the one the role really sends (read back from the emulator's userData),
run by /bin/sh in a scratch root. systemctl, the power-off and shutdown commands and
the clock are injected, so nothing here powers anything off.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from mocha_ansible import aws as aws_api
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.doubles.imds_double import ImdsDouble
from tests.helpers import ROOT, ec2_gpu_vars

AMI = "ami-785db401"


def _launch(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    extravars = ec2_gpu_vars(tmp_path / "keys", **{"ec2_gpu_ami": AMI, "ec2_gpu_deployment": "guard", **extra})
    job = PlaybookJob(playbook=ROOT / "playbooks/provision.yml", ident="up", extravars=extravars)
    res = run_playbook(job, tmp_path / "runs")
    assert res.ok, res.failed_tasks
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    data = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
    inst["script"] = base64.b64decode(data["UserData"].get("Value", "")).decode()
    return inst


def _closed_loopback_url() -> str:
    """A loopback URL that refuses connections: a port the kernel gave out, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _stub(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


class Machine:
    """A scratch root standing in for the instance's disk, with recording stand-ins for systemd and power."""

    def __init__(self, base: Path, instance_id: str, systemd: bool = True, imds: str | None = None) -> None:
        self.root = base / "root"
        (self.root / "var/lib/cloud/data").mkdir(parents=True)
        (self.root / "var/lib/cloud/data/instance-id").write_text(instance_id + "\n")
        self.log = base / "calls.log"
        self.log.touch()
        bin_dir = base / "bin"
        bin_dir.mkdir()
        systemctl = f'echo "systemctl $*" >>{self.log}; exit {0 if systemd else 1}'
        self.env = {
            "PATH": os.environ["PATH"],
            "MOCHA_GUARD_ROOT": str(self.root),
            "MOCHA_GUARD_SYSTEMCTL": str(_stub(bin_dir / "systemctl", systemctl)),
            "MOCHA_GUARD_POWEROFF": str(_stub(bin_dir / "poweroff", f'echo "poweroff $*" >>{self.log}')),
            "MOCHA_GUARD_SHUTDOWN": str(_stub(bin_dir / "shutdown", f'echo "shutdown $*" >>{self.log}')),
            # Never the real 169.254.169.254: an ImdsDouble, or a loopback port nothing listens on.
            "MOCHA_GUARD_IMDS": imds or _closed_loopback_url(),
        }

    def run(self, argv: list[str], now: int) -> str:
        proc = subprocess.run(
            argv, env={**self.env, "MOCHA_GUARD_NOW": str(now)}, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def boot_user_data(self, script: str, now: int) -> str:
        path = self.root.parent / "user-data.sh"
        path.write_text(script)
        return self.run(["/bin/sh", str(path)], now)

    def timer_check(self, now: int) -> str:
        """What the systemd timer runs, at boot and every few minutes."""
        return self.run([str(self.root / "usr/local/sbin/mocha-ansible-guard")], now)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()


def _deadline(inst: dict[str, Any]) -> int:
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    iso = datetime.strptime(tags["mocha-ansible:deadline"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(iso.timestamp())


def test_guard_arms_on_boot_rearms_after_reboot_and_fires_after_the_deadline(aws, tmp_path):
    inst = _launch(tmp_path, ec2_gpu_max_hours=2)
    deadline = _deadline(inst)
    machine = Machine(tmp_path, inst["InstanceId"])

    first_boot = machine.boot_user_data(inst["script"], now=deadline - 2 * 3600)
    assert aws_api.parse_guard_report(first_boot).state == "armed"
    assert f"deadline={deadline}" in first_boot
    assert machine.calls() == ["systemctl daemon-reload", "systemctl enable --now mocha-ansible-guard.timer"]
    timer = (machine.root / "etc/systemd/system/mocha-ansible-guard.timer").read_text()
    assert "OnBootSec=" in timer and "OnUnitActiveSec=5min" in timer and "WantedBy=timers.target" in timer
    service = (machine.root / "etc/systemd/system/mocha-ansible-guard.service").read_text()
    assert "ExecStart=/usr/local/sbin/mocha-ansible-guard" in service
    assert "StandardOutput=journal+console" in service  # what GetConsoleOutput shows `status`
    assert stat.S_IMODE((machine.root / "usr/local/sbin/mocha-ansible-guard").stat().st_mode) == 0o755

    # A reboot (bake) or a stop/start (--after stop, resume): user-data does not run again;
    # the enabled timer does, against the deadline kept on disk.
    after_reboot = machine.timer_check(now=deadline - 60)
    assert aws_api.parse_guard_report(after_reboot).state == "armed"
    assert not any(c.startswith("poweroff") for c in machine.calls())

    fired = machine.timer_check(now=deadline + 1)
    assert aws_api.parse_guard_report(fired).state == "fired"
    assert machine.calls()[-1] == "poweroff "


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conf_deadline(machine: Machine) -> int:
    conf = (machine.root / "etc/mocha-ansible/guard.conf").read_text()
    return int(conf.split("DEADLINE=")[1].split()[0])


def test_tags_are_in_instance_metadata_unless_a_tag_key_breaks_its_rules(aws, tmp_path):
    inst = _launch(tmp_path / "plain")
    assert inst["MetadataOptions"]["InstanceMetadataTags"] == "enabled"
    assert inst["MetadataOptions"]["HttpTokens"] == "required"
    # AWS fails the launch when tags are in metadata and a key has a space or '/'.
    aws.reset()
    inst = _launch(tmp_path / "spaced", ec2_gpu_tags={"cost center": "vision"})
    assert inst["MetadataOptions"]["InstanceMetadataTags"] == "disabled"
    assert inst["MetadataOptions"]["HttpTokens"] == "required"


def test_guard_honours_the_deadline_tag_read_from_imds(aws, tmp_path):
    inst = _launch(tmp_path, ec2_gpu_max_hours=2)
    launch_deadline = _deadline(inst)
    rearmed = launch_deadline + 3 * 3600  # as `mocha-ansible start` moves the tag
    with ImdsDouble({"mocha-ansible:deadline": _iso(rearmed)}) as imds:
        machine = Machine(tmp_path, inst["InstanceId"], imds=imds.url)
        machine.boot_user_data(inst["script"], now=launch_deadline - 3600)
        past_launch_deadline = machine.timer_check(now=launch_deadline + 60)
        assert aws_api.parse_guard_report(past_launch_deadline).state == "armed"
        assert f"deadline={rearmed} " in past_launch_deadline and "source=tag" in past_launch_deadline
        assert not any(c.startswith("poweroff") for c in machine.calls())
        # IMDSv2: a token first, then the tag with it (the double answers 401 without).
        assert imds.requests[:2] == [
            "PUT /latest/api/token",
            "GET /latest/meta-data/tags/instance/mocha-ansible:deadline",
        ]

        fired = machine.timer_check(now=rearmed + 1)
        assert aws_api.parse_guard_report(fired).state == "fired" and "source=tag" in fired
        assert machine.calls()[-1] == "poweroff "
    # The tag read last is remembered: without IMDS the guard falls back to it, not to the launch deadline.
    assert _conf_deadline(machine) == rearmed
    machine.env["MOCHA_GUARD_IMDS"] = _closed_loopback_url()
    offline = machine.timer_check(now=launch_deadline + 60)
    assert aws_api.parse_guard_report(offline).state == "armed"
    assert f"deadline={rearmed} " in offline and "source=guard.conf (IMDS unreachable)" in offline


@pytest.mark.parametrize(
    ("tags", "source"),
    [
        (None, "guard.conf (IMDS unreachable)"),  # MOCHA_GUARD_IMDS: a closed loopback port
        ({}, "guard.conf (no deadline tag in IMDS)"),  # tags off in metadata, or the tag removed: 404
    ],
    ids=["imds-unreachable", "tag-absent"],
)
def test_guard_falls_back_to_guard_conf(aws, tmp_path, tags, source):
    inst = _launch(tmp_path)
    deadline = _deadline(inst)
    with contextlib.ExitStack() as stack:
        imds = stack.enter_context(ImdsDouble(tags)).url if tags is not None else None
        machine = Machine(tmp_path, inst["InstanceId"], imds=imds)
        machine.boot_user_data(inst["script"], now=deadline - 3600)
        armed = machine.timer_check(now=deadline - 60)
        fired = machine.timer_check(now=deadline + 1)
    assert aws_api.parse_guard_report(armed).state == "armed" and f"source={source}" in armed
    assert aws_api.parse_guard_report(fired).state == "fired" and f"deadline={deadline} " in fired
    assert f"source={source}" in fired


@pytest.mark.parametrize(
    "value",
    [
        "soon",  # garbled
        "2026-11-27 01:00:00",  # a time, in another format than aws.DEADLINE_FORMAT
        "2026-13-45T99:99:99Z",  # the format's shape, not a time
        "",  # empty
        "x\nmocha-ansible-guard: fired: forged",  # a newline must not add a guard line to the console
    ],
    ids=["garbled", "other-format", "not-a-date", "empty", "newline"],
)
def test_a_tag_value_that_is_not_a_utc_time_is_ignored_for_guard_conf(aws, tmp_path, value):
    inst = _launch(tmp_path)
    deadline = _deadline(inst)
    with ImdsDouble({"mocha-ansible:deadline": value}) as imds:
        machine = Machine(tmp_path, inst["InstanceId"], imds=imds.url)
        machine.boot_user_data(inst["script"], now=deadline - 3600)
        armed = machine.timer_check(now=deadline - 60)
        fired = machine.timer_check(now=deadline + 1)
    assert len(armed.splitlines()) == 1, armed
    assert aws_api.parse_guard_report(armed).state == "armed" and f"deadline={deadline} " in armed
    assert "source=guard.conf (tag value not a UTC time: " in armed
    assert aws_api.parse_guard_report(fired).state == "fired" and f"deadline={deadline} " in fired
    # The bad value is never remembered: guard.conf keeps the launch deadline.
    assert _conf_deadline(machine) == deadline
    conf = (machine.root / "etc/mocha-ansible/guard.conf").read_text()
    assert conf == f"DEADLINE={deadline}\nINSTANCE={inst['InstanceId']}\n"


def _bin_without_curl(base: Path, python: bool) -> str:
    """A PATH of links to the tools the guard uses, without curl (and without python3 unless asked)."""
    bin_dir = base / "nocurl-bin"
    bin_dir.mkdir()
    tools = ["sed", "cat", "date", "mv", "tr", "cut"] + (["python3"] if python else [])
    for tool in tools:
        found = shutil.which(tool, path="/usr/bin:/bin")
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_without_curl_the_guard_reads_the_tag_with_python3(aws, tmp_path):
    inst = _launch(tmp_path, ec2_gpu_max_hours=2)
    launch_deadline = _deadline(inst)
    rearmed = launch_deadline + 3 * 3600
    with ImdsDouble({"mocha-ansible:deadline": _iso(rearmed)}) as imds:
        machine = Machine(tmp_path, inst["InstanceId"], imds=imds.url)
        machine.boot_user_data(inst["script"], now=launch_deadline - 3600)
        machine.env["PATH"] = _bin_without_curl(tmp_path, python=True)
        imds.requests.clear()
        out = machine.timer_check(now=launch_deadline + 60)
        assert imds.requests == [
            "PUT /latest/api/token",
            "GET /latest/meta-data/tags/instance/mocha-ansible:deadline",
        ]
    assert aws_api.parse_guard_report(out).state == "armed"
    assert f"deadline={rearmed} " in out and "source=tag" in out
    assert _conf_deadline(machine) == rearmed


def test_with_neither_curl_nor_python3_the_guard_says_so_and_uses_guard_conf(aws, tmp_path):
    inst = _launch(tmp_path)
    deadline = _deadline(inst)
    machine = Machine(
        tmp_path, inst["InstanceId"]
    )  # booted where IMDS is unreachable: guard.conf keeps the launch deadline
    machine.boot_user_data(inst["script"], now=deadline - 3600)
    with ImdsDouble({"mocha-ansible:deadline": _iso(deadline + 3600)}) as imds:
        machine.env["MOCHA_GUARD_IMDS"] = imds.url
        machine.env["PATH"] = _bin_without_curl(tmp_path, python=False)
        fired = machine.timer_check(now=deadline + 1)
        assert imds.requests == []
    assert aws_api.parse_guard_report(fired).state == "fired" and f"deadline={deadline} " in fired
    assert "source=guard.conf (neither curl nor python3 to read IMDS)" in fired


def test_a_copy_from_a_baked_ami_is_not_powered_off_by_the_source_deadline(aws, tmp_path):
    inst = _launch(tmp_path)
    deadline = _deadline(inst)
    machine = Machine(tmp_path, inst["InstanceId"])
    machine.boot_user_data(inst["script"], now=deadline - 3600)
    # The baked AMI carries the source's guard; the copy boots with another instance id.
    (machine.root / "var/lib/cloud/data/instance-id").write_text("i-0copyfromthebake\n")
    out = machine.timer_check(now=deadline + 3600)
    assert aws_api.parse_guard_report(out).state == "idle"
    assert not any(c.startswith("poweroff") for c in machine.calls())


def test_without_systemd_the_one_shot_shutdown_still_aims_at_the_absolute_deadline(aws, tmp_path):
    inst = _launch(tmp_path)
    deadline = _deadline(inst)
    machine = Machine(tmp_path, inst["InstanceId"], systemd=False)
    out = machine.boot_user_data(inst["script"], now=deadline - 90 * 60)
    assert aws_api.parse_guard_report(out).state == "one-shot"
    assert machine.calls()[-1] == "shutdown -h +90 mocha-ansible max_hours reached"


def test_no_guard_no_deadline_tag_and_status_reports_what_the_instance_says(aws, tmp_path, isolated_home, capsys):
    from mocha_ansible.cli import main

    _launch(tmp_path, ec2_gpu_disable_auto_terminate=True)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert "mocha-ansible:deadline" not in {t["Key"] for t in inst["Tags"]}
    capsys.readouterr()
    assert main(["status", "--json", "--region", "us-east-1", "--all-owners"]) == 0
    [row] = json.loads(capsys.readouterr().out)["instances"]
    assert row["expires"] is None
    # The emulator's console holds no guard line: status says so instead of computing one.
    assert row["guard"] == "unreported"


@pytest.mark.parametrize(
    ("console", "state"),
    [
        ("boot\nmocha-ansible-guard: armed: deadline=1 now=0 instance=i-1\n", "armed"),
        ("[  5.1] mocha-ansible-guard[412]: mocha-ansible-guard: armed: x\nmocha-ansible-guard: fired: y\n", "fired"),
        ("Linux version 6.1\nlogin:", "unreported"),
    ],
)
def test_the_newest_guard_line_on_the_console_wins(console, state):
    assert aws_api.parse_guard_report(console).state == state
