"""`python -m tests.harness prepare`: start the Docker engine and build the local base images.

The same functions back the pytest fixtures and `provision --sandbox`.
"""

from __future__ import annotations

import sys
import time

from mocha_ansible import docker_engine


def main(argv: list[str]) -> int:
    if argv[:1] != ["prepare"]:
        print("usage: python -m tests.harness prepare [RELEASE ...]", file=sys.stderr)
        return 2
    releases = argv[1:] or ["12"]
    started = time.monotonic()
    docker_engine.ensure_docker()
    for release in releases:
        print(f"image {docker_engine.ensure_image(release)} ready ({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
