"""Issue 32, items 1 and 2: text from AWS tags and from hosts is data. It never becomes an
Ansible template, a path out of the run folder, or raw control characters on the terminal.

Hostile text is planted where the real commands read it:
- the mocha-ansible:deployment tag, read by `teardown --yes` (without --deployment, and with
  --all-owners), and on instances by `status`, `ssh-config` (printed and --write) and
  `stop`/`start` of another deployment, over the AWS emulator;
- the julia and mocha fields of a host's results.json, read by `bake`;
- results.json's snapshot_file, read by mocha_cifar's converged fetch (its task files run on
  local hosts, as in test_converged_gate).
Each payload that Ansible would render runs `touch` on a marker under pwned/. No marker may
appear, nothing may be written outside the command's run folder, and no raw control character
may reach the output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from mocha_ansible.cli import main
from mocha_ansible.errors import ExitCode
from mocha_ansible.results import RUN_MARKER, RUN_NAME
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.helpers import ROOT, SANDBOX_DOUBLES, ansible_env
from tests.helpers import run_playbook as ansible_playbook

AMI = "ami-785db401"
MAKE_MOCHA_REPO = SANDBOX_DOUBLES / "julia_mocha_stand_in" / "make_mocha_repo.sh"
SNAPSHOT = "snapshot-000400.jld"
EARLIER_RUN = "20250101-000000-000000"


def payloads(root: Path, *, escape: bool = True) -> dict[str, str]:
    """kind -> hostile text. Each template would touch root/pwned/<kind>; each path points out of a run folder.

    escape: also ESC sequences (an OSC 52 clipboard write, a screen clear). A host's file can hold
    them; EC2's XML answers cannot carry them, so the emulator's tags get the other controls.
    """

    def touch(kind: str) -> str:
        return f"lookup('ansible.builtin.pipe', 'touch {root}/pwned/{kind}')"

    found = {
        "expression": "{{ " + touch("expression") + " }}",
        "statement": "{% if " + touch("statement") + " %}{% endif %}",
        "comment": "{# hidden #}{{ " + touch("comment") + " }}",
        "traversal": "../../../../escaped",
        "absolute": f"{root}/escaped",
        "control": "t\n\tfake line\x7f\x9b2J\u202e",
    }
    if escape:
        found["escape"] = "t\x1b]52;c;UFdORUQ=\x07\x1b[2J"
    return found


def raw_controls(text: str) -> list[str]:
    """Control and format characters other than newline: what a terminal would act on."""
    return sorted({repr(c) for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")})


def _tree(root: Path) -> set[str]:
    # ~/.ansible is Ansible's own temporary folder on the controller.
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if ".ansible" not in p.parts}


def written_outside(root: Path, before: set[str], run_dirs: Iterable[Path] = ()) -> list[str]:
    """What appeared under root since `before`, outside `run_dirs` and outside run folders made since."""
    new = _tree(root) - before
    allowed = {d.relative_to(root).as_posix() for d in run_dirs}
    allowed |= {p for p in new if p.count("/") == 1 and p.startswith("runs/") and RUN_NAME.match(p[5:])}
    return sorted(p for p in new if p != "runs" and not any(p == a or p.startswith(a + "/") for a in allowed))


@pytest.fixture
def pwned(tmp_path: Path) -> Path:
    (tmp_path / "pwned").mkdir()
    return tmp_path / "pwned"


def _tags(deployment: str, owner: str = "alice") -> list[dict[str, str]]:
    return [
        {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
        {"Key": "mocha-ansible:deployment", "Value": deployment},
        {"Key": "mocha-ansible:owner", "Value": owner},
    ]


# -- teardown: deployment names from tags ---------------------------------------------


@pytest.mark.usefixtures("aws", "isolated_home")
@pytest.mark.parametrize("owners", [[], ["--all-owners"]], ids=["own", "all-owners"])
def test_teardown_takes_deployment_tags_as_data(tmp_path, pwned, monkeypatch, capfd, owners):
    monkeypatch.setenv("LOGNAME", "alice")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    hostile = payloads(tmp_path, escape=False)
    for n, deployment in enumerate([*hostile.values(), "t"]):
        ec2.create_security_group(
            GroupName=f"taint-{n}", Description="taint probe",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags(deployment)}],
        )  # fmt: skip
    before = _tree(tmp_path)

    code = main(["teardown", "--yes", "--region", "us-east-1", *owners, "--key-dir", str(tmp_path / "keys")])
    out = capfd.readouterr()

    assert sorted(pwned.iterdir()) == []
    assert written_outside(tmp_path, before) == []
    assert raw_controls(out.out + out.err) == []
    # Deployment t is gone; each hostile tag is skipped on one line naming it escaped, and its
    # group is left and counted as left over.
    groups = [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"].startswith("taint-")]
    left = sorted(t["Value"] for g in groups for t in g["Tags"] if t["Key"] == "mocha-ansible:deployment")
    assert left == sorted(hostile.values())
    for text in hostile.values():
        [line] = [line for line in out.out.splitlines() if repr(text) in line]
        assert "skipped deployment tag" in line and "accepted:" in line
    assert code == ExitCode.PLAY_FAILED and "Still present in us-east-1" in out.out


@pytest.mark.usefixtures("aws", "isolated_home")
def test_status_ssh_config_stop_and_start_take_instance_tags_as_data(tmp_path, pwned, monkeypatch, capfd):
    """Instances whose deployment tag is hostile, beside deployment t: every command that lists
    or acts on instances by tag renders none of them, writes nothing outside its run folder or
    the SSH config it was asked to write (where no tag makes a line of its own), and prints no
    raw control character. Nothing connects: the emulator's addresses are invented."""
    monkeypatch.setenv("LOGNAME", "alice")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    hostile = {**payloads(tmp_path, escape=False), "ssh": f"x\nHost *\n  ProxyCommand touch {pwned}/ssh"}
    for deployment in [*hostile.values(), "t"]:
        ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(deployment)}],
        )  # fmt: skip
    config = tmp_path / "ssh" / "config"
    before = _tree(tmp_path)
    keys = ["--key-dir", str(tmp_path / "keys")]
    codes = {
        "status": main(["status", "--region", "us-east-1", "--all-owners"]),
        "status --json": main(["status", "--json", "--region", "us-east-1", "--all-owners"]),
        "ssh-config": main(["ssh-config", "--region", "us-east-1", "--all-owners", *keys]),
        "ssh-config --write": main(
            ["ssh-config", "--region", "us-east-1", "--all-owners", *keys, "--write", "--ssh-config", str(config)]
        ),
        "stop": main(["stop", "--region", "us-east-1", "--deployment", "t", *keys]),
        "start": main(["start", "--region", "us-east-1", "--deployment", "t", *keys]),
    }
    out = capfd.readouterr()

    assert sorted(pwned.iterdir()) == []
    assert written_outside(tmp_path, before, [config.parent]) == []
    assert raw_controls(out.out + out.err) == [], codes
    assert set(codes.values()) == {ExitCode.OK}, codes
    written = config.read_text()
    assert "Host mocha-t-" in written, "deployment t's block is missing: the test is not testing"
    assert not [line for line in written.splitlines() if "ProxyCommand" in line or line.strip() == "Host *"]
    # stop and start touched deployment t alone.
    states = {
        tag["Value"]: inst["State"]["Name"]
        for r in ec2.describe_instances()["Reservations"]
        for inst in r["Instances"]
        for tag in inst["Tags"]
        if tag["Key"] == "mocha-ansible:deployment"
    }
    assert {d: states[d] for d in hostile.values()} == dict.fromkeys(hostile.values(), "running"), codes


# -- bake: versions from a host's results.json ------------------------------------------


def _provisioned(runs: Path, report: dict[str, Any]) -> Path:
    """An earlier successful provision of deployment t whose host brought `report` home as results.json."""
    run = runs / EARLIER_RUN
    (run / "hosts" / "i-0123456789abcdef0").mkdir(parents=True)
    (run / RUN_MARKER).write_text("")
    record = {"command": "provision", "status": "ok", "extravars": {"ec2_gpu_deployment": "t"}}
    (run / "run.json").write_text(json.dumps(record))
    (run / "hosts" / "i-0123456789abcdef0" / "results.json").write_text(json.dumps(report))
    return run


@pytest.fixture
def alices_instance(aws, isolated_home, monkeypatch) -> Any:
    """A running instance of Alice's deployment t: what bake makes its image of."""
    monkeypatch.setenv("LOGNAME", "alice")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags("t")}],
    )  # fmt: skip
    return ec2


@pytest.mark.parametrize("kind", list(payloads(Path("/"))))
@pytest.mark.parametrize("field", ["julia", "mocha"])
def test_bake_takes_the_hosts_versions_as_data(alices_instance, tmp_path, pwned, capfd, field, kind):  # noqa: PLR0917 (pytest's parameters)
    hostile = payloads(tmp_path)[kind]
    _provisioned(tmp_path / "runs", {"julia": "0.5", "mocha": "0.2.0", field: hostile})
    before = _tree(tmp_path)

    code = main(["bake", "--region", "us-east-1", "--deployment", "t"])
    out = capfd.readouterr()

    assert sorted(pwned.iterdir()) == []
    assert alices_instance.describe_images(Owners=["self"])["Images"] == []
    assert written_outside(tmp_path, before) == []
    assert raw_controls(out.out + out.err) == []
    assert code == ExitCode.PREFLIGHT_REFUSED
    [line] = out.err.splitlines()
    assert f"{field} {hostile!r}" in line and "accepted:" in line


def test_bake_of_plain_versions_names_and_tags_the_image_with_them(alices_instance, tmp_path, capfd):
    """The untrusted route still carries what it should: the name and tags reach AWS verbatim."""
    _provisioned(tmp_path / "runs", {"julia": "0.5", "mocha": "0.2.0"})
    assert main(["bake", "--region", "us-east-1", "--deployment", "t"]) == ExitCode.OK
    [image] = alices_instance.describe_images(Owners=["self"])["Images"]
    assert image["Name"].startswith("mocha-ansible-t-julia-0.5-mocha-0.2.0-")
    tags = {t["Key"]: t["Value"] for t in image["Tags"]}
    assert tags["mocha-ansible:julia"] == "0.5" and tags["mocha-ansible:mocha"] == "0.2.0"
    assert image["Name"] in capfd.readouterr().out


# -- the runner: what is handed over as untrusted is never rendered -----------------------


def test_untrusted_values_reach_the_play_verbatim_and_nothing_runs(tmp_path, pwned):
    hostile = payloads(tmp_path)
    nested = {"list": [hostile["expression"]], hostile["statement"]: {"n": 1, "ok": True}}
    seen = tmp_path / "seen.json"
    job = PlaybookJob(
        playbook=ROOT / "tests/integration/playbooks/echo_untrusted.yml", ident="taint",
        extravars={"echo_out": str(seen)}, untrusted={"echo_values": hostile, "echo_nested": nested},
        needs_aws=False,
    )  # fmt: skip
    assert run_playbook(job, tmp_path / "artifacts").ok
    assert sorted(pwned.iterdir()) == []
    assert json.loads(seen.read_text()) == {
        "values": hostile, "nested": nested, "joined": [f"x-{text}" for text in hostile.values()]
    }  # fmt: skip


# -- mocha_cifar's converged fetch: the snapshot's name from results.json ------------------


def _converged_hosts(tmp_path: Path, names: dict[str, Any]) -> Path:
    """An inventory of local hosts, one per snapshot_file in `names`, sharing one stand-in Mocha tree."""
    mocha = tmp_path / "mocha"
    subprocess.run([str(MAKE_MOCHA_REPO), str(mocha)], check=True)
    (mocha / "deps" / "libmochaext.so").write_text("libmochaext.so\n")
    hosts: dict[str, Any] = {}
    for host, name in names.items():
        home = tmp_path / "hosts" / host
        (home / "logs").mkdir(parents=True)
        (home / "facts").mkdir()
        # The role's own run folder of the example (mocha_cifar_example), as a full run leaves it.
        example = home / "cifar10"
        for path in (
            example / "convert.jl", example / "cifar10.jl", example / "cifar10-mocha-ansible.jl",
            example / ".mocha-ansible-trained.json", example / "data" / ".mocha-ansible-converted",
            example / "data" / "train.txt", example / "data" / "test.txt", example / "snapshots" / SNAPSHOT,
        ):  # fmt: skip
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{path.name}\n")
        report = {"snapshot": f"{example}/snapshots/{SNAPSHOT}", "snapshot_file": name}
        (home / "logs" / "results.json").write_text(json.dumps(report))
        for path in (home / "logs" / "train.log", home / "facts" / "mocha.fact", home / "mocha.sh"):
            path.write_text(f"{path.name}\n")
        hosts[host] = {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "mocha_cifar_home": str(home), "mocha_cifar_facts_dir": str(home / "facts"),
            "mocha_cifar_profile_file": str(home / "mocha.sh"),
            # What preflight and pkg.yml found and decided on the host.
            "mocha_cifar_julia_version": {"stdout": "julia version 0.6.4"},
            "mocha_cifar_pkg_dir": {"stdout": str(mocha)},
            "mocha_cifar_cuda_on": False, "mocha_cifar_cudnn_route": "", "mocha_cifar_vcpus": 2,
        }  # fmt: skip
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return inventory


def test_converged_fetch_keeps_the_hosts_snapshot_name_inside_the_run_folder(tmp_path, pwned):
    hostile = payloads(tmp_path)
    inventory = _converged_hosts(tmp_path, {"honest": SNAPSHOT, **hostile, "dotdot": "..", "number": 7})
    run = tmp_path / "runs" / EARLIER_RUN
    (run / "hosts").mkdir(parents=True)

    def gate(*steps: str) -> subprocess.CompletedProcess[str]:
        # The runner is a role var (runuser as the Mocha user): only an extra var overrides it.
        values = {"gate_steps": list(steps), "mocha_cifar_results_dir": str(run / "hosts"), "mocha_cifar_runner": []}
        return ansible_playbook(
            "tests/integration/playbooks/converged_hosts.yml", "-i", str(inventory), "-e", json.dumps(values),
            env=ansible_env({"ANSIBLE_NOCOLOR": "1"}),
        )  # fmt: skip

    # Each host records the state its full run left (results.json included), so the next run
    # finds it converged and fetches its snapshot under the name results.json gives.
    recorded = gate("converged.yml", "converged_record.yml")
    assert recorded.returncode == 0, recorded.stdout[-3000:]
    before = _tree(tmp_path)
    fetched = gate("converged.yml")

    assert sorted(pwned.iterdir()) == []
    assert written_outside(tmp_path, before, [run]) == []
    honest = sorted(p.name for p in (run / "hosts" / "honest").iterdir())
    assert honest == ["results.json", SNAPSHOT, "train.log"]
    for host in [*hostile, "dotdot", "number"]:
        assert sorted(p.name for p in (run / "hosts" / host).iterdir()) == ["results.json", "train.log"], host
        said = f"mocha_cifar: the snapshot_file {host} gives"
        [failure] = [line for line in fetched.stdout.splitlines() if line.startswith("[ERROR]") and said in line]
        assert "accepted: snapshot-NNNNNN.jld" in failure, failure
    assert raw_controls(fetched.stdout) == []
    assert fetched.returncode != 0
