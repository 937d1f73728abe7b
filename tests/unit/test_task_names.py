"""Each task's name says what it does once per file (issue 34 item 10): the progress view
showed three teardown steps as "Delete them", and a reader could not tell which had run."""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from tests.helpers import ROOT


def _names(tasks: Any) -> list[str]:
    found: list[str] = []
    for task in tasks or []:
        if isinstance(task, dict):
            found += [task["name"]] if "name" in task else []
            for key in ("block", "rescue", "always", "pre_tasks", "tasks", "post_tasks"):
                found += _names(task.get(key))
    return found


def test_no_two_tasks_of_a_file_share_a_name() -> None:
    files = sorted([*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("playbooks/*.yml")])
    repeated = {}
    for path in files:
        counts = Counter(_names(yaml.safe_load(path.read_text(encoding="utf-8"))))
        if twice := sorted(name for name, n in counts.items() if n > 1):
            repeated[str(path.relative_to(ROOT))] = twice
    assert len(files) > 20, "no task files were read: the test is not testing"
    assert repeated == {}
