"""Issue 18 item 4: the time-to-model table joins this run's measurements with the roles' cited figures.

Checks where each number comes from (no timings): cited parts equal the sourced tables' rows,
measured parts are the run's stage seconds, and boot, which no table cites, stays out of the totals.
"""

from __future__ import annotations

from bench import time_to_model
from mocha_ansible.project import role_yaml

_RUN = {
    "binary": {"provision": 10.0, "verify": 3.0, "julia": 5.0, "mocha": 20.0},
    "source": {"provision": 11.0, "verify": 3.0, "julia": 30.0, "mocha": 21.0},
    "baked": {"provision": 12.0, "verify": 3.0, "julia": 1.0, "mocha": 8.0},
}


def _route(table: list[dict], start: str) -> dict:
    return next(r for r in table if r["route"].startswith(start))


def test_cited_parts_are_the_roles_rows() -> None:
    minutes = role_yaml("julia_build", "vars/julia_releases.yml")["julia_build_method_minutes"]
    speed = role_yaml("mocha_cifar", "vars/backend_speed.yml")
    table = time_to_model.routes(_RUN, 10000, 400)
    source = _route(table, "Julia built from source")
    cited = {p["part"].split(" ")[0]: p for p in source["cited"]}
    assert cited["Julia"]["seconds"] == float(minutes["source"]["minutes"]) * 60
    assert cited["Mocha"]["seconds"] == float(speed["mocha_cifar_setup_minutes"]["minutes"]) * 60
    gpu = speed["mocha_cifar_backend_speed"]["gpu"]["seconds_per_200"]
    assert cited["training"]["seconds"] == 10000 / 200 * gpu
    assert all(p["kind"] == time_to_model.CITED and p["source"] for p in source["cited"])


def test_measured_parts_are_the_runs_stages_and_boot_is_not_counted() -> None:
    table = time_to_model.routes(_RUN, 10000, 400)
    baked = _route(table, "launch from a baked AMI")
    assert [p["seconds"] for p in baked["here"]] == [12.0, None, 3.0, 1.0, 8.0]
    assert baked["here"][1]["kind"] == time_to_model.NOT_COUNTED
    assert baked["total_here_seconds"] == 24.0
    # Baked: no Julia or Mocha set-up; the real total is training plus the measured provision and verify.
    assert baked["total_real_seconds"] == 10000 / 200 * 6 + 12.0 + 3.0
    assert baked["complete"]


def test_a_route_not_run_is_incomplete_not_zero() -> None:
    table = time_to_model.routes({"binary": _RUN["binary"]}, 10000, 400)
    assert not _route(table, "Julia built from source")["complete"]
    row = next(line for line in time_to_model.markdown(table).splitlines() if "built from source" in line)
    assert "n/a (not run)" in row
    assert "at least" in row
