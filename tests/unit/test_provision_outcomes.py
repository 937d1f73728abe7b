"""provision's verdicts that no playbook decides: the results stage, the key folder, the confirmation.

The pipeline is the TEST DOUBLE tests/doubles/pipeline_stand_in.py where a test needs one.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from mocha_ansible import errors, provision
from mocha_ansible.config import build_settings
from mocha_ansible.environment import Aws, Environment, Sandbox
from mocha_ansible.errors import ConfigError, ExitCode
from mocha_ansible.provision import Options, Provision, confirm_on_tty
from tests.doubles.pipeline_stand_in import run_pipeline_without_results
from tests.helpers import ROOT


def _never_asked(question: str) -> bool:
    raise AssertionError(f"provision asked {question!r} for a --target run")


def test_a_failed_results_stage_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14.8: the host trained and sent back nothing: exit 1, and run.json says failed."""
    monkeypatch.setattr(provision, "run_pipeline", run_pipeline_without_results)
    settings = build_settings({"target": "gpu.example.com"}, {})
    code = Provision(settings, Options(runs_dir=str(tmp_path), json=True), _never_asked).run()
    assert code == ExitCode.PLAY_FAILED
    (record_path,) = tmp_path.glob("*/run.json")
    record = json.loads(record_path.read_text())
    assert record["status"] == "failed"
    assert {"stage": "results", "status": "failed"}.items() <= next(
        s for s in record["stage_results"] if s["stage"] == "results"
    ).items()


@pytest.mark.parametrize("env", [Aws(), Sandbox()], ids=["aws", "sandbox"])
def test_the_key_folder_follows_extra_vars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: Environment) -> None:
    """Issue 14.8: teardown after --destroy-on-failure/--after terminate deletes the key where the role saved it."""
    monkeypatch.setenv("MOCHA_ANSIBLE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    keys = tmp_path / "my keys"
    settings = build_settings({"extra_vars": {"ec2_gpu_key_dir": str(keys)}}, {})
    assert Provision(settings, Options(), _never_asked, env).key_dir == keys
    # Without -e: ~/.ssh on AWS, the sandbox's own folder in the sandbox (no emulator needs to start for that).
    default = Provision(build_settings({}, {}), Options(), _never_asked, env)
    assert default.key_dir == (tmp_path / "sandbox" / "keys" if env.emulated else Path("~/.ssh").expanduser())


def test_the_confirmation_refusal_names_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(ConfigError, match=r"^teardown: refusing to delete without confirmation") as err:
        confirm_on_tty("Delete all of the above?", refusal="teardown: refusing to delete")
    assert err.value.exit_code == 2 and err.value.fix == "add --yes"


def test_every_error_class_is_raised_somewhere() -> None:
    """Issue 14.8: an exception class nothing raises is dead code (errors.PlayFailed was)."""
    raised: set[str] = set()
    for path in (ROOT / "mocha_ansible").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                raised.add(call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", ""))
    classes = [
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, errors.MochaAnsibleError) and obj is not errors.MochaAnsibleError
    ]
    assert classes and sorted(c for c in classes if c not in raised) == []
