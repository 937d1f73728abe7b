"""Time to a trained model, per route: measured parts (this run, stand-ins) beside cited ones.

Measured here, against the sandbox's stand-ins (bench.run's `routes` benchmark): the
provision stage (ec2_gpu's calls against the emulator, the container's start), the
verify stage, the binary install of the stand-in Julia, a source build of the stand-in
(the real `make`, a small C tree), the Mocha stand-in's install and training, and a
launch from a baked image. Cited, from the roles' sourced tables (never invented here):
real Julia install/build minutes (roles/julia_build/vars/julia_releases.yml
`julia_build_method_minutes`), Mocha's set-up minutes and seconds per 200 iterations per
backend (roles/mocha_cifar/vars/backend_speed.yml). Instance boot has no sourced figure
in the project, so it is listed and left out of the totals.
"""

from __future__ import annotations

from typing import Any

from mocha_ansible.project import role_yaml

MEASURED = "measured (stand-in)"
MEASURED_EMULATOR = "measured (emulator)"
CITED = "cited"
NOT_COUNTED = "not counted"

# (route name, Julia method or None for a baked image, backend, measured run of bench.run to read)
ROUTES: tuple[tuple[str, str | None, str, str], ...] = (
    ("binary Julia, CPU backend with the native extension (the default)", "binary", "cpu_native", "binary"),
    ("binary Julia, GPU backend", "binary", "gpu", "binary"),
    ("Julia built from source, GPU backend", "source", "gpu", "source"),
    ("launch from a baked AMI, GPU backend", None, "gpu", "baked"),
)


def default_max_iter() -> int:
    """The iterations a run trains unless told otherwise: what the cited training time is for."""
    return int(role_yaml("mocha_cifar", "defaults/main.yml")["mocha_cifar_max_iter"])


def cited_tables() -> dict[str, Any]:
    speed = role_yaml("mocha_cifar", "vars/backend_speed.yml")
    releases = role_yaml("julia_build", "vars/julia_releases.yml")
    return {
        "julia_minutes": releases["julia_build_method_minutes"],
        "setup": speed["mocha_cifar_setup_minutes"],
        "speed": speed["mocha_cifar_backend_speed"],
    }


def _part(name: str, kind: str, seconds: float | None, source: str) -> dict[str, Any]:
    return {"part": name, "kind": kind, "seconds": None if seconds is None else round(seconds, 1), "source": source}


def _source(row: dict[str, Any]) -> str:
    text = row.get("source") or "; ".join(row.get("sources", []))
    return " ".join(str(text).split())


def routes(measured: dict[str, dict[str, float]], max_iter: int, stand_in_iter: int) -> list[dict[str, Any]]:
    """Each route's parts and totals.

    `measured`: stage seconds of bench.run's route runs ("binary", "source", "baked"),
    keyed by stage (provision, verify, julia, mocha).
    `max_iter`: the iterations the cited training time is for (mocha_cifar_max_iter's default).
    """
    t = cited_tables()
    out = []
    for name, method, backend, run_key in ROUTES:
        run = measured.get(run_key, {})
        here = [
            _part("provision stage (EC2 calls, container start)", MEASURED_EMULATOR, run.get("provision"), "ec2_gpu"),
            _part("instance boot to SSH", NOT_COUNTED, None, "no sourced figure in the project's tables"),
            _part("verify stage", MEASURED, run.get("verify"), "cuda_verify in a container: report only"),
        ]
        if method is None:
            here.append(_part("Julia and Mocha from the baked image", MEASURED, run.get("julia"), "julia stage"))
            here.append(
                _part(f"Mocha stage, training {stand_in_iter} iterations", MEASURED, run.get("mocha"), "stand-in")
            )
            cited = [
                _part("Julia install or build", CITED, 0.0, "baked into the image: none"),
                _part("Mocha set-up", CITED, 0.0, "baked into the image: none"),
            ]
        else:
            here.append(_part(f"Julia {method} (stand-in)", MEASURED, run.get("julia"), "julia stage"))
            here.append(
                _part(f"Mocha stage, training {stand_in_iter} iterations", MEASURED, run.get("mocha"), "stand-in")
            )
            row = t["julia_minutes"][method]
            cited = [
                _part(f"Julia {method}", CITED, float(row["minutes"]) * 60, _source(row)),
                _part("Mocha set-up", CITED, float(t["setup"]["minutes"]) * 60, _source(t["setup"])),
            ]
        speed = t["speed"][backend]
        training = max_iter / 200 * float(speed["seconds_per_200"])
        label = f"training {max_iter} iterations on {backend} ({speed['seconds_per_200']} s per 200)"
        cited.append(_part(label, CITED, training, _source(speed)))
        measured_total = sum(p["seconds"] or 0.0 for p in here)
        # The real route: the cited parts, plus the measured ones that no table cites (provision, verify).
        real_total = sum(p["seconds"] for p in cited) + sum(p["seconds"] or 0.0 for p in here[:3])
        out.append(
            {
                "route": name,
                "here": here,
                "cited": cited,
                "total_here_seconds": round(measured_total, 1),
                "total_real_seconds": round(real_total, 1),
                "complete": all(p["seconds"] is not None for p in here if p["kind"] != NOT_COUNTED),
            }
        )
    return out


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.1f} s"


def markdown(table: list[dict[str, Any]]) -> str:
    """The BENCHMARKS.md table: one row per route, its parts measured here, then cited, then the totals."""
    lines = [
        "| route | provision stage (measured, emulator) | boot | verify (measured, stand-in) "
        "| Julia (measured, stand-in) | Mocha install + training (measured, stand-in) "
        "| Julia (cited) | Mocha set-up (cited) | training (cited) | **total here** (measured) "
        "| **total, real estimate** (cited + measured provision, verify) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table:
        cells = [r["route"], *(_fmt(p["seconds"]) for p in r["here"]), *(_fmt(p["seconds"]) for p in r["cited"])]
        cells[2] = "not counted"
        if r["complete"]:
            cells += [f"**{_fmt(r['total_here_seconds'])}**", f"**{_fmt(r['total_real_seconds'])}**"]
        else:  # a route whose runs did not happen: no total pretends otherwise
            cells += ["n/a (not run)", f"at least {_fmt(r['total_real_seconds'])} (cited parts only)"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(table: list[dict[str, Any]]) -> None:
    for r in table:
        print(f"  {r['route']}")
        for p in r["here"] + r["cited"]:
            print(f"    {p['part']:<58} {p['kind']:<20} {_fmt(p['seconds']):>9}")
        print(f"    {'total here (stand-ins)':<58} {'':<20} {_fmt(r['total_here_seconds']):>9}")
        print(f"    {'total real estimate (boot not counted)':<58} {'':<20} {_fmt(r['total_real_seconds']):>9}")
