"""What the README's first command must have printed, checked on CI's own run of it.

.ci/run runs the README's first command once, exactly as written, as root with the real
HOME, and tees its output (and the next steps': results, teardown) to a log. This reads
that log; it replaces a pytest test that ran the same command a second time.
Usage: python .ci/check_first_command.py LOG
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

STAGES = ("sandbox", "preflight", "provision", "verify", "julia", "mocha", "results", "after")
EXPECTED = (
    *(f"[{stage}] ok in" for stage in STAGES),
    "SANDBOX: no AWS account and no GPU are used.",
    # The trained-model summary, labelled as the stand-in's (results latest).
    "TEST DOUBLE, not a training result: backend cpu-native; 10000/10000 iterations",
    "Teardown complete",
    # The hints name the program as it runs from here: .ci/run, like the README, has no
    # .venv/bin on PATH (issue 34 item 4).
    "Tear down with: .venv/bin/mocha-ansible teardown --sandbox --deployment default",
    "  .venv/bin/mocha-ansible provision --sandbox --down",
)


def main(log: Path) -> int:
    out = log.read_text(encoding="utf-8", errors="replace")
    missing = [line for line in EXPECTED if line not in out]
    home = Path(os.environ["HOME"])
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        missing.append(f"HOME {home} of mode 0700 (it is {mode:04o})")
    for line in missing:
        print(f"README's first command: expected in its output: {line}", file=sys.stderr)
    if not missing:
        print(f"README's first command: all {len(EXPECTED)} expected lines found; HOME {home} is {mode:04o}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
