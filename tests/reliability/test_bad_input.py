"""The bad-input battery: every case is one line on stderr naming the field and what
is accepted, the documented exit code, no traceback, and nothing in the emulator.

Cases run `provision --yes` (not --check) in-process against the AWS emulator, so a
case that slipped through validation would really create resources and fail the
"nothing created" assertion. Role variables are also judged by ansible-playbook
itself (exit code 2 is ansible-playbook's "a host failed"), against the emulator.
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from mocha_ansible.cli import main
from mocha_ansible.config import default_values
from mocha_ansible.settings import ROLE_VARS
from tests.conftest import project_resources
from tests.helpers import ansible_env, run_playbook

NOTHING = {"instances": [], "security_groups": [], "key_pairs": [], "launch_templates": []}

# (flags after `provision --yes`, text that names the field, text that says what is accepted)
FLAG_CASES = [
    (["--count", "three"], "--count", "an integer from 1 to 32"),
    (["--count", "0"], "count", "an integer from 1 to 32"),
    (["--count", "33"], "count", "an integer from 1 to 32"),
    (["--max-hours", "0"], "max_hours", "greater than 0"),
    (["--max-hours", "abc"], "--max-hours", "greater than 0"),
    (["--max-hours", "1000"], "max_hours", "at most 720"),
    (["--max-iter", "0"], "max_iter", "from 1 to 10000000"),
    (["--region", "moon-1"], "region", "AWS region"),
    (["--region", ""], "region", "AWS region"),
    (["--regions", "us-east-1,mars-2"], "regions", "AWS region names"),
    (["--instance-type", "GPU"], "instance_type", "such as g4dn.xlarge"),
    (["--ami", "ami-xyz"], "ami", "ami-xxxxxxxx"),
    # A preset the role names but cannot manage says why, and what to use instead.
    (["--ami", "amazon-linux-2"], "cannot install packages on Amazon Linux 2", "dlami-al2023"),
    (["--ssh-cidr", "10.0.0.300/32"], "ssh_cidr", "CIDR"),
    (["--ssh-cidr", "10.0.0.1"], "ssh_cidr", "CIDR"),
    (["--ssh-cidr", "10.0.0.1/24"], "ssh_cidr", "CIDR"),  # host bits set
    (["--key-name", "my key"], "key_name", "key pair name"),
    (["--owner", "ünïcödé"], "owner", "letters, digits"),
    (["--deployment", "x;rm -rf /"], "deployment", "letters, digits"),
    (["--deployment", ""], "deployment", "letters, digits"),
    (["--deployment", "$(reboot)"], "deployment", "letters, digits"),
    (["--tag", "team=x; touch /tmp/pwned"], "tags", "letters, digits"),
    (["--tag", "team=`id`"], "tags", "letters, digits"),
    (["--tag", "aws:owner=me"], "tags", "not start with aws:"),
    (["--tag", "novalue"], "--tag", "KEY=VALUE"),
    (["--tag", "team=caf\u00e9"], "tags", "letters, digits"),
    (["--julia-version", "0.5"], "julia_version", "v0.5.0"),
    (["--julia-version", "v0.7.0"], "julia_version", "Julia 0.4, 0.5, 0.6"),
    (["--pkg-manager", "zypper"], "pkg_manager", "apt, yum or auto"),
    (["--stages", "provision,deploy"], "stages", "subset of"),
    (["--stages", ","], "stages", "subset of"),
    (["--julia-repo", "-oProxyCommand=touch /tmp/pwned"], "julia_repo", "git URL"),
    (["--julia-repo", "https://example.com/julia.git; rm -rf ~"], "julia_repo", "git URL"),
    (["--mocha-source", "pkg; reboot"], "mocha_source", "pkg, an https"),
    (["--dataset-url", "ftp://example.com/cifar.tgz"], "dataset_url", "http, https or file:/// URL"),
    (["--dataset-url", "not a url"], "dataset_url", "http, https or file:/// URL"),
    (["--dataset-checksum", "md5:xyz"], "dataset_checksum", "ALGORITHM:HEX"),
    (["--dataset-checksum", "crc32:abcd1234"], "dataset_checksum", "ALGORITHM:HEX"),
    (["--after", "pause"], "after", "keep, stop, terminate"),
    (["--spot", "--after", "stop"], "after", "keep or terminate with spot"),
    (["--cuda", "--instance-type", "m5.large"], "instance_type", "a type from"),
    (["--target", "bad host!"], "target", "localhost, a hostname"),
    (["--target", "localhost", "--after", "terminate"], "after", "keep with target"),
    (["--ssh-key", "/nonexistent/key.pem", "--target", "gpu.example.com"], "ssh_key", "readable private key"),
    (["--ssh-key", "KEYFILE"], "ssh_key", "unset without target"),
    (["--sandbox", "--target", "localhost"], "--target", "one of them"),
    (["--down"], "--down", "--sandbox --down"),
    (["-e", "ansible_user=root"], "extra_vars", "role variables whose names start with"),
    (["-e", "ec2_gpu_root_volume_size=abc"], "ec2_gpu_root_volume_size", "an integer"),
    (["-e", "ec2_gpu_root_volume_type=floppy"], "ec2_gpu_root_volume_type", "one of gp2, gp3"),
    (["-e", "ec2_gpu_cuont=1"], "ec2_gpu_cuont", "did you mean 'ec2_gpu_count'"),
    (["-e", "{not: [valid"], "--extra-vars", "a JSON/YAML mapping"),
    (["-e", "mocha_cifar_cuda_device=first"], "mocha_cifar_cuda_device", "an integer"),
    # issue 14.5: values the roles refuse, refused by the CLI too (one set of patterns)
    (["--mocha-source", "ssh://git@github.com/pluskid/Mocha.jl.git"], "mocha_source", "no SSH"),
    (["--mocha-source", "git@github.com:pluskid/Mocha.jl.git"], "mocha_source", "no SSH"),
    (["--julia-repo", "ssh://git@github.com/JuliaLang/julia.git"], "julia_repo", "no SSH"),
    (["--region", "us-iso-east-1"], "region", "no ISO regions"),
    (["--regions", "us-east-1,us-isob-east-1"], "regions", "AWS region names"),
    (["--dataset-checksum", "sha256:abc"], "dataset_checksum", "that digest's length"),
    (["--julia-version", "v0.5.0 "], "julia_version", "v0.5.0"),
    # issue 14.7: empty, whitespace, the wrong family, and valid syntax that names nothing
    (["--instance-type", "t2.micro"], "instance_type", "--no-cuda"),
    # issue 34.8: a typo of a real type, and a well-formed name EC2 does not have
    (["--instance-type", "g4dn.xlarg"], "instance_type", "did you mean 'g4dn.xlarge'"),
    (["--instance-type", "g9x.xlarge"], "instance_type", "names no EC2 instance type"),
    (["--instance-type", "m5.large", "--stages", "provision"], "instance_type", "a type from"),
    (["--region", " "], "region", "AWS region"),
    (["--region", "us-east-9"], "region", "names no AWS region"),
    (["--region", "US-EAST-1"], "region", "AWS region"),
    (["--regions", "eu-west-9"], "regions", "AWS region names"),
    (["--instance-type", ""], "instance_type", "such as g4dn.xlarge"),
    (["--instance-type", " "], "instance_type", "such as g4dn.xlarge"),
    (["--ami", ""], "ami", "ami-xxxxxxxx"),
    (["--key-name", " "], "key_name", "key pair name"),
    (["--ssh-cidr", " "], "ssh_cidr", "CIDR"),
    (["--owner", ""], "owner", "letters, digits"),
    (["--owner", " "], "owner", "letters, digits"),
    (["--deployment", " "], "deployment", "letters, digits"),
    (["--julia-version", ""], "julia_version", "v0.5.0"),
    (["--julia-repo", ""], "julia_repo", "git:// URL"),
    (["--julia-repo", " "], "julia_repo", "git:// URL"),
    (["--mocha-source", ""], "mocha_source", "pkg, an https"),
    (["--dataset-url", ""], "dataset_url", "file:/// URL"),
    (["--dataset-checksum", ""], "dataset_checksum", "ALGORITHM:HEX"),
    (["--count", ""], "--count", "an integer from 1 to 32"),
    (["--max-hours", " "], "--max-hours", "greater than 0"),
    (["--max-iter", ""], "--max-iter", "from 1 to 10000000"),
    (["--pkg-manager", ""], "pkg_manager", "apt, yum or auto"),
    (["--after", ""], "after", "keep, stop, terminate"),
    (["--target", ""], "target", "localhost, a hostname"),
    (["--target", " "], "target", "localhost, a hostname"),
    (["--ssh-key", "", "--target", "gpu.example.com"], "ssh_key", "readable private key"),
    (["--stages", ""], "stages", "subset of"),
    (["--config", ""], "is not readable", "a readable UTF-8 YAML file"),
    (["-e", ""], "--extra-vars", "KEY=VALUE"),
    (["-e", " "], "--extra-vars", "KEY=VALUE"),
    (["--tag", "=v"], "--tag", "KEY=VALUE"),
    # issue 22: SSH CIDRs parsed strictly, and no user:password@ in URLs
    (["--ssh-cidr", "1.2.3.4/0"], "ssh_cidr", "host bits"),
    (["--ssh-cidr", "0.0.0.0/1"], "ssh_cidr", "ec2_gpu_ssh_open_world=true"),
    (["--ssh-cidr", "0.0.0.0/0"], "ssh_cidr", "ec2_gpu_ssh_open_world=true"),
    (["--ssh-cidr", "198.51.100.0/23"], "ssh_cidr", "/24 or narrower"),
    (["--ssh-cidr", "2001:db8::/48"], "ssh_cidr", "/56 or narrower"),
    (["--ssh-cidr", "2001:db8::1/56"], "ssh_cidr", "host bits"),
    (["-e", "ec2_gpu_ssh_cidr=1.2.3.4/0"], "ec2_gpu_ssh_cidr", "use --ssh-cidr"),
    (["--ssh-cidr", "0.0.0.0/1", "-e", "ec2_gpu_ssh_open_world=maybe"], "ec2_gpu_ssh_open_world", "true or false"),
    (["--julia-repo", "https://user:token@github.com/JuliaLang/julia.git"], "julia_repo", "user:password@"),
    (["--mocha-source", "https://token@github.com/pluskid/Mocha.jl.git"], "mocha_source", "user:password@"),
    (["--dataset-url", "https://user:token@example.com/cifar.tgz"], "dataset_url", "user:password@"),
    (["-e", '{"mocha_cifar_version": "0.2.0\\"); run(`id`); (\\""}'], "mocha_cifar_version", "input_patterns.yml"),
    (["-e", "mocha_cifar_version=master"], "mocha_cifar_version", "input_patterns.yml"),
]

# (config file text, or a special marker; field; accepted)
CONFIG_CASES = [
    ("- region: us-east-1\n", "holds a list", "a YAML mapping"),
    ("region: [us-east-1\n", "not valid YAML", "a YAML mapping"),
    ("regoin: us-east-1\n", "unknown key 'regoin'", "did you mean 'region'"),
    ("count: '3'\n", "count", "an integer from 1 to 32"),
    ("max_hours: true\n", "max_hours", "greater than 0"),
    ("region: 5\n", "region", "AWS region"),
    ("tags: [a, b]\n", "tags", "a mapping of tag keys"),
    ("tags: {team: 'x; touch /tmp/pwned'}\n", "tags", "letters, digits"),
    ("extra_vars: [a]\n", "extra_vars", "role variables"),
    ("stages: provision\n", "stages", "subset of"),
    ("spot: 'yes'\n", "spot", "true or false"),
    ("ssh_cidr: 0.0.0.0/33\n", "ssh_cidr", "CIDR"),
    # issue 14.7: empty, whitespace, the wrong family, a trailing newline, and values the roles refuse
    ("deployment: ''\n", "deployment", "letters, digits"),
    ("julia_repo: ' '\n", "julia_repo", "git:// URL"),
    ("instance_type: t2.micro\n", "instance_type", "--no-cuda"),
    ("mocha_source: ssh://git@github.com/pluskid/Mocha.jl.git\n", "mocha_source", "no SSH"),
    ("tags: {'': x}\n", "tags", "1-128 characters"),
    ('tags: {team: "vision\\n"}\n', "tags", "letters, digits"),
    ('target: "gpu.example.com\\n"\n', "target", "localhost, a hostname"),
    ("region: us-east-9\n", "region", "names no AWS region"),
    ("extra_vars: {julia_build_version: v0.6.0}\n", "julia_build_version", "use --julia-version"),
    ("<directory>", "is not readable", "a readable UTF-8 YAML file"),
    ("<binary>", "is not readable", "a readable UTF-8 YAML file"),
    ("<missing>", "does not exist", "--config PATH"),
]


@pytest.fixture
def clean(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOCHA_ANSIBLE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MOCHA_ANSIBLE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    (tmp_path / "home").mkdir()
    return tmp_path


def _assert_clean_refusal(code: int, err: str, out: str, *, field: str, accepted: str, tmp_path: Path) -> None:
    assert code == 2, f"exit {code}: {err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mocha-ansible: error: "), err
    assert field in lines[0] and accepted in lines[0], lines[0]
    assert "Traceback" not in err + out
    assert project_resources() == NOTHING
    assert not (tmp_path / "runs").exists(), "a refused run must not even make a run directory"


@pytest.mark.parametrize(("flags", "field", "accepted"), FLAG_CASES, ids=[" ".join(c[0]) for c in FLAG_CASES])
def test_bad_flags(clean: Path, capsys: pytest.CaptureFixture[str], flags, field, accepted) -> None:
    key = clean / "key.pem"
    key.write_text("not really a key\n")
    argv = ["provision", "--yes", "--ami", "ami-785db401", "--ssh-cidr", "203.0.113.7/32"]
    argv += [str(key) if f == "KEYFILE" else f for f in flags]
    code = main(argv)
    captured = capsys.readouterr()
    _assert_clean_refusal(code, captured.err, captured.out, field=field, accepted=accepted, tmp_path=clean)


@pytest.mark.parametrize(("text", "field", "accepted"), CONFIG_CASES, ids=[c[1] for c in CONFIG_CASES])
def test_bad_config_files(clean: Path, capsys: pytest.CaptureFixture[str], text, field, accepted) -> None:
    path = clean / "mocha.yml"
    if text == "<directory>":
        path.mkdir()
    elif text == "<binary>":
        path.write_bytes(b"\xff\xfe\x00region: \x9c\n")
    elif text != "<missing>":
        path.write_text(text, encoding="utf-8")
    code = main(["provision", "--yes", "--config", str(path)])
    captured = capsys.readouterr()
    _assert_clean_refusal(code, captured.err, captured.out, field=field, accepted=accepted, tmp_path=clean)


@pytest.mark.parametrize(("name", "var"), sorted(ROLE_VARS.items()), ids=sorted(ROLE_VARS.values()))
def test_a_role_variable_that_has_a_flag_is_refused_in_extra_vars(
    clean: Path, capsys: pytest.CaptureFixture[str], name: str, var: str
) -> None:
    """-e would override the flag in the extravars and skip its checks (issue 14.6)."""
    value = default_values()[name]
    pair = json.dumps({var: list(value) if isinstance(value, tuple) else value})
    code = main(["provision", "--yes", "--ami", "ami-785db401", "--ssh-cidr", "203.0.113.7/32", "-e", pair])
    captured = capsys.readouterr()
    flag = "--" + name.replace("_", "-")
    _assert_clean_refusal(code, captured.err, captured.out, field=var, accepted=f"use {flag}", tmp_path=clean)
    assert f"the config key {name}" in captured.err


def _seed_security_group() -> dict[str, list[str]]:
    """One project-tagged security group, so a refused teardown has something to leave alone."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    tags = [
        {"Key": "mocha-ansible:project", "Value": "mocha-ansible"},
        {"Key": "mocha-ansible:deployment", "Value": "kept"},
        {"Key": "mocha-ansible:owner", "Value": default_values()["owner"]},
    ]
    ec2.create_security_group(
        GroupName="mocha-ansible-kept", Description="seed",
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )  # fmt: skip
    return project_resources()


# The subcommands that take no settings (issue 14.7): (argv, field, accepted).
# "<file>" and "<dir>" stand for an existing file and folder of the wrong kind.
SUBCOMMAND_CASES = [
    (["teardown", "--yes", "--region", ""], "--region", "an AWS region name"),
    (["teardown", "--yes", "--region", " "], "--region", "an AWS region name"),
    (["teardown", "--yes", "--region", "us-iso-east-1"], "--region", "an AWS region name"),
    (["teardown", "--yes", "--region", "us-east-9"], "--region", "names no AWS region"),
    (["teardown", "--yes", "--deployment", ""], "--deployment", "letters, digits"),
    (["teardown", "--yes", "--deployment", "a b"], "--deployment", "letters, digits"),
    (["teardown", "--yes", "--key-dir", ""], "--key-dir", "the path of a folder"),
    (["teardown", "--yes", "--key-dir", " "], "--key-dir", "the path of a folder"),
    (["teardown", "--yes", "--key-dir", "<file>"], "--key-dir", "the path of a folder"),
    (["status", "--region", ""], "--region", "an AWS region name"),
    (["status", "--region", "moon-1"], "--region", "an AWS region name"),
    (["status", "--deployment", " "], "--deployment", "letters, digits"),
    (["ssh-config", "--region", ""], "--region", "an AWS region name"),
    (["ssh-config", "--deployment", ""], "--deployment", "letters, digits"),
    (["ssh-config", "--write", "--ssh-config", ""], "--ssh-config", "the path of a file"),
    (["ssh-config", "--write", "--ssh-config", "<dir>"], "--ssh-config", "the path of a file"),
    (["ssh-config", "--key-dir", " "], "--key-dir", "the path of a folder"),
    (["bake", "--region", ""], "--region", "an AWS region name"),
    (["bake", "--region", "us-east-9"], "--region", "names no AWS region"),
    (["bake", "--deployment", ""], "--deployment", "letters, digits"),
    (["results", "--out", "", "latest"], "--out", "the path of a file"),
    (["results", "--out", "<dir>", "latest"], "--out", "the path of a file"),
    (["results", ""], "no run ''", "latest or a run id"),
    (["results", "nosuch"], "no run 'nosuch'", "latest or a run id"),
    (["results", "--plot"], "--plot", "results latest --plot"),
    (["--runs-dir", "", "status"], "--runs-dir", "the path of a folder"),
    (["--runs-dir", "<file>", "results"], "--runs-dir", "the path of a folder"),
]


@pytest.mark.parametrize(
    ("argv", "field", "accepted"), SUBCOMMAND_CASES, ids=[" ".join(c[0]) for c in SUBCOMMAND_CASES]
)
def test_bad_input_to_the_other_subcommands(clean: Path, capsys: pytest.CaptureFixture[str], argv, field, accepted):
    before = _seed_security_group()
    (clean / "a-file").write_text("x")
    (clean / "a-dir").mkdir()
    swap = {"<file>": str(clean / "a-file"), "<dir>": str(clean / "a-dir")}
    code = main([swap.get(a, a) for a in argv])
    captured = capsys.readouterr()
    assert code == 2, f"exit {code}: {captured.err}"
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mocha-ansible: error: "), captured.err
    assert field in lines[0] and accepted in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert project_resources() == before, "a refused command must leave every resource as it was"
    assert not (clean / "runs").exists()


def test_teardown_without_a_terminal_names_itself(clean: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14.8: no TTY and no --yes: refuse as teardown, not as provision, and delete nothing."""
    before = _seed_security_group()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["teardown"])
    err = capsys.readouterr().err
    assert code == 2
    assert "teardown: refusing to delete" in err and "provision" not in err and "--yes" in err
    assert project_resources() == before


def test_teardown_answered_no_exits_1_and_names_what_is_left(clean: Path, capsys, monkeypatch) -> None:
    """issue 34 item 10: "n" kept everything, yet exited 0, which README gives to "nothing is left"."""
    before = _seed_security_group()
    monkeypatch.setattr("mocha_ansible.commands.confirm_on_tty", lambda *a, **k: False)
    code = main(["teardown"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Nothing deleted: what is listed above is still there (and may bill)." in out
    assert project_resources() == before


def _role_play(book: str, tmp_path: Path, **extra: object) -> subprocess.CompletedProcess[str]:
    extravars = {
        "ec2_gpu_key_dir": str(tmp_path / "keys"),
        "ec2_gpu_wait_for_ssh": False,
        "ec2_gpu_ami": "ami-785db401",
        "ec2_gpu_ssh_cidr": "203.0.113.7/32",
        "mocha_hosts": "localhost",
        "mocha_become": False,
        **extra,
    }
    return run_playbook(f"playbooks/{book}", "-e", json.dumps(extravars), env=ansible_env({"HOME": str(tmp_path)}))


# Each role refuses bad values of its own variables before touching anything,
# when run with plain ansible-playbook (no CLI in front of it).
ROLE_CASES = [
    ("provision.yml", {"ec2_gpu_count": 0}, "count=0 (accepted: >= 1)"),
    ("provision.yml", {"ec2_gpu_ami": "amazon-linux-2"}, "cannot install packages on Amazon Linux 2"),
    ("provision.yml", {"ec2_gpu_deployment": "a;b"}, "deployment=a;b"),
    ("provision.yml", {"ec2_gpu_state": "exploded"}, "ec2_gpu_state must be one of"),
    ("provision.yml", {"ec2_gpu_ssh_cidr": "0.0.0.0/0"}, "opens SSH to the whole internet"),
    ("verify.yml", {"cuda_verify_min_gpus": "many"}, "cuda_verify_min_gpus"),
    ("julia.yml", {"julia_build_jobs": 0}, "julia_build_jobs"),
    ("julia.yml", {"julia_build_pkg_manager": "zypper"}, "julia_build_pkg_manager must be one of"),
    ("mocha.yml", {"mocha_cifar_dataset_url": "ftp://example.com/x.tgz"}, "dataset_url=ftp://example.com/x.tgz"),
    ("mocha.yml", {"mocha_cifar_max_iter": 0}, "max_iter"),
    # issue 14.5 / 22: the same patterns the CLI reads, asserted by the roles themselves
    ("provision.yml", {"ec2_gpu_region": "us-iso-east-1"}, "region=us-iso-east-1"),
    ("provision.yml", {"ec2_gpu_ssh_cidr": "1.2.3.4/0"}, "1.2.3.4/0 has host bits set"),
    ("provision.yml", {"ec2_gpu_ssh_cidr": "0.0.0.0/1"}, "without the opt-in ec2_gpu_ssh_open_world=true"),
    ("provision.yml", {"ec2_gpu_ssh_cidr": "2001:db8::/32"}, "/32 is wider than /56"),
    ("julia.yml", {"julia_build_repo_url": "https://user:token@github.com/x.git"}, "repo_url=https://user:token@"),
    ("mocha.yml", {"mocha_cifar_source": "ssh://git@github.com/pluskid/Mocha.jl.git"}, "no SSH"),
    ("mocha.yml", {"mocha_cifar_version": 'v0.2.0"); run(`id`); ("'}, "version=v0.2.0"),
    ("mocha.yml", {"mocha_cifar_dataset_checksum": "sha256:abc"}, "dataset_checksum=sha256:abc"),
]


@pytest.mark.parametrize(
    ("book", "extra", "message"), ROLE_CASES, ids=[f"{k}={v}" for c in ROLE_CASES for k, v in c[1].items()]
)
def test_role_variables_refused_by_the_roles(aws, tmp_path: Path, book, extra, message) -> None:
    proc = _role_play(book, tmp_path, **extra)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert message in proc.stdout, proc.stdout[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert project_resources() == NOTHING


def test_shell_metacharacters_in_a_tag_reach_aws_verbatim_and_no_shell(aws, tmp_path: Path) -> None:
    """The role does not limit tag values (the CLI does); they go to AWS as data."""
    canary = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    value = f"x; touch {canary}; $(touch {canary}) `touch {canary}`"
    proc = _role_play("provision.yml", tmp_path, ec2_gpu_deployment="meta", ec2_gpu_tags={"team": value})
    try:
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert not canary.exists()
        ec2 = boto3.client("ec2", region_name="us-east-1")
        (inst,) = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        assert {t["Key"]: t["Value"] for t in inst["Tags"]}["team"] == value
    finally:
        run_playbook(
            "playbooks/teardown.yml", "-e", "ec2_gpu_deployment=meta", "-e", f"ec2_gpu_key_dir={tmp_path / 'keys'}",
            env=ansible_env({"HOME": str(tmp_path)}),
        )  # fmt: skip
    assert project_resources() == NOTHING
    assert not canary.exists()
