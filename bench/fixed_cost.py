"""The wrapper's own fixed cost: what `provision --sandbox` does in Python outside ansible-playbook.

Each repetition is a fresh interpreter (so imports are counted) against a private emulator:
imports, argv -> Settings, the route and the preflight (STS), and the two instance listings
(before and after the playbook). Docker and the playbook itself are not in it.

    .venv/bin/python -m bench.fixed_cost [--repeat 3]
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

PARTS = ("imports", "settings", "route_preflight", "instance_listings", "total")


def _child(url: str) -> None:
    t0 = time.monotonic()
    from mocha_ansible import provision
    from mocha_ansible.cli import build_parser
    from mocha_ansible.environment import Sandbox
    from mocha_ansible.preflight import judge_route, run_preflight
    from mocha_ansible.settings_flags import settings_from_args

    t1 = time.monotonic()
    os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    args = build_parser().parse_args(["provision", "--sandbox", "--stages", "verify,julia,mocha"])
    settings = Sandbox.adapt(settings_from_args(args))
    t2 = time.monotonic()
    env = Sandbox(image="bench")
    env.host_gcc = "12.2"
    run_preflight(settings, env, judge_route(settings, env))
    t3 = time.monotonic()
    provision._live(settings)
    provision._live(settings)
    t4 = time.monotonic()
    print(json.dumps(dict(zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True))))


def measure(repeat: int) -> dict[str, list[float]]:
    from mocha_ansible import emulator

    out: dict[str, list[float]] = {part: [] for part in PARTS}
    with tempfile.TemporaryDirectory(prefix="mocha-bench-fixed-") as tmp:
        emu = emulator.start_emulator(Path(tmp))
        try:
            # The emulator's first EC2 and STS answers load its backends: not the wrapper's cost.
            _run_child(emu.url)
            for _ in range(repeat):
                for part, seconds in _run_child(emu.url).items():
                    out[part].append(seconds)
        finally:
            emulator.stop_emulator(Path(tmp))
    return out


def _run_child(url: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.fixed_cost", "--child", url], capture_output=True, text=True, check=True
    )
    data: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def report(data: dict[str, Any]) -> None:
    for part in PARTS:
        values = data[part]
        print(f"  {part:<20} median {statistics.median(values):5.2f} s (min {min(values):.2f}, max {max(values):.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0
    report(measure(args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
