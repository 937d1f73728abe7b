"""Training curves from mocha_cifar's results.json: a PNG, and a terminal sparkline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mocha_ansible.errors import MochaAnsibleError
from mocha_ansible.results import DOUBLE_LABEL, DOUBLE_SOURCE, from_double

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values)


def curves(report: dict[str, Any]) -> dict[str, tuple[list[int], list[float]]]:
    objective = report.get("objective") or []
    accuracy = report.get("validation_accuracy") or []
    return {
        "objective": ([p["iter"] for p in objective], [float(p["obj_val"]) for p in objective]),
        "accuracy": ([p["iter"] for p in accuracy], [float(p["accuracy_pct"]) for p in accuracy]),
    }


def plot_runs(series: Sequence[tuple[str, dict[str, Any]]], path: Path) -> Any:
    """Objective and validation accuracy against iteration, one line per run; returns the Figure."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MochaAnsibleError("results --plot needs matplotlib", fix="pip install 'mocha-ansible[plot]'") from None
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_obj, ax_acc = fig.subplots(1, 2)
    doubles = 0
    for name, report in series:
        double = from_double(report)
        doubles += double
        label = f"{name} ({DOUBLE_SOURCE})" if double else name
        data = curves(report)
        ax_obj.plot(*data["objective"], marker=".", label=label)
        ax_acc.plot(*data["accuracy"], marker="o", label=label)
    ax_obj.set(title="Training objective", xlabel="iteration", ylabel="objective (loss)")
    ax_acc.set(title="Validation accuracy", xlabel="iteration", ylabel="accuracy (%)")
    if doubles:
        fig.suptitle(f"{DOUBLE_LABEL}: {doubles} of {len(series)} series came from a stand-in for Mocha", color="red")
    for ax in (ax_obj, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.savefig(path, dpi=100)
    return fig
