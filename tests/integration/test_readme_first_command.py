"""The README's first command, exactly as written, as root with a HOME of mode 0700 (issue 14, point 1).

Nothing else is prepared: no mirrors, no state, no runs, no environment variable the
README does not mention. Only the Docker engine runs already (the harness gate starts
it outside this test's namespace, as `scripts/sandbox` would on a fresh machine). The
command runs in a loopback-only network namespace: it provisions against the
emulator, so nothing it does may reach beyond this machine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mocha_ansible import sandbox
from tests.helpers import in_loopback_namespace

# The README's commands after the first one, in the same namespace as the emulator it started.
SCRIPT = r"""
set -u
./scripts/sandbox
rc=$?
echo "=== results latest"
.venv/bin/mocha-ansible results latest || rc=$?
echo "=== teardown"
.venv/bin/mocha-ansible teardown --sandbox --yes || rc=$?
.venv/bin/mocha-ansible provision --sandbox --down || rc=$?
exit $rc
"""


@pytest.mark.heavy
@pytest.mark.skipif(os.geteuid() != 0, reason="the README's user is root")
def test_readme_first_command_as_root_with_a_private_home(tmp_path: Path) -> None:
    sandbox.ensure_docker()
    home = tmp_path / "root-home"
    home.mkdir(mode=0o700)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    proc = in_loopback_namespace(SCRIPT, env=env, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    for stage in ("sandbox", "preflight", "provision", "verify", "julia", "mocha", "results", "after"):
        assert f"[{stage}] ok in" in out, stage
    # The trained-model summary, labelled as the stand-in's.
    assert "TEST DOUBLE, not a training result: backend cpu-native; 10000/10000 iterations" in out
    assert "Teardown complete" in out
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
