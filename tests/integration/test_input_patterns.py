"""One set of input patterns: what the CLI accepts, the roles accept, and the reverse.

Every sample value is judged twice: by the settings (a flag's field, or -e for a role
variable without a flag), and by Ansible's own `match` test over the roles'
vars/input_patterns.yml, which is what each role's preflight asserts. Both verdicts
must equal the expected one. tests/reliability/test_bad_input.py runs the real role
preflights for a representative subset (ROLE_CASES), and test_mocha_preflight.py
shows the mocha_cifar preflight accepting sha384 and a file:/// source.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocha_ansible.config import build_settings
from mocha_ansible.errors import ConfigError
from mocha_ansible.role_vars import input_patterns
from mocha_ansible.settings import ROLE_VARS
from tests.helpers import ansible_env, run_playbook

HEX = "0123456789abcdef" * 8

# (role variable, value, accepted?)
SAMPLES: list[tuple[str, str, bool]] = [
    ("ec2_gpu_region", "us-east-1", True),
    ("ec2_gpu_region", "us-gov-west-1", True),
    ("ec2_gpu_region", "cn-north-1", True),
    ("ec2_gpu_region", "eu-central-2", True),
    ("ec2_gpu_region", "us-iso-east-1", False),
    ("ec2_gpu_region", "us-isob-east-1", False),
    ("ec2_gpu_region", "eusc-de-east-1", False),
    ("ec2_gpu_region", "", False),
    ("ec2_gpu_region", " us-east-1", False),
    ("ec2_gpu_region", "us-east-1\n", False),
    ("ec2_gpu_region", "US-EAST-1", False),
    ("ec2_gpu_instance_type", "g4dn.xlarge", True),
    ("ec2_gpu_instance_type", "p3dn.24xlarge", True),
    ("ec2_gpu_instance_type", "GPU", False),
    ("ec2_gpu_instance_type", "g4dn", False),
    ("ec2_gpu_instance_type", "g4dn.xlarge ", False),
    ("ec2_gpu_instance_type", "", False),
    ("ec2_gpu_ami", "ami-785db401", True),
    ("ec2_gpu_ami", "ami-0123456789abcdef0", True),
    ("ec2_gpu_ami", "ami-xyz", False),
    ("ec2_gpu_ami", "ami-785DB401", False),
    ("ec2_gpu_ami", "", False),
    ("ec2_gpu_key_name", "", True),
    ("ec2_gpu_key_name", "my-key.1", True),
    ("ec2_gpu_key_name", "my key", False),
    ("ec2_gpu_key_name", "-key", False),
    ("ec2_gpu_deployment", "default", True),
    ("ec2_gpu_deployment", "a.b_c-1", True),
    ("ec2_gpu_deployment", "", False),
    ("ec2_gpu_deployment", "a;b", False),
    ("ec2_gpu_deployment", "../x", False),
    ("ec2_gpu_deployment", "x" * 64, False),
    ("ec2_gpu_owner", "alice", True),
    ("ec2_gpu_owner", "al ice", False),
    ("julia_build_version", "v0.5.0", True),
    ("julia_build_version", "v0.6.0-rc1", True),
    ("julia_build_version", "latest-stable", True),
    ("julia_build_version", "0.5", False),
    ("julia_build_version", "master", False),
    ("julia_build_version", "v0.5.0\n", False),
    ("julia_build_version", "", False),
    ("julia_build_repo_url", "https://github.com/JuliaLang/julia.git", True),
    ("julia_build_repo_url", "git://github.com/JuliaLang/julia.git", True),
    ("julia_build_repo_url", "https://mirror.example:8443/julia.git", True),
    ("julia_build_repo_url", "file:///srv/mirrors/julia", True),
    ("julia_build_repo_url", "/srv/mirrors/julia", True),
    ("julia_build_repo_url", "ssh://git@github.com/JuliaLang/julia.git", False),
    ("julia_build_repo_url", "git@github.com:JuliaLang/julia.git", False),
    ("julia_build_repo_url", "https://user:token@github.com/JuliaLang/julia.git", False),
    ("julia_build_repo_url", "https://token@github.com/JuliaLang/julia.git", False),
    ("julia_build_repo_url", "-oProxyCommand=touch /tmp/pwned", False),
    ("julia_build_repo_url", "https://-oProxyCommand=x/julia", False),
    ("julia_build_repo_url", "https://github.com/a b", False),
    ("julia_build_repo_url", "file://host/srv/julia", False),
    ("julia_build_repo_url", "relative/path", False),
    ("julia_build_repo_url", "", False),
    ("mocha_cifar_source", "pkg", True),
    ("mocha_cifar_source", "https://github.com/pluskid/Mocha.jl.git", True),
    ("mocha_cifar_source", "/srv/Mocha.jl", True),
    ("mocha_cifar_source", "ssh://git@github.com/pluskid/Mocha.jl.git", False),
    ("mocha_cifar_source", "git@github.com:pluskid/Mocha.jl.git", False),
    ("mocha_cifar_source", "https://user:token@github.com/pluskid/Mocha.jl.git", False),
    ("mocha_cifar_source", "pkg; reboot", False),
    ("mocha_cifar_source", "", False),
    ("mocha_cifar_version", "", True),
    ("mocha_cifar_version", "v0.2.0", True),
    ("mocha_cifar_version", "0.2.0", True),
    ("mocha_cifar_version", "v0.2", False),
    ("mocha_cifar_version", 'v0.2.0"); run(`id`); ("', False),
    ("mocha_cifar_version", "master", False),
    ("mocha_cifar_dataset_url", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", True),
    ("mocha_cifar_dataset_url", "http://127.0.0.1:8000/cifar.tgz", True),
    ("mocha_cifar_dataset_url", "file:///srv/cifar.tgz", True),
    ("mocha_cifar_dataset_url", "ftp://example.com/cifar.tgz", False),
    ("mocha_cifar_dataset_url", "https://user:token@example.com/cifar.tgz", False),
    ("mocha_cifar_dataset_url", "not a url", False),
    ("mocha_cifar_dataset_url", "", False),
    ("mocha_cifar_dataset_checksum", "md5:c32a1d4ab5d03f1284b67883e8d87530", True),
    ("mocha_cifar_dataset_checksum", "sha1:" + HEX[:40], True),
    ("mocha_cifar_dataset_checksum", "sha224:" + HEX[:56], True),
    ("mocha_cifar_dataset_checksum", "sha256:" + HEX[:64], True),
    ("mocha_cifar_dataset_checksum", "sha384:" + HEX[:96], True),
    ("mocha_cifar_dataset_checksum", "sha512:" + HEX[:128], True),
    ("mocha_cifar_dataset_checksum", "sha256:abc", False),
    ("mocha_cifar_dataset_checksum", "md5:xyz", False),
    ("mocha_cifar_dataset_checksum", "crc32:abcd1234", False),
    ("mocha_cifar_dataset_checksum", "MD5:C32A1D4AB5D03F1284B67883E8D87530", False),
    ("mocha_cifar_dataset_checksum", "", False),
    # Empty switches the cuDNN redistributable off; a URL needs https (no user:password@) or file:///.
    ("mocha_cifar_cudnn_redist_url", "", True),
    ("mocha_cifar_cudnn_redist_url", "https://developer.download.nvidia.com/compute/redist/cudnn/v5.1/cudnn.tgz", True),
    ("mocha_cifar_cudnn_redist_url", "file:///srv/cudnn-8.0-linux-x64-v5.1.tgz", True),
    ("mocha_cifar_cudnn_redist_url", "http://example.com/cudnn.tgz", False),
    ("mocha_cifar_cudnn_redist_url", "https://user:token@example.com/cudnn.tgz", False),
    ("mocha_cifar_cudnn_redist_url", "ftp://example.com/cudnn.tgz", False),
    ("mocha_cifar_cudnn_redist_checksum", "", True),
    ("mocha_cifar_cudnn_redist_checksum", "sha256:" + HEX[:64], True),
    ("mocha_cifar_cudnn_redist_checksum", "md5:" + HEX[:32], True),
    ("mocha_cifar_cudnn_redist_checksum", "sha256:abc", False),
    ("mocha_cifar_cudnn_redist_checksum", "SHA256:" + HEX[:64].upper(), False),
]

_SETTING_OF = {var: name for name, var in ROLE_VARS.items()}


def _cli_accepts(var: str, value: str) -> bool:
    """The settings' verdict: the flag's field, or -e for a variable without a flag."""
    values = {_SETTING_OF[var]: value} if var in _SETTING_OF else {"extra_vars": {var: value}}
    try:
        build_settings(values, {}, source="samples.yml")
    except ConfigError:
        return False
    return True


@pytest.fixture(scope="module")
def role_verdicts(tmp_path_factory: pytest.TempPathFactory) -> list[bool]:
    tmp = tmp_path_factory.mktemp("patterns")
    samples, out = tmp / "samples.json", tmp / "verdicts.json"
    samples.write_text(json.dumps([{"var": var, "value": value} for var, value, _ in SAMPLES]))
    proc = run_playbook(
        "tests/integration/playbooks/input_patterns.yml",
        "-e", json.dumps({"samples_file": str(samples), "out_file": str(out)}),
        env=ansible_env({"HOME": str(tmp)}),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]
    verdicts: list[bool] = json.loads(out.read_text())
    return verdicts


def test_every_pattern_has_samples_both_ways():
    for var in input_patterns():
        outcomes = {ok for v, _, ok in SAMPLES if v == var or (var == "ec2_gpu_regions" and v == "ec2_gpu_region")}
        assert outcomes == {True, False}, var


@pytest.mark.parametrize(("index", "sample"), list(enumerate(SAMPLES)), ids=[f"{v}={x!r}" for v, x, _ in SAMPLES])
def test_cli_and_role_agree(role_verdicts: list[bool], index: int, sample: tuple[str, str, bool]):
    var, value, expected = sample
    assert role_verdicts[index] is expected, f"the role's pattern says {role_verdicts[index]}"
    assert _cli_accepts(var, value) is expected, "the CLI disagrees with the role"


def test_the_settings_hold_no_copies_of_the_patterns():
    source = (Path(__file__).parents[2] / "mocha_ansible" / "settings.py").read_text()
    for pattern in input_patterns().values():
        assert pattern not in source
