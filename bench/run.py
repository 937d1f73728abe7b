"""The benchmarks of BENCHMARKS.md, side by side in one run, on the sandbox.

    .venv/bin/python -m bench.run --repeat 1                 # all of them (about 30 minutes on 2 cores)
    .venv/bin/python -m bench.run --only wrapper,fleet-light # some of them, merged into today's file
    .venv/bin/python -m bench.run --quick --repeat 1         # what CI runs: a smoke run of the code paths

1. converge: a first `provision --sandbox` against a re-run on the converged host
   (per stage, with changed counts). Target: the re-run <= 15 s, changed = 0.
2. wrapper: the same playbook, tags and extravars on the converged host through
   `python -m mocha_ansible` and through plain `ansible-playbook`. Target <= 1.03.
3. fleet: first converges of N = 1, 2, 4, 8 hosts, heavy (all four roles: the
   hosts' own CPU work on shared cores) and light (provision and verify: the hosts
   do little, so t(N)/t(1) is the controller's and the forks' cost). Target for
   the light mode: t(8)/t(1) <= 1.5.
4. ec2: AWS API calls and wall time of the EC2 stage, fresh and re-run (bench.ec2_stage).
5. routes: time to a trained model per route (bench.time_to_model): a source
   build of the stand-in, a bake and a launch from the baked image, measured, beside
   the roles' cited figures.

--quick is a smoke run, not a measurement: a light converge of one host
(provision, verify), the wrapper pair on it (verify) and the route table from it.

Each is repeated --repeat times; the median, min and max are printed, with the
ratios, and everything is written to bench/results/<date>.json (or --out); a run of
some benchmarks keeps the others' earlier results in that file. It uses a private
sandbox (its own emulator, containers, runs) and removes it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import ec2_stage, fixed_cost, time_to_model
from mocha_ansible import docker_engine, sandbox
from mocha_ansible.cli import build_parser
from mocha_ansible.emulator import running_emulator, stop_emulator
from mocha_ansible.environment import Sandbox
from mocha_ansible.pipeline import build_job
from mocha_ansible.project import project_dir
from mocha_ansible.sandbox_doubles import mirrors
from mocha_ansible.settings_flags import settings_from_args

ROOT = project_dir()
VENV_BIN = Path(sys.executable).parent


class Bench:
    def __init__(self, base: Path, max_iter: int) -> None:
        self.base = base
        self.mirror_flags = mirrors.build(base / "mirrors").flags()
        self.max_iter = max_iter
        # The same private environment (HOME, runs, sandbox state) the sandbox tests use.
        self.env = sandbox.private_env(base)

    def provision_args(self, deployment: str, stages: str, count: int = 1) -> list[str]:
        return [
            "provision", "--sandbox", *self.mirror_flags, "--max-iter", str(self.max_iter),
            "--deployment", deployment, "--stages", stages, "--count", str(count),
        ]  # fmt: skip

    def cli(self, args: list[str]) -> tuple[float, dict[str, dict[str, Any]]]:
        """Wall seconds of one CLI run, and its stage_finished records."""
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "mocha_ansible", *args, "--json"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"mocha-ansible {' '.join(args[:2])} failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
        stages = {}
        for line in proc.stdout.splitlines():
            if line.startswith("{") and json.loads(line).get("type") == "stage_finished":
                event = json.loads(line)
                stages[event["stage"]] = {"seconds": event["seconds"], "changed": event["changed"]}
        return seconds, stages

    def plain(self, deployment: str, stages: str) -> float:
        """The playbook the CLI would run, through ansible-playbook alone."""
        emu = running_emulator(self.base / "state")
        assert emu is not None
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            args = build_parser().parse_args(self.provision_args(deployment, stages))
            settings = Sandbox.adapt(settings_from_args(args))
            run_dir = Path(tempfile.mkdtemp(dir=self.base))
            job = build_job(settings, run_dir, False, 0, Sandbox(image=docker_engine.image_tag("12")))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        (run_dir / "extravars.json").write_text(json.dumps(dict(job.extravars)))
        cmd = [str(VENV_BIN / "ansible-playbook"), str(job.playbook), "-e", f"@{run_dir / 'extravars.json'}"]
        for inv in job.inventory:
            cmd += ["-i", inv]
        cmd += ["--tags", ",".join(job.tags)]
        env = {**self.env, **emu.env(), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "AWS_DEFAULT_REGION": "us-east-1"}
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"ansible-playbook failed:\n{proc.stdout[-3000:]}")
        return seconds

    def teardown(self, amis: bool = False) -> None:
        subprocess.run(
            [sys.executable, "-m", "mocha_ansible", "teardown", "--sandbox", "--yes", *(["--amis"] if amis else [])],
            cwd=ROOT, env=self.env, capture_output=True, check=False,
        )  # fmt: skip


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def show(label: str, values: list[float], base: list[float] | None = None) -> None:
    s = stats(values)
    ratio = f"  ratio {s['median'] / statistics.median(base):5.2f}" if base else ""
    print(f"  {label:<44} median {s['median']:7.1f} s  (min {s['min']:.1f}, max {s['max']:.1f}){ratio}")


ALL = ("ec2", "converge", "wrapper", "fleet-heavy", "fleet-light", "routes")
HEAVY = "provision,verify,julia,mocha"
LIGHT = "provision,verify"


def print_table(results: dict[str, Any], ran: tuple[str, ...]) -> None:
    print(f"\nmocha-ansible benchmarks ({results['machine']}; {results['repeat']} repetitions)")
    if "converge" in ran:
        conv = results["converge"]
        first, rerun, stage_runs = conv["first"], conv["rerun"], conv["rerun_stages"]
        print(f"1. converge: first converge vs re-run of the converged host ({conv['stages']})")
        show("first converge", first)
        show("re-run (target <= 15 s)", rerun, first)
        print(f"  re-run changed tasks (max over runs): {conv['rerun_changed_max']} (target 0)")
        for stage in stage_runs[0]:
            show(f"  re-run stage {stage}", [run[stage]["seconds"] for run in stage_runs if stage in run])
    if "wrapper" in ran:
        w = results["wrapper"]
        print(f"2. wrapper: the same playbook through mocha-ansible vs plain ansible-playbook (stages {w['stages']})")
        show("ansible-playbook", w["ansible_playbook"])
        show("python -m mocha_ansible (target <= 1.03)", w["cli"], w["ansible_playbook"])
        if "wrapper_fixed_cost" in results:
            print("  the wrapper's own work outside ansible-playbook (bench.fixed_cost):")
            fixed_cost.report(results["wrapper_fixed_cost"])
    for mode, key in (("heavy", "fleet"), ("light", "fleet_light")):
        if f"fleet-{mode}" in ran:
            fleet = {int(n): v for n, v in results[key].items()}
            sizes = sorted(fleet)
            target = " (target <= 1.5)" if mode == "light" else ""
            print(f"3. fleet, {mode}: first converge of N hosts ({results[key + '_stages']})")
            for n in sizes:
                show(f"N={n}" + (target if n == 8 else ""), fleet[n], fleet[sizes[0]])
    if "ec2" in ran:
        print("4. ec2: API calls and wall time of the EC2 stage")
        ec2_stage.report(results["ec2"])
    if "routes" in ran:
        print("5. routes: time to a trained model (stand-ins measured here; real figures cited)")
        time_to_model.report(results["routes"]["table"])


def _medians(stage_runs: list[dict[str, dict[str, Any]]]) -> dict[str, float]:
    names = {name for run in stage_runs for name in run}
    return {n: statistics.median(run[n]["seconds"] for run in stage_runs if n in run) for n in names}


def _changed(stages: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {name: int(stage["changed"]) for name, stage in stages.items()}


class Runs:
    """The selected benchmarks, in an order that lets later ones reuse earlier hosts."""

    def __init__(self, bench: Bench, results: dict[str, Any], repeat: int, save: Any) -> None:
        self.bench, self.results, self.repeat, self.save = bench, results, repeat, save
        self.kept = False  # whether converge left its last host up

    def converge(self, *, rerun_too: bool, with_wrapper: bool, keep_last: bool, stages: str = HEAVY) -> None:
        """First converges (and re-runs, and the wrapper pair on the converged host).

        `keep_last`: leave the last host up (as deployment conv<repeat-1>) for the routes benchmark to bake.
        """
        b, host_stages = self.bench, stages.replace("provision,", "")
        first, rerun, rerun_stages, first_stages, wrapper, plain = [], [], [], [], [], []
        for i in range(self.repeat):
            seconds, per_stage = b.cli(b.provision_args(f"conv{i}", stages))
            first.append(seconds)
            first_stages.append(per_stage)
            if rerun_too:
                seconds, per_stage = b.cli(b.provision_args(f"conv{i}", stages))
                rerun.append(seconds)
                rerun_stages.append(per_stage)
            if with_wrapper:
                # Wrapper against plain, alternating, on the same converged host.
                seconds, _ = b.cli(b.provision_args(f"conv{i}", host_stages))
                wrapper.append(seconds)
                plain.append(b.plain(f"conv{i}", host_stages))
            if not (keep_last and i == self.repeat - 1):
                b.teardown()
        self.kept = keep_last
        if rerun:
            changed = max(sum(s["changed"] for s in run.values()) for run in rerun_stages)
            self.results["converge"] = {
                "stages": stages, "first": first, "first_stages": first_stages,
                "rerun": rerun, "rerun_stages": rerun_stages, "rerun_changed_max": changed,
            }  # fmt: skip
        self.results["route_binary"] = {  # changed: the last host's, the one routes bakes
            "stages": stages, "seconds": _medians(first_stages), "changed": _changed(first_stages[-1]),
        }  # fmt: skip
        if with_wrapper:
            self.results["wrapper"] = {"stages": host_stages, "cli": wrapper, "ansible_playbook": plain}
        self.save()

    def fleet(self, key: str, stages: str, sizes: list[int]) -> None:
        fleet: dict[int, list[float]] = {n: [] for n in sizes}
        self.results[key + "_stages"] = stages
        for i in range(self.repeat):
            for n in sizes:
                seconds, _ = self.bench.cli(self.bench.provision_args(f"{key}{n}-{i}".replace("_", ""), stages, n))
                fleet[n].append(seconds)
                self.bench.teardown()
                self.results[key] = {str(k): v for k, v in fleet.items() if v}
                self.save()

    def routes(self, max_iter: int) -> None:
        """A source build of the stand-in, a bake of the binary route's host and a launch from it."""
        b, measured, changed = self.bench, {}, {}
        if not self.kept:
            self.converge(rerun_too=False, with_wrapper=False, keep_last=True)
        measured["binary"] = self.results["route_binary"]["seconds"]
        changed["binary"] = self.results["route_binary"]["changed"]
        start = time.monotonic()
        b.cli(["bake", "--sandbox", "--deployment", f"conv{self.repeat - 1}"])
        bake_seconds = time.monotonic() - start
        b.teardown()
        _, stages = b.cli(
            # A tag the stand-in's repository has (mirrors.py): the default version is a binary release's.
            [*b.provision_args("route-src", HEAVY), "--julia-from", "source", "--julia-version", "v0.5.0"]
        )
        measured["source"], changed["source"] = {k: v["seconds"] for k, v in stages.items()}, _changed(stages)
        _, stages = b.cli([*b.provision_args("route-baked", HEAVY), "--ami-from-bake"])
        # Changed counts show what a stage did: one with none only probed (the converged gate).
        measured["baked"], changed["baked"] = {k: v["seconds"] for k, v in stages.items()}, _changed(stages)
        b.teardown(amis=True)
        default_iter = time_to_model.default_max_iter()
        self.results["routes"] = {
            "measured": measured, "changed": changed, "bake_seconds": bake_seconds, "stand_in_max_iter": max_iter,
            "cited_max_iter": default_iter,
            "table": time_to_model.routes(measured, default_iter, max_iter),
        }  # fmt: skip
        self.save()

    def routes_from_quick(self, max_iter: int) -> None:
        """--quick: the table's code path on what the light converge measured (no Julia, no Mocha)."""
        measured = {"binary": self.results["route_binary"]["seconds"]}
        default_iter = time_to_model.default_max_iter()
        self.results["routes"] = {
            "measured": measured, "stand_in_max_iter": max_iter, "cited_max_iter": default_iter,
            "table": time_to_model.routes(measured, default_iter, max_iter),
        }  # fmt: skip
        self.save()


def measure(
    names: tuple[str, ...], step: Callable[[], object], results: dict[str, Any], run_info: dict[str, Any], save: Any
) -> None:
    """Run one benchmark step; only a step that finished records its benchmarks as measured by this run.

    A failed step may have left part of its numbers in `results`, so it takes its names out of
    `measured_by` (whatever earlier run it named no longer stands behind them) and into `failed_by`.
    """
    try:
        step()
    except BaseException as exc:
        for name in names:
            results.setdefault("measured_by", {}).pop(name, None)
            results.setdefault("failed_by", {})[name] = {**run_info, "error": str(exc)[-500:]}
        save()
        raise
    for name in names:
        results.setdefault("measured_by", {})[name] = run_info
        results.get("failed_by", {}).pop(name, None)
    save()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each benchmark (default: 3)")
    parser.add_argument(
        "--quick", action="store_true",
        help="smoke run of the code paths: a light converge (provision, verify) of 1 host, the wrapper pair on it,"
        " the route table from it; no heavy converge, fleet, EC2 count or bake",
    )  # fmt: skip
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--fleet", default="1,2,4,8", help="fleet sizes (default: 1,2,4,8)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for <date>.json")
    return parser


def main() -> int:
    parser = _parser()
    args = parser.parse_args()
    ran = ("wrapper", "routes") if args.quick else tuple(n for n in ALL if n in args.only.split(","))
    unknown = set(args.only.split(",")) - set(ALL)
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(sorted(unknown))}; accepted: {', '.join(ALL)}")
    sizes = [int(n) for n in args.fleet.split(",")]
    docker_engine.ensure_docker()
    docker_engine.ensure_image("12")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{time.strftime('%Y-%m-%d')}{'-quick' if args.quick else ''}.json"
    results: dict[str, Any] = {}
    if not args.quick and path.exists():
        # Another run of today: keep the benchmarks this one does not redo.
        results = json.loads(path.read_text(encoding="utf-8"))
    run_info = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}",
        "load_average_at_start": list(os.getloadavg()),
        "quick": args.quick,
        "repeat": args.repeat,
    }
    results.update(run_info)

    def save() -> None:  # after each benchmark, so a late failure loses nothing measured
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def step(names: tuple[str, ...], work: Callable[[], object]) -> None:
        measure(names, work, results, run_info, save)

    def ec2() -> None:
        results["ec2"] = ec2_stage.measure(args.repeat)

    def wrapper_fixed_cost() -> None:
        results["wrapper_fixed_cost"] = fixed_cost.measure(args.repeat)

    if "ec2" in ran:
        step(("ec2",), ec2)
    if "wrapper" in ran and not args.quick:
        step(("wrapper",), wrapper_fixed_cost)  # a failure of the wrapper pair below takes it back
    with tempfile.TemporaryDirectory(prefix="mocha-bench-") as tmp:
        bench = Bench(Path(tmp), max_iter=400)
        runs = Runs(bench, results, args.repeat, save)
        try:
            if args.quick:
                step(
                    ("wrapper", "routes"),
                    lambda: (
                        runs.converge(rerun_too=False, with_wrapper=True, keep_last=False, stages=LIGHT),
                        runs.routes_from_quick(bench.max_iter),
                    ),
                )
            else:
                pair = tuple(n for n in ("converge", "wrapper") if n in ran)
                if pair:
                    step(
                        pair,
                        lambda: runs.converge(
                            rerun_too="converge" in ran, with_wrapper="wrapper" in ran, keep_last="routes" in ran
                        ),
                    )
                if "fleet-heavy" in ran:
                    step(("fleet-heavy",), lambda: runs.fleet("fleet", HEAVY, sizes))
                if "fleet-light" in ran:
                    step(("fleet-light",), lambda: runs.fleet("fleet_light", LIGHT, sizes))
                if "routes" in ran:
                    step(("routes",), lambda: runs.routes(bench.max_iter))
        finally:
            bench.teardown(amis=True)
            stop_emulator(Path(tmp) / "state")

    print_table(results, ran if not args.quick else ("wrapper", "routes"))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
