"""EC2 stage cost: AWS API calls and wall time of ec2_gpu, fresh launch vs re-run.

Runs playbooks/provision.yml against a private copy of the sandbox's own AWS
emulator (mocha_ansible.emulator), N times each; moto's request recorder counts the
calls per service and action. Prints them and the median/min/max wall times side by side.

    .venv/bin/python -m bench.ec2_stage [--repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from mocha_ansible import emulator
from mocha_ansible.project import project_dir
from mocha_ansible.runner import PlaybookJob, run_playbook

# SigV4's credential scope names the service: Credential=KEY/DATE/REGION/SERVICE/aws4_request.
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def _recorder(emu: emulator.Emulator, verb: str) -> str:
    req = urllib.request.Request(
        f"{emu.url}/moto-api/recorder/{verb}", method="POST" if verb != "download-recording" else "GET"
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.read().decode("utf-8"))


def _action(entry: dict[str, Any]) -> str:
    """`service:Action` of one recorded request (query protocol: the Action field; JSON: X-Amz-Target)."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    match = _SCOPE.search(headers.get("authorization", ""))
    service = match.group(1) if match else "?"
    target = headers.get("x-amz-target")
    if target:
        return f"{service}:{target.rpartition('.')[2]}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    query = urllib.parse.parse_qs(body) or urllib.parse.parse_qs(urllib.parse.urlsplit(entry.get("url", "")).query)
    return f"{service}:{query.get('Action', ['?'])[0]}"


def count_calls(recording: str) -> Counter[str]:
    return Counter(_action(json.loads(line)) for line in recording.splitlines() if line.strip())


def measure(repeat: int) -> dict[str, Any]:
    """API calls per action and wall seconds of ec2_gpu: a fresh launch, then a re-run."""
    times: dict[str, list[float]] = {"fresh": [], "rerun": []}
    calls: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        saved = dict(os.environ)
        # The emulator inherits this: its recorder writes there, inside the private folder.
        os.environ["MOTO_RECORDER_FILEPATH"] = str(Path(tmp) / "recording.jsonl")
        emu = emulator.start_emulator(state)
        os.environ.update({**emu.env(), "AWS_DEFAULT_REGION": "us-east-1"})
        try:
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
                    job = PlaybookJob(
                        playbook=project_dir() / "playbooks/provision.yml", ident=f"{kind}{i}", extravars=extravars
                    )
                    _recorder(emu, "reset-recording")
                    _recorder(emu, "start-recording")
                    start = time.monotonic()
                    result = run_playbook(job, Path(tmp) / "runs")
                    times[kind].append(time.monotonic() - start)
                    _recorder(emu, "stop-recording")
                    if not result.ok:
                        raise SystemExit(f"{kind} run failed: {result.failed_tasks}")
                    calls[kind] = count_calls(_recorder(emu, "download-recording"))
        finally:
            emulator.stop_emulator(state)
            os.environ.clear()
            os.environ.update(saved)
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
