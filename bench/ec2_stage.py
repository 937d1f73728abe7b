"""EC2 stage cost: AWS API calls and wall time of ec2_gpu, fresh launch vs re-run.

Runs playbooks/provision.yml against the counting emulator double
(tests/doubles/faulty_emulator.py, with no faults), N times each, and prints
per-action call counts and the median/min/max wall times side by side.

    .venv/bin/python -m bench.ec2_stage [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from mocha_ansible.project import project_dir
from mocha_ansible.runner import PlaybookJob, run_playbook
from tests.doubles.faulty_emulator import start_faulty_emulator


def measure(repeat: int) -> dict[str, Any]:
    """API calls per action and wall seconds of ec2_gpu: a fresh launch, then a re-run."""
    emu = start_faulty_emulator()
    saved = {k: os.environ.get(k) for k in (*emu.env(), "AWS_DEFAULT_REGION")}
    os.environ.update({**emu.env(), "AWS_DEFAULT_REGION": "us-east-1"})
    times: dict[str, list[float]] = {"fresh": [], "rerun": []}
    calls: dict[str, Counter[str]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extravars = {
                "ec2_gpu_instance_type": "g4dn.xlarge",
                "ec2_gpu_ami": "ami-785db401",
                "ec2_gpu_ssh_cidr": "203.0.113.7/32",
                "ec2_gpu_wait_for_ssh": False,
                "ec2_gpu_key_dir": f"{tmp}/keys",
            }
            for i in range(repeat):
                emu.reset()
                for kind in ("fresh", "rerun"):
                    emu.calls.clear()
                    job = PlaybookJob(
                        playbook=project_dir() / "playbooks/provision.yml", ident=f"{kind}{i}", extravars=extravars
                    )
                    start = time.monotonic()
                    result = run_playbook(job, Path(tmp) / "runs")
                    times[kind].append(time.monotonic() - start)
                    if not result.ok:
                        raise SystemExit(f"{kind} run failed: {result.failed_tasks}")
                    calls[kind] = Counter(emu.calls)
    finally:
        emu.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {"calls": {k: dict(v) for k, v in calls.items()}, "seconds": times}


def report(data: dict[str, Any]) -> None:
    calls = {k: Counter(v) for k, v in data["calls"].items()}
    times = data["seconds"]
    actions = sorted(set(calls["fresh"]) | set(calls["rerun"]))
    print(f"{'API call':<48} {'fresh':>6} {'re-run':>7}")
    for action in actions:
        print(f"{action:<48} {calls['fresh'][action]:>6} {calls['rerun'][action]:>7}")
    print(f"{'total':<48} {sum(calls['fresh'].values()):>6} {sum(calls['rerun'].values()):>7}")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"wall time: re-run/fresh = {med['rerun'] / med['fresh']:.2f}")
    for kind, values in times.items():
        print(f"  {kind:<6} median {med[kind]:.1f} s (min {min(values):.1f}, max {max(values):.1f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = measure(args.repeat)
    report(data)
    out = project_dir() / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"ec2_stage-{time.strftime('%Y-%m-%d')}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
