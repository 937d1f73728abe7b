"""The CLI surface: help, exit codes, one-line errors, and small pure helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from mocha_ansible import aws
from mocha_ansible.arguments import parse_extra_vars
from mocha_ansible.cli import build_parser, main
from mocha_ansible.endpoint import ENDPOINT_VARIABLES
from mocha_ansible.errors import ConfigError
from mocha_ansible.runner import is_secret_name, safe_environ
from mocha_ansible.ssh_config import ssh_config_text
from tests.helpers import ROOT

SUBCOMMANDS = ("provision", "preflight", "status", "teardown", "ssh-config", "results")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mocha_ansible", *args],
        cwd=ROOT, env=env or dict(os.environ), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_help_lists_every_subcommand():
    proc = _cli("--help")
    assert proc.returncode == 0
    for name in SUBCOMMANDS:
        assert name in proc.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help_with_defaults(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--json" in out
    if name in ("provision", "preflight"):
        for flag in ("--region", "--instance-type", "--julia-version", "--cuda", "--max-iter", "--stages"):
            assert flag in out
        assert "(default: us-east-1)" in out


def test_bad_config_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("count: many\n")
    proc = _cli("provision", "--config", str(bad))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "count=" in lines[0] and "accepted: an integer" in lines[0]
    assert "Traceback" not in proc.stderr


def test_unknown_flag_is_a_one_line_usage_error(capsys):
    assert main(["provision", "--regoin", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unrecognized arguments: --regoin" in err[0]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["provison"], "invalid choice: 'provison'"),
        (["provision", "--instace-type", "g4dn.xlarge"], "unrecognized arguments: --instace-type"),
        (["teardown", "--deployement", "x"], "unrecognized arguments: --deployement"),
    ],
)
def test_a_misspelled_subcommand_or_flag_gets_a_guess_and_one_prefix(capsys, argv, said):
    """issue 34 items 8 and 9: "did you mean", as regions and config keys already get, and
    "mocha-ansible: error:" once, not "mocha-ansible: error: mocha-ansible: ..."."""
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    guess = {"provison": "provision", "--instace-type": "--instance-type", "--deployement": "--deployment"}
    wrong = next(a for a in argv if a in guess)
    assert said in line and f"(did you mean {guess[wrong]!r}?)" in line, line
    assert line.count("mocha-ansible:") == 1, line


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "provision" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert "mocha-ansible 0.1.0" in capsys.readouterr().out


def test_extra_vars_forms(tmp_path):
    f = tmp_path / "vars.yml"
    f.write_text("cuda_verify_min_gpus: 2\n")
    assert parse_extra_vars(
        [f"@{f}", '{"mocha_cifar_max_iter": 1000}', "julia_build_jobs=4 julia_build_run_tests=true"]
    ) == {
        "cuda_verify_min_gpus": 2,
        "mocha_cifar_max_iter": 1000,
        "julia_build_jobs": 4,
        "julia_build_run_tests": True,
    }
    with pytest.raises(ConfigError, match="is not KEY=VALUE"):
        parse_extra_vars(["justaword"])


def test_secret_env_names_are_dropped():
    env = {
        "PATH": "/bin",
        "AWS_PROFILE": "dev",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_SESSION_TOKEN": "t",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t2",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
        "GITHUB_TOKEN": "g",
        "RANDOM_THING": "x",
    }
    assert safe_environ(env) == {"PATH": "/bin", "AWS_PROFILE": "dev", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"}
    assert is_secret_name("ANSIBLE_BECOME_PASS") and not is_secret_name("ANSIBLE_VAULT_PASSWORD_FILE")


@pytest.fixture
def aws_own_endpoint(monkeypatch):
    """No endpoint override: boto3's own choice, AWS's real addresses."""
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("aws_own_endpoint")
def test_ssh_config_blocks(tmp_path):
    key = tmp_path / "mocha-ansible-default.pem"
    key.write_text("k")
    inst = aws.Instance("us-east-1", "i-1", "g4dn.xlarge", "running", "198.51.100.7", None, datetime.now(UTC),
                        {"mocha-ansible:ssh-user": "ubuntu", aws.TAG_DEPLOYMENT: "default"})  # fmt: skip
    stopped = aws.Instance("us-east-1", "i-2", "g4dn.xlarge", "stopped", None, None, None, {})
    text = ssh_config_text([inst, stopped], tmp_path)
    assert text.splitlines()[:3] == ["Host mocha-1", "  HostName 198.51.100.7", "  User ubuntu"]
    assert f"IdentityFile {key}" in text
    assert "i-2" not in text and text.count("Host ") == 1


def test_ssh_config_names_no_address_an_emulator_made_up(tmp_path, monkeypatch):
    """Issue 34 item 1: `ssh mocha-1` must not reach the stranger behind an invented address."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    inst = aws.Instance("us-east-1", "i-1", "g4dn.xlarge", "running", "54.214.75.214", None, None, {})
    text = ssh_config_text([inst], tmp_path)
    assert [line.split() for line in text.splitlines() if line.split()[0] == "HostName"] == [
        ["HostName", "invented-address.invalid"]
    ], text
    assert "# 54.214.75.214 was made up by the endpoint http://127.0.0.1:5000" in text
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://ec2.us-east-1.amazonaws.com")
    assert "  HostName 54.214.75.214" in ssh_config_text([inst], tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["provision", "--down"], "--down only applies with --sandbox"),
        (["provision", "--sandbox", "--target", "localhost"], "--sandbox and --target exclude each other"),
        (["provision", "--target", "localhost", "--after", "terminate"], "after=terminate only applies"),
        (["provision", "--spot", "--after", "stop"], "after=stop cannot stop a spot instance"),
        (["provision", "--after", "pause"], '--after (after)="pause" is invalid'),
        (["provision", "--julia-version", "v0.7.0"], "julia_version=v0.7.0 has no Mocha release"),
    ],
)
def test_sandbox_and_lifecycle_flags_refuse_what_cannot_work(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_status_and_teardown_look_in_every_region_a_run_could_use(tmp_path):
    from mocha_ansible import results
    from mocha_ansible.commands import _regions

    run = results.new_run_dir(tmp_path)
    results.write_record(run, {"extravars": {"ec2_gpu_region": "eu-west-1", "ec2_gpu_regions": ["us-west-2"]}})
    args = build_parser().parse_args(["--runs-dir", str(tmp_path), "status"])
    assert _regions(args) == ["us-east-1", "eu-west-1", "us-west-2"]
    args = build_parser().parse_args(["--runs-dir", str(tmp_path), "status", "--region", "ap-south-1"])
    assert _regions(args) == ["ap-south-1"]


def test_no_color_is_respected(monkeypatch):
    from mocha_ansible.progress import RichProgress

    monkeypatch.setenv("NO_COLOR", "1")
    assert RichProgress().console.no_color is True
    monkeypatch.delenv("NO_COLOR")
    assert RichProgress().console.no_color is False


@pytest.mark.parametrize(
    ("tags", "public_ip", "reason"),
    [
        ({"mocha-ansible:ssh-user": "ubuntu\n  ProxyCommand touch /tmp/pwned"}, "198.51.100.7", "is not a login name"),
        ({aws.TAG_DEPLOYMENT: "x\nHost *\n  ProxyCommand id"}, "198.51.100.7", "is not a deployment name"),
        ({aws.TAG_DEPLOYMENT: "../../etc/passwd"}, "198.51.100.7", "is not a deployment name"),
        ({}, "198.51.100.7\n  LocalCommand id", "is not an IP address"),
    ],
)
@pytest.mark.usefixtures("aws_own_endpoint")
def test_ssh_config_refuses_tag_values_that_would_become_config_lines(tmp_path, capsys, tags, public_ip, reason):
    """Issue 22: anyone who may tag the instance writes these values; they must not reach ~/.ssh/config."""
    bad = aws.Instance("us-east-1", "i-bad", "g4dn.xlarge", "running", public_ip, None, None, tags)
    good = aws.Instance("us-east-1", "i-good", "g4dn.xlarge", "running", "198.51.100.8", None, None, {})
    text = ssh_config_text([bad, good], tmp_path)
    assert "i-bad" not in text and "ProxyCommand" not in text and "LocalCommand" not in text
    assert "HostName 198.51.100.8" in text and text.count("Host ") == 1
    err = capsys.readouterr().err
    assert "warning: skipping i-bad" in err and reason in err
