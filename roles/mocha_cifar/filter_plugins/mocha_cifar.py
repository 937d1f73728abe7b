"""Parse Mocha's CIFAR-10 training log into numbers, and turn the example's fixes into the patch
script's arguments (pure Python; pytest imports it).

Two formats (pluskid/Mocha.jl: Logging.jl up to v0.2.0, Memento from v0.3.0 per its REQUIRE files):
- Logging.jl (Mocha v0.1.2/v0.2.0): ``26-Nov 03:40:12:INFO:root:TRAIN iter=000200 obj_val=2.30258509``.
  The timestamp has one-second resolution and no year.
- Memento (v0.3.x): ``[2017-11-20 10:00:00 | info | root]: TRAIN iter=000200 obj_val=2.30``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_LOGGING = re.compile(r"^(\d{2})-([A-Z][a-z]{2}) (\d{2}):(\d{2}):(\d{2}):[A-Z]+:[^:]*:(.*)$")
_MEMENTO = re.compile(r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? \| \w+ \| [^\]]*\]: ?(.*)$")
_TRAIN = re.compile(r"TRAIN iter=(\d+) obj_val=([-+0-9.eE]+|NaN|Inf)\s*$")
_VALIDATION = re.compile(r"## Performance on Validation Set after (\d+) iterations")
_ACCURACY = re.compile(r"Accuracy \(avg over (\d+)\) = ([0-9.]+)%")
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
TUTORIAL_SECONDS_PER_200 = 3.0  # the tutorial's K80 figure, "about 3 seconds per 200 iterations"
# A stand-in for Mocha says so in its banner; its numbers must never pass for training results.
_DOUBLE_MARK = "TEST DOUBLE"
SOURCE_MOCHA = "mocha"
SOURCE_DOUBLE = "test-double"


def _entries(text, year):
    """(timestamp or None, message) per parsable line; Logging.jl times made monotonic."""
    previous = None
    for raw in (text or "").splitlines():
        line = raw.rstrip("\r")
        m = _MEMENTO.match(line)
        if m:
            stamp = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
            yield stamp, m.group(2)
            previous = stamp
            continue
        m = _LOGGING.match(line)
        if m and m.group(2) in _MONTHS:
            day, month = int(m.group(1)), _MONTHS[m.group(2)]
            try:
                stamp = datetime(year, month, day, int(m.group(3)), int(m.group(4)), int(m.group(5)))
            except ValueError:
                continue
            # No year in the log: a run across New Year goes back to January.
            while previous is not None and stamp < previous - timedelta(days=1):
                stamp = stamp.replace(year=stamp.year + 1)
            yield stamp, m.group(6)
            previous = stamp
            continue
        yield None, line


def mocha_cifar_parse_log(text, year=2016, backend=None):
    objective, accuracy, snapshots = [], [], []
    stamps = {}
    pending_validation = None
    cuda = None
    double = None
    for stamp, message in _entries(text, int(year)):
        if double is None and _DOUBLE_MARK in message:
            double = message.strip()
        if "CUDA" in message and "enabled" in message:
            cuda = True
        elif "CUDA" in message and "disabled" in message:
            cuda = False
        t = _TRAIN.search(message)
        if t:
            iteration = int(t.group(1))
            objective.append({"iter": iteration, "obj_val": float(t.group(2))})
            if stamp is not None:
                stamps[iteration] = stamp
            continue
        v = _VALIDATION.search(message)
        if v:
            pending_validation = int(v.group(1))
            continue
        a = _ACCURACY.search(message)
        if a and pending_validation is not None:
            accuracy.append({"iter": pending_validation, "accuracy_pct": float(a.group(2)), "over": int(a.group(1))})
            pending_validation = None
            continue
        if "Saving snapshot to" in message:
            snapshots.append(message.split("Saving snapshot to", 1)[1].strip().rstrip("."))
    iters = sorted(stamps)
    seconds_per_200 = None
    wall = None
    if len(iters) >= 2 and iters[-1] > iters[0]:
        span = (stamps[iters[-1]] - stamps[iters[0]]).total_seconds()
        wall = span
        seconds_per_200 = round(span / ((iters[-1] - iters[0]) / 200.0), 3)
    return {
        "iterations": max((o["iter"] for o in objective), default=0),
        "objective": objective,
        "validation_accuracy": accuracy,
        "final_accuracy_pct": accuracy[-1]["accuracy_pct"] if accuracy else None,
        "seconds_per_200_iter": seconds_per_200,
        "wall_seconds": wall,
        "snapshots": snapshots,
        "backend": backend or ("gpu" if cuda else "cpu" if cuda is False else "unknown"),
        "tutorial_seconds_per_200_iter_k80": TUTORIAL_SECONDS_PER_200,
        "parsed_lines": len(objective) + len(accuracy),
        "source": SOURCE_DOUBLE if double else SOURCE_MOCHA,
        "source_note": f"from a test double, not from Mocha ({double})" if double else "parsed from Mocha's log",
    }


def mocha_cifar_patch_argv(fixes):
    """files/patch_example.sh's arguments for these rows of vars/example_patches.yml: LINE OLD NEW each."""
    return [str(value) for fix in fixes for value in (fix["line"], fix["old"], fix["new"])]


class FilterModule:
    def filters(self):
        return {"mocha_cifar_parse_log": mocha_cifar_parse_log, "mocha_cifar_patch_argv": mocha_cifar_patch_argv}
