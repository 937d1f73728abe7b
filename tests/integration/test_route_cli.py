"""The route through the real CLI against the emulator: the defaults pass and print
their route; each impossible chain exits 2 with one line, before anything exists."""

from __future__ import annotations

import json

import pytest

from tests.conftest import project_resources
from tests.helpers import NOTHING, private_cli


def test_the_defaults_pass_preflight_and_print_their_route(aws, tmp_path):
    proc = private_cli(tmp_path, "provision", "--check", "--ssh-cidr", "203.0.113.7/32")
    assert proc.returncode == 0, proc.stderr
    route_line = next(line for line in proc.stdout.splitlines() if line.startswith("route: "))
    for words in ("dlami-ubuntu", "g4dn.xlarge (Tesla T4, sm_75)", "Julia v0.6.4 by binary", "Mocha v0.3.1 CPU"):
        assert words in route_line
    # Judged on the four stages asked for, though the emulator then trims the run to provision.
    assert "(estimate) of 4 h" in route_line
    assert "Expected: about" in proc.stdout
    assert project_resources() == NOTHING


def test_the_plan_names_what_a_person_needs_to_decide(aws, tmp_path):
    """Issue 23: the AMI (id, OS, driver, CUDA, GCC), Julia's method and time, Mocha's version, backend and why,
    max_iter, and the expected duration and cost under the chosen --after (keep bills until the cap)."""
    keep = private_cli(tmp_path, "provision", "--check", "--ssh-cidr", "203.0.113.7/32", "--after", "keep")
    assert keep.returncode == 0, keep.stderr
    route_line = next(line for line in keep.stdout.splitlines() if line.startswith("route: "))
    assert "dlami-ubuntu (Ubuntu 22.04, driver 595, CUDA 13.2, GCC 11)" in route_line
    assert "Julia v0.6.4 by binary (~3 min, estimate)" in route_line
    assert "Mocha v0.3.1 CPU + native extension, 4 threads: this image's cuDNN 9 lacks" in route_line
    assert "; max_iter=" in route_line
    # The emulator has no image under the preset's owner alias; tests/unit/test_plan_ami.py shows the id.
    assert "  [  ok] ami: preset dlami-ubuntu is resolved to the newest match at launch" in keep.stdout
    [expected] = [line for line in keep.stdout.splitlines() if line.startswith("Expected: ")]
    [cap] = [line for line in keep.stdout.splitlines() if line.startswith("Estimated cost: ")]
    assert "with --after keep the instance bills until the 4 h cap" in expected
    assert expected.rsplit("$", 1)[1].split()[0] == cap.split("at most $", 1)[1].split()[0]

    done = private_cli(tmp_path, "provision", "--check", "--ssh-cidr", "203.0.113.7/32", "--after", "terminate")
    assert done.returncode == 0, done.stderr
    [expected] = [line for line in done.stdout.splitlines() if line.startswith("Expected: ")]
    assert "(estimate); with --after terminate the instance's billing stops then" in expected
    assert project_resources() == NOTHING


def test_the_route_is_in_the_json_plan(aws, tmp_path):
    proc = private_cli(tmp_path, "preflight", "--json", "--ssh-cidr", "203.0.113.7/32")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(next(line for line in proc.stdout.splitlines() if '"plan"' in line))
    assert plan["route"]["backend"] == "cpu"
    assert [link["name"] for link in plan["route"]["links"]] == ["driver", "julia", "mocha", "cost", "time"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ami", "ubuntu-20.04"], "route: driver: ami=ubuntu-20.04 has no NVIDIA driver"),
        (["--julia-version", "v0.5.0", "--julia-from", "source"], "route: julia: Julia v0.5.0 needs GCC <= 5"),
        (
            [
                "--julia-version",
                "v0.5.0",
                "--julia-from",
                "source-full",
                "-e",
                "julia_build_source_full_checksum=sha256:" + "ab" * 32,
            ],
            "needs GCC <= 5",
        ),
        (["--instance-type", "p2.xlarge"], "does not support p2.xlarge"),
        (["--cuda"], "route: mocha: cuda=true, but this image's cuDNN 9 lacks Mocha v0.3.1's calls"),
        (["--max-iter", "70000"], "route: time: max_iter=70000 needs about"),
        (["-e", "mocha_cifar_version=v0.1.3"], "route: mocha: mocha_cifar_version=v0.1.3 has no row for Julia 0.6"),
    ],
    ids=[
        "driverless-preset",
        "source-0.5",
        "source-full-0.5-gcc",
        "p2-dlami",
        "gpu-without-cudnn",
        "too-long",
        "mocha-tag-without-example-row",
    ],
)
def test_an_impossible_chain_exits_2_with_one_line_and_nothing_created(aws, tmp_path, flags, message):
    for command in (["provision", "--yes"], ["preflight"]):
        proc = private_cli(tmp_path, *command, "--ssh-cidr", "203.0.113.7/32", *flags)
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "(fix: " in lines[0], lines
    assert project_resources() == NOTHING
    assert not (tmp_path / "runs").exists()
