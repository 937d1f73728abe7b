"""Settings: precedence, validation messages, and the extravars the roles receive."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mocha_ansible.config import build_settings, default_values, load_config_file
from mocha_ansible.errors import ConfigError
from mocha_ansible.settings import ROLE_VARS, Settings
from tests.helpers import ROOT


def _specs() -> dict[str, dict]:
    options: dict[str, dict] = {}
    for spec in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        options.update(yaml.safe_load(spec.read_text())["argument_specs"]["main"]["options"])
    return options


def test_every_mapped_setting_is_a_documented_role_variable():
    specs = _specs()
    assert sorted(v for v in ROLE_VARS.values() if v not in specs) == []


def test_defaults_come_from_the_roles_public_defaults():
    defaults = yaml.safe_load((ROOT / "roles/ec2_gpu/defaults/main.yml").read_text())
    values = default_values()
    assert values["instance_type"] == defaults["ec2_gpu_instance_type"] == "g4dn.xlarge"
    assert (
        values["max_iter"]
        == yaml.safe_load((ROOT / "roles/mocha_cifar/defaults/main.yml").read_text())["mocha_cifar_max_iter"]
    )


def test_flags_override_file_which_overrides_defaults():
    s = build_settings({"region": "eu-west-1", "count": 2}, {"count": 3})
    assert (s.region, s.count) == ("eu-west-1", 3)
    assert s.instance_type == default_values()["instance_type"]


def test_extravars_use_role_prefixes_and_pass_extra_vars_through():
    s = build_settings({}, {"julia_version": "v0.4.7", "extra_vars": {"cuda_verify_min_gpus": 2}})
    ev = s.to_extravars()
    assert ev["julia_build_version"] == "v0.4.7"
    assert ev["cuda_verify_min_gpus"] == 2
    assert all(k.startswith(("ec2_gpu_", "cuda_verify_", "julia_build_", "mocha_cifar_")) for k in ev)
    assert "mocha_cifar_cuda" not in ev  # unset: the role's own "auto"


def test_unknown_key_suggests_the_nearest():
    with pytest.raises(ConfigError) as err:
        build_settings({"regoin": "us-east-1"}, {}, source="bad.yml")
    assert "unknown key 'regoin' (did you mean 'region'?)" in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("values", "field", "accepted"),
    [
        ({"count": "three"}, "count", "an integer from 1 to 32"),
        ({"count": 0}, "count", "an integer from 1 to 32"),
        ({"max_hours": -1}, "max_hours", "greater than 0"),
        ({"ssh_cidr": "10.0.0.300/32"}, "ssh_cidr", "CIDR"),
        ({"ami": "ami-xyz"}, "ami", "ami-xxxxxxxx id"),
        ({"region": "moon-1"}, "region", "AWS region"),
        ({"pkg_manager": "pacman"}, "pkg_manager", "apt, yum or auto"),
        ({"julia_version": "0.4.7x"}, "julia_version", "v0.5.0"),
        ({"stages": ["provision", "deploy"]}, "stages", "subset of"),
        ({"tags": {"team": "x; touch /tmp/pwned"}}, "tags", "letters, digits"),
        ({"extra_vars": {"ansible_user": "root"}}, "extra_vars", "role variables"),
        ({"spot": "yes"}, "spot", "true or false"),
    ],
)
def test_bad_values_name_the_field_and_what_is_accepted(values, field, accepted):
    with pytest.raises(ConfigError) as err:
        build_settings(values, {}, source="cfg.yml")
    text = str(err.value)
    assert "\n" not in text
    assert f"{field}=" in text or f"{field}: " in text
    assert accepted in text


def test_cuda_on_a_cpu_instance_is_refused():
    with pytest.raises(ConfigError, match=r"cuda=true needs a GPU instance type.*field: instance_type"):
        build_settings({"instance_type": "m5.large", "cuda": True}, {})


def test_every_problem_is_reported_at_once_a_line_each():
    """Issue 34 item 9: a file with two bad values reported one; fixing it only uncovered the next."""
    with pytest.raises(ConfigError) as err:
        build_settings({"max_hours": -1, "regoin": "us-east-1", "instance_type": "g4dn.xlarg"}, {"count": 0})
    lines = str(err.value).splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("config: unknown key 'regoin' (did you mean 'region'?)")
    assert any(line.startswith("config: max_hours=-1 is invalid: out of range; accepted: ") for line in lines)
    assert any(line.startswith('config: instance_type="g4dn.xlarg" is invalid: ') for line in lines)
    assert any(line.startswith("option: --count (count)=0 is invalid: out of range; accepted: ") for line in lines)
    assert "Input should" not in str(err.value)  # pydantic's wording stays inside


def test_the_cli_prints_each_problem_in_the_one_format(tmp_path, capsys):
    from mocha_ansible.cli import main

    config = tmp_path / "bad.yml"
    config.write_text("max_hours: -1\nmax_iter: many\n")
    assert main(["provision", "--check", "--runs-dir", str(tmp_path / "runs"), "--config", str(config)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("mocha-ansible: error: ") for line in err), err
    assert f"{config}: max_hours=-1 is invalid: out of range" in err[0]
    assert f'{config}: max_iter="many" is invalid: not a whole number' in err[1]
    assert not (tmp_path / "runs").exists()


def test_flag_errors_name_the_flag():
    with pytest.raises(ConfigError, match=r"option: --max-iter \(max_iter\)=0 is invalid"):
        build_settings({}, {"max_iter": 0})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- region: us-east-1\n", "holds a list, not a mapping"),
        ("region: [unclosed\n", "is not valid YAML at line"),
    ],
)
def test_config_file_shapes(tmp_path: Path, content: str, message: str):
    path = tmp_path / "c.yml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config_file(path)


def test_missing_and_unreadable_config(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="is not readable"):
        load_config_file(tmp_path)


def test_settings_are_immutable():
    s = build_settings({}, {})
    with pytest.raises(ValueError, match="frozen"):
        s.count = 5  # type: ignore[misc]
    assert isinstance(s, Settings)


def test_fallback_regions_reach_the_role_and_are_checked():
    s = build_settings({"regions": ["us-west-2", "eu-west-1"]}, {})
    assert s.to_extravars()["ec2_gpu_regions"] == ["us-west-2", "eu-west-1"]
    with pytest.raises(ConfigError, match=r"regions=.*'mars-1' is not an AWS region name"):
        build_settings({"regions": ["us-west-2", "mars-1"]}, {})
