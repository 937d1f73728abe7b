"""The benchmarks of BENCHMARKS.md, side by side in one run, on the sandbox.

    .venv/bin/python -m bench.run                 # full size (about 25 minutes on 2 cores)
    .venv/bin/python -m bench.run --quick         # reduced size: what CI runs

1. converge: a first `provision --sandbox` against a re-run on the converged host
   (per stage, with changed counts). Target: the re-run <= 15 s, changed = 0.
2. wrapper: the same playbook, tags and extravars on the converged host through
   `python -m mocha_ansible` and through plain `ansible-playbook`. Target <= 1.05.
3. fleet: first converges of N = 1, 2, 4, 8 hosts. Target t(8)/t(1) <= 2.5.
4. ec2: AWS API calls and wall time of the EC2 stage, fresh and re-run (bench.ec2_stage).

Each is repeated --repeat times; the median, min and max are printed, with the
ratios, and everything is written to bench/results/<date>.json (or --out). It uses
a private sandbox (its own emulator, containers, runs) and removes it at the end.
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
from pathlib import Path
from typing import Any

from bench import ec2_stage
from mocha_ansible import sandbox
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
            job = build_job(settings, run_dir, False, 0, Sandbox(image=sandbox.image_tag("12")))
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

    def teardown(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "mocha_ansible", "teardown", "--sandbox", "--yes"],
            cwd=ROOT, env=self.env, capture_output=True, check=False,
        )  # fmt: skip


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def show(label: str, values: list[float], base: list[float] | None = None) -> None:
    s = stats(values)
    ratio = f"  ratio {s['median'] / statistics.median(base):5.2f}" if base else ""
    print(f"  {label:<34} median {s['median']:7.1f} s  (min {s['min']:.1f}, max {s['max']:.1f}){ratio}")


def print_table(results: dict[str, Any], stages: str, sizes: list[int]) -> None:
    first, rerun = results["converge"]["first"], results["converge"]["rerun"]
    stage_runs, changed = results["converge"]["rerun_stages"], results["converge"]["rerun_changed_max"]
    plain, wrapper = results["wrapper"]["ansible_playbook"], results["wrapper"]["cli"]
    fleet = {int(n): v for n, v in results["fleet"].items()}
    print(f"\nmocha-ansible benchmarks ({results['machine']}; {results['repeat']} repetitions; stages {stages})")
    print("1. converge: first converge vs re-run of the converged host")
    show("first converge", first)
    show("re-run (target <= 15 s)", rerun, first)
    print(f"  re-run changed tasks (max over runs): {changed} (target 0)")
    for stage in stage_runs[0]:
        values = [run[stage]["seconds"] for run in stage_runs if stage in run]
        show(f"  re-run stage {stage}", values)
    print("2. wrapper: the same playbook through mocha-ansible vs plain ansible-playbook")
    show("ansible-playbook", plain)
    show("python -m mocha_ansible (target <= 1.05)", wrapper, plain)
    print(f"3. fleet: first converge of N hosts ({stages})")
    for n in sizes:
        show(f"N={n}" + (" (target <= 2.5)" if n == 8 else ""), fleet[n], fleet[sizes[0]])
    print("4. ec2: API calls and wall time of the EC2 stage")
    ec2_stage.report(results["ec2"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each benchmark (default: 3)")
    parser.add_argument("--quick", action="store_true", help="reduced size: provision+verify only, N = 1, 2")
    parser.add_argument("--fleet", default="1,2,4,8", help="fleet sizes (default: 1,2,4,8)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for <date>.json")
    args = parser.parse_args()
    stages = "provision,verify" if args.quick else "provision,verify,julia,mocha"
    host_stages = stages.replace("provision,", "")
    sizes = [1, 2] if args.quick else [int(n) for n in args.fleet.split(",")]
    sandbox.ensure_docker()
    sandbox.ensure_image("12")
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}",
        "quick": args.quick,
        "repeat": args.repeat,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{time.strftime('%Y-%m-%d')}{'-quick' if args.quick else ''}.json"

    def save() -> None:  # after each benchmark, so a late failure loses nothing measured
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    results["ec2"] = ec2_stage.measure(args.repeat)
    save()
    with tempfile.TemporaryDirectory(prefix="mocha-bench-") as tmp:
        bench = Bench(Path(tmp), max_iter=400)
        try:
            first, rerun, stage_runs = [], [], []
            wrapper, plain = [], []
            for i in range(args.repeat):
                seconds, _ = bench.cli(bench.provision_args(f"conv{i}", stages))
                first.append(seconds)
                seconds, per_stage = bench.cli(bench.provision_args(f"conv{i}", stages))
                rerun.append(seconds)
                stage_runs.append(per_stage)
                # Wrapper against plain, alternating, on the same converged host.
                seconds, _ = bench.cli(bench.provision_args(f"conv{i}", host_stages))
                wrapper.append(seconds)
                plain.append(bench.plain(f"conv{i}", host_stages))
                bench.teardown()
            changed = max(sum(s["changed"] for s in run.values()) for run in stage_runs)
            results["converge"] = {
                "first": first, "rerun": rerun, "rerun_stages": stage_runs, "rerun_changed_max": changed,
            }  # fmt: skip
            results["wrapper"] = {"cli": wrapper, "ansible_playbook": plain}
            save()
            fleet: dict[int, list[float]] = {n: [] for n in sizes}
            for i in range(args.repeat):
                for n in sizes:
                    seconds, _ = bench.cli(bench.provision_args(f"fleet{n}-{i}", stages, count=n))
                    fleet[n].append(seconds)
                    bench.teardown()
                    results["fleet"] = {str(k): v for k, v in fleet.items() if v}
                    save()
        finally:
            bench.teardown()
            stop_emulator(Path(tmp) / "state")

    print_table(results, stages, sizes)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
