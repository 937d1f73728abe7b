"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DOUBLES = ROOT / "tests" / "doubles"
GPU_PROFILES = DOUBLES / "gpu_stand_in" / "profiles"
VENV_BIN = Path(sys.executable).parent


def ansible_env(extra: dict[str, str] | None = None, path_prefix: str | None = None) -> dict[str, str]:
    """A minimal environment for ansible-playbook runs in tests."""
    import os

    env = {k: v for k, v in os.environ.items() if k.startswith(("LANG", "LC_", "HOME", "TMPDIR", "AWS_"))}
    path = f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin"
    env["PATH"] = f"{path_prefix}:{path}" if path_prefix else path
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env.update(extra or {})
    return env


def run_playbook(
    playbook: str | Path, *extra_args: str, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:

    cmd = [
        str(VENV_BIN / "ansible-playbook"),
        str(ROOT / playbook) if not Path(playbook).is_absolute() else str(playbook),
    ]
    return subprocess.run(
        [*cmd, *extra_args],
        env=env or ansible_env(),
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
