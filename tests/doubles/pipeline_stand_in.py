"""TEST DOUBLE for mocha_ansible.pipeline.run_pipeline: every stage "succeeds" on one host,
and that host sends back no results.json (what a mocha stage that trained but whose
fetch went missing leaves behind). It runs no playbook and touches nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mocha_ansible.pipeline import PipelineResult
from mocha_ansible.runner import HostRecap, RunResult

HOST = "i-0standin00000000"


def run_pipeline_without_results(settings: Any, progress: Any, run_dir: Path, **_: Any) -> PipelineResult:
    run = RunResult(
        status="successful",
        rc=0,
        artifact_dir=run_dir / "ansible",
        seconds=0.0,
        recap={HOST: HostRecap(ok=1)},
        failed_tasks=[],
    )
    return PipelineResult(run=run)
