"""`mocha-ansible logs` (issue 23): where each host's build, test and training logs live and their last lines,
reached as the roles reach the host: SSH with ssh-config's Host blocks on AWS (emulator), `docker exec` on a
sandbox container. ssh and docker are the doubles in tests/doubles/remote_shell: they record their argv and run
the command string on this machine, so nothing connects to the emulator's invented addresses. Against an
emulator `logs` refuses to reach any host; the SSH tests here take the endpoint for AWS's own (`as_if_aws`),
which only the ssh double makes safe."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from mocha_ansible import endpoint, host_logs, results
from mocha_ansible.cli import main
from tests.integration.test_taint import payloads, raw_controls

DOUBLES = Path(__file__).resolve().parents[1] / "doubles" / "remote_shell"
TAGS = [
    {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
    {"Key": "mocha-ansible:deployment", "Value": "t"},
    {"Key": "mocha-ansible:owner", "Value": "alice"},
]


@pytest.fixture
def host_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A provision run whose recorded role variables put the host's logs under tmp_path, and those logs."""
    cache, home = tmp_path / "cache", tmp_path / "mocha"
    (home / "logs").mkdir(parents=True)
    cache.mkdir()
    (cache / "build-v0.6.4.log").write_text("CC src/a.o\nLINK usr/lib/libjulia.so\n")
    (home / "logs" / "train.log").write_text("".join(f"iter {i}\n" for i in range(30)))
    record = {
        "command": "provision",
        "extravars": {"julia_build_cache_dir": str(cache), "mocha_cifar_home": str(home),
                      "julia_build_method": "source",  # a git-tag build: the method that writes build-*.log
                      "ec2_gpu_deployment": "t", "ec2_gpu_region": "us-east-1"},
    }  # fmt: skip
    results.write_record(results.new_run_dir(tmp_path / "runs"), record)
    monkeypatch.setenv("PATH", f"{DOUBLES}:{Path('/usr/bin')}:{Path('/bin')}")
    monkeypatch.setenv("REMOTE_SHELL_LOG", str(tmp_path / "remote.log"))
    monkeypatch.setenv("LOGNAME", "alice")
    return {"cache": cache, "home": home, "runs": tmp_path / "runs", "calls": tmp_path / "remote.log"}


@pytest.fixture
def as_if_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's endpoint taken for AWS's own: safe only because ssh is the remote_shell double."""
    monkeypatch.setattr(endpoint, "is_aws_own", lambda url: True)


def _tagged_instance() -> dict:
    """One instance of deployment t, owner alice, in the emulator: the host `logs` looks for."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [inst] = ec2.run_instances(
        ImageId="ami-785db401", MinCount=1, MaxCount=1, InstanceType="g4dn.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": TAGS}],
    )["Instances"]  # fmt: skip
    return inst


def _calls(path: Path) -> list[list[str]]:
    return [line.rstrip("\x1f").split("\x1f") for line in path.read_text().splitlines()]


def test_logs_against_an_emulator_reach_no_host(aws, host_files, isolated_home, capfd):
    """Issue 34 item 1: the emulator's addresses are made up; logs says so in one line, exit 2, and runs no ssh."""
    _tagged_instance()
    assert main(["logs", "--runs-dir", str(host_files["runs"])]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not AWS's own" in err[0] and "accepted: AWS's own endpoint, or --sandbox" in err[0]
    assert not host_files["calls"].exists()


@pytest.mark.usefixtures("as_if_aws")
def test_logs_over_ssh_says_where_each_log_lives_and_tails_it(aws, host_files, isolated_home, capfd):
    inst = _tagged_instance()

    assert main(["logs", "--runs-dir", str(host_files["runs"]), "--lines", "2"]) == 0
    out = capfd.readouterr().out
    assert f"### mocha-1 ({inst['InstanceId']})" in out
    assert f"== build {host_files['cache']}/build-v0.6.4.log\nCC src/a.o\nLINK usr/lib/libjulia.so\n" in out
    assert f"== training {host_files['home']}/logs/train.log\niter 28\niter 29\n" in out
    assert f"-- test {host_files['home']}/logs/pkg-test*.log (none yet)" in out
    [call] = _calls(host_files["calls"])
    assert call[:2] == ["ssh", "-F"] and call[call.index("BatchMode=yes") + 1 :][:3] == ["mocha-1", "sudo", "-n"]

    assert main(["--json", "logs", "--runs-dir", str(host_files["runs"]), "--host", inst["InstanceId"]]) == 0
    [line] = capfd.readouterr().out.splitlines()
    shown = json.loads(line)
    assert (shown["type"], shown["host"], shown["rc"]) == ("logs", "mocha-1", 0)
    assert shown["instance_id"] == inst["InstanceId"]
    by_kind = {entry["kind"]: entry for entry in shown["logs"] if entry["found"]}
    assert by_kind["training"]["tail"][-1] == "iter 29" and len(by_kind["training"]["tail"]) == 20


def test_logs_of_a_sandbox_run_use_docker_exec_on_its_container(host_files, isolated_home, monkeypatch, capfd):
    [run] = results.list_runs(host_files["runs"])
    results.write_record(run.path, {**run.record, "sandbox": True})
    monkeypatch.setenv("DOCKER_DOUBLE_CONTAINERS", "mocha-sandbox-i-0abc")

    assert main(["logs", "latest", "--runs-dir", str(host_files["runs"]), "--host", "i-0abc", "-n", "1"]) == 0
    out = capfd.readouterr().out
    assert "### mocha-sandbox-i-0abc (i-0abc)" in out and "== training" in out and "iter 29\n" in out
    [call] = _calls(host_files["calls"])
    assert call[:5] == ["docker", "exec", "mocha-sandbox-i-0abc", "sh", "-c"]


def test_logs_bad_host_is_a_one_line_error_exit_2(host_files, isolated_home, monkeypatch, capfd):
    [run] = results.list_runs(host_files["runs"])
    results.write_record(run.path, {**run.record, "sandbox": True})
    monkeypatch.setenv("DOCKER_DOUBLE_CONTAINERS", "mocha-sandbox-i-0abc")

    assert main(["logs", "--runs-dir", str(host_files["runs"]), "--host", "mocha-9"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--host 'mocha-9'" in err[0] and "accepted: mocha-sandbox-i-0abc" in err[0]
    assert not host_files["calls"].exists()


@pytest.mark.usefixtures("as_if_aws")
def test_logs_show_what_the_host_wrote_escaped(aws, host_files, isolated_home, capfd):
    """Issue 32 item 9: a log's lines and a log's file name are the host's, shown escaped, never raw."""
    hostile = payloads(Path("/"))
    (host_files["home"] / "logs" / "train.log").write_text("".join(f"{text}\n" for text in hostile.values()))
    (host_files["cache"] / f"build-{hostile['escape']}.log").write_text(f"{hostile['control']}\n")
    _tagged_instance()

    assert main(["logs", "--runs-dir", str(host_files["runs"])]) == 0
    out = capfd.readouterr()
    assert raw_controls(out.out + out.err) == []
    # A log is lines: a newline in one ends a line there, and each line shows escaped.
    for line in "\n".join(hostile.values()).splitlines():
        assert f"\n{repr(line)[1:-1]}\n" in out.out
    assert f"== build {host_files['cache']}/build-{repr(hostile['escape'])[1:-1]}.log\n" in out.out


def test_only_a_built_julia_has_a_build_log_to_look_for():
    """Issue 34 item 10: the default binary route is unpacked, never built; "build ... (none yet)" misled."""

    def build_globs(method: str) -> list[str]:
        return [spec.glob for spec in host_logs.log_specs({"julia_build_method": method}) if spec.kind == "build"]

    assert build_globs("binary") == []
    assert build_globs("source") == ["/var/cache/mocha-ansible/julia/build-*.log"]
    assert build_globs("source-full") == ["/var/cache/mocha-ansible/julia/full-*.log"]
    default = host_logs.run_vars(None)
    assert default["julia_build_method"] == "binary" and "build" not in {s.kind for s in host_logs.log_specs(default)}
