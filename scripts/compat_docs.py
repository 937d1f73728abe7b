"""docs/compatibility.md from the roles' compatibility tables (issue 15), so the page cannot drift.

Every fact the route depends on lives in one role's vars file with its source beside it; this
script only renders them. A table file that does not exist yet is shown as "not yet tabled".

.venv/bin/python scripts/compat_docs.py          # rewrite docs/compatibility.md
.venv/bin/python scripts/compat_docs.py --check  # exit 1 when the page differs (CI)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path("docs") / "compatibility.md"


@dataclass
class Row:
    """One fact-bearing row: its name, the cells shown and the source(s) it carries."""

    name: str
    cells: list[str]
    source: Any


@dataclass
class Table:
    title: str
    path: str  # relative to the repository root
    key: str  # the top-level variable the rows come from
    columns: list[str]
    rows_of: Callable[[Any], Iterator[Row]]
    note: str = ""
    missing: bool = False
    rows: list[Row] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "-"
    return " ".join(str(value).split())


def row_source(row: Any) -> Any:
    """A row's `source` (string) or `sources` (list), whichever it has."""
    if not isinstance(row, dict):
        return None
    return row.get("source") if "source" in row else row.get("sources")


def has_source(source: Any) -> bool:
    """A non-empty string, or a non-empty list of non-empty strings."""
    if isinstance(source, str):
        return bool(source.strip())
    if isinstance(source, list):
        return bool(source) and all(isinstance(s, str) and s.strip() for s in source)
    return False


def _presets(data: dict[str, Any]) -> Iterator[Row]:
    for name, p in data.items():
        families = p.get("driver_gpu_families") or []
        yield Row(
            f"`{name}`",
            [
                _text(p.get("distro")),
                _text(p.get("python")),
                _text(p.get("gcc")),
                _text(p.get("gcc_installable")),
                _text(p.get("nvidia_driver")) if p.get("nvidia_driver") else "none",
                _text(families) if families else "none",
                _text(p.get("cuda")),
                _text(p.get("cudnn")),
                _text(p.get("root_snapshot_gib")) if p.get("root_snapshot_gib") else "not tabled (read at launch)",
                "refused: " + _text(p["refused"]) if p.get("refused") else "usable",
            ],
            row_source(p),
        )


def _types(data: dict[str, Any]) -> Iterator[Row]:
    for name, t in data.items():
        yield Row(
            f"`{name}`",
            [
                _text(t.get("vcpus")),
                _text(t.get("gpus")),
                _text(t.get("gpu")),
                _text(t.get("compute_cap")),
                _text(t.get("usd_per_hour")),
            ],
            row_source(t),
        )


_METHODS = (("binary", "binary"), ("source_full", "source-full"), ("git", "source (git tag)"))


def _releases(data: dict[str, Any]) -> Iterator[Row]:
    for tag, release in data.items():
        for key, method in _METHODS:
            way = release.get(key)
            if way is None:
                continue
            if key == "git":
                what = "dependency hosts reachable: " + _text(way.get("deps_reachable"))
                if way.get("deps_from"):
                    what += (f"; dependency sources from {way['deps_from']}'s deps/srccache, each checked against"
                             f" the tag's deps/checksums ({_text(way.get('deps_verified_by'))})")  # fmt: skip
                checksum = "-"
            else:
                what = _text(way.get("url"))
                checksum = f"`{way['sha256']}`" if way.get("sha256") else "none: " + _text(way.get("note"))
            yield Row(f"`{tag}` {method}", [_text(release.get("minor")), what, checksum], row_source(way))


def _method_minutes(data: dict[str, Any]) -> Iterator[Row]:
    for method, m in data.items():
        yield Row(f"`{method}`", [_text(m.get("minutes")), _text(m.get("kind"))], row_source(m))


def _gcc(data: list[dict[str, Any]]) -> Iterator[Row]:
    for r in data:
        below = r.get("julia_below") or "any later"
        top = f"{r['gcc_max_major']}.x" if r.get("gcc_max_major") else "no known limit"
        cells = [_text(r.get("gcc_min")), top, _text(r.get("advice"))]
        yield Row(f"{r.get('julia_min')} to below {below}", cells, row_source(r))


def _toolchain(data: list[dict[str, Any]]) -> Iterator[Row]:
    for r in data:
        cells = [_text(r.get("image")), _text(r.get("gcc"))]
        yield Row(f"{r.get('julia_min')} to below {r.get('julia_below')}", cells, row_source(r))


def _mocha(data: dict[str, Any]) -> Iterator[Row]:
    for minor, m in data.items():
        majors = f"{m.get('cudnn_min')} <= major < {m.get('cudnn_below')}"
        yield Row(f"Julia {minor}", [_text(m.get("mocha")), _text(m.get("cudnn")), majors], row_source(m))


def _example_patches(fixes: dict[str, Any]) -> Callable[[dict[str, Any]], Iterator[Row]]:
    """Rows of mocha_cifar_example_patches: one per fix of a tag on a Julia minor, or one saying none."""

    def rows(data: dict[str, Any]) -> Iterator[Row]:
        for tag, minors in data.items():
            for minor, pair in minors.items():
                if not pair.get("fixes"):
                    yield Row(f"{tag} on Julia {minor}", ["-", "none", _text(pair.get("why"))], row_source(pair))
                for name in pair.get("fixes") or []:
                    fix = fixes.get(name, {})
                    where = f"`{fix.get('file')}` line {fix.get('line')}"
                    change = f"`{fix.get('old')}` → `{fix.get('new')}`"
                    sources = [*(row_source(fix) or []), *(row_source(pair) or [])]
                    yield Row(f"{tag} on Julia {minor}", [where, change, _text(fix.get("julia"))], sources)

    return rows


def _example_lists(data: list[dict[str, Any]]) -> Iterator[Row]:
    for r in data:
        yield Row(f"`{r.get('list')}` in `data/`", [f"`{r.get('names')}`"], row_source(r))


def _speed(data: dict[str, Any]) -> Iterator[Row]:
    for backend, s in data.items():
        label = "estimate" if s.get("estimate") else "measured"
        yield Row(f"`{backend}`", [_text(s.get("seconds_per_200")), label], row_source(s))


def _setup(data: dict[str, Any]) -> Iterator[Row]:
    label = "estimate" if data.get("estimate") else _text(data.get("kind"))
    yield Row("Mocha setup (Pkg.add, build, test, dataset)", [_text(data.get("minutes")), label], row_source(data))


def _toolkits(data: dict[str, Any]) -> Iterator[Row]:
    for r in data.get("toolkits", []):
        below = r.get("below") or "any later"
        yield Row(
            f"CUDA {r.get('min')} to below {below}",
            [f"sm_{r.get('sm_min')} to sm_{r.get('sm_max')}", _text(r.get("older_gpu_fix"))],
            row_source(r),
        )


def _names(data: dict[str, Any]) -> Iterator[Row]:
    for r in data.get("name_compute_caps", []):
        yield Row(f"`{r.get('pattern')}`", [_text(r.get("compute_cap"))], row_source(r))


def _layer(data: dict[str, Any]) -> Iterator[Row]:
    for r in data.get("cudnn_via_compat_layer", []):
        mocha, cudnn = r.get("mocha", {}), r.get("cudnn", {})
        yield Row(
            f"Mocha {mocha.get('min')} to below {mocha.get('below')}",
            [f"{cudnn.get('min')} <= major < {cudnn.get('below')}"],
            row_source(r),
        )


def _refused(data: list[dict[str, Any]]) -> Iterator[Row]:
    for r in data:
        cells = [_text(r.get("reason")), _text(r.get("fix"))]
        yield Row(f"{r.get('name')} (`{r.get('distribution')}` {r.get('major')})", cells, row_source(r))


def _example_fixes(root: Path = ROOT) -> dict[str, Any]:
    """The fixes the example-patches table names (the same file, another key)."""
    path = root / "roles" / "mocha_cifar" / "vars" / "example_patches.yml"
    if not path.is_file():
        return {}
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("mocha_cifar_example_fixes") or {}


def tables() -> list[Table]:
    """Every table the route reads: which file, which variable, how its rows are shown."""
    price = "USD/hour on demand (estimate)"
    return [
        Table(
            "AMI presets",
            "roles/ec2_gpu/vars/main.yml",
            "ec2_gpu_ami_presets",
            [
                *("preset", "distro", "Python", "GCC", "other GCCs installable", "NVIDIA driver"),
                *("GPU families the image lists", "CUDA", "cuDNN", "root snapshot, GiB (smallest root volume)"),
                "status",
            ],
            _presets,
            "The default preset is `dlami-ubuntu` (`roles/ec2_gpu/defaults/main.yml`). EC2 refuses a root volume"
            " smaller than the image's root snapshot; ec2_gpu reads the snapshot's size from DescribeImages and"
            " refuses such a volume before it creates anything.",
        ),
        Table(
            "Hosts julia_build and mocha_cifar refuse (with --target too)",
            "roles/julia_build/vars/refused_hosts.yml",
            "julia_build_refused_hosts",
            ["host", "reason", "fix"],
            _refused,
            "mocha_cifar refuses the same rows (`roles/mocha_cifar/vars/refused_hosts.yml`), at its package step.",
        ),
        Table(
            "Instance types",
            "roles/ec2_gpu/vars/instance_types.yml",
            "ec2_gpu_instance_types",
            ["type", "vCPUs", "GPUs", "GPU", "compute capability", price],
            _types,
            "Prices are estimates: us-east-1 Linux on demand, read on the date `ec2_gpu_price_date` gives.",
        ),
        Table(
            "Julia releases: the ways to get each",
            "roles/julia_build/vars/julia_releases.yml",
            "julia_build_releases",
            ["release and method", "Julia minor", "URL (or what a git-tag build needs)", "sha256"],
            _releases,
        ),
        Table(
            "Julia methods: minutes before Mocha's setup starts",
            "roles/julia_build/vars/julia_releases.yml",
            "julia_build_method_minutes",
            ["method", "minutes", "kind"],
            _method_minutes,
        ),
        Table(
            "Julia and GCC",
            "roles/julia_build/vars/julia_gcc.yml",
            "julia_build_gcc_defaults",
            ["Julia", "GCC at least", "GCC at most", "advice"],
            _gcc,
        ),
        Table(
            "Julia build toolchain images (julia_build_toolchain: container)",
            "roles/julia_build/vars/julia_toolchain.yml",
            "julia_build_toolchain_images",
            ["Julia", "image", "GCC"],
            _toolchain,
        ),
        Table(
            "Mocha per Julia minor, and the cuDNN it calls",
            "roles/mocha_cifar/vars/mocha_compat.yml",
            "mocha_cifar_compat",
            ["Julia", "Mocha", "cuDNN generation", "cuDNN majors that fit"],
            _mocha,
        ),
        Table(
            "Mocha's CIFAR-10 example: the fixes each Julia minor needs (mocha_cifar's own copy)",
            "roles/mocha_cifar/vars/example_patches.yml",
            "mocha_cifar_example_patches",
            ["Mocha tag and Julia", "released file and line", "fix", "Julia change"],
            _example_patches(_example_fixes()),
            "Mocha's tree stays as released; the role copies `examples/cifar10/convert.jl` and `cifar10.jl`"
            " into its run folder, applies the row's fixes there and runs the copies. A tag with no row for"
            " its Julia minor is refused before anything runs.",
        ),
        Table(
            "Mocha's CIFAR-10 example: the data lists get-cifar10.sh writes",
            "roles/mocha_cifar/vars/example_patches.yml",
            "mocha_cifar_example_lists",
            ["list", "names (relative to examples/cifar10)"],
            _example_lists,
        ),
        Table(
            "Training speed per backend (CIFAR-10 example)",
            "roles/mocha_cifar/vars/backend_speed.yml",
            "mocha_cifar_backend_speed",
            ["backend", "seconds per 200 iterations", "kind"],
            _speed,
            "Figures from other machines, labelled estimates unless measured here.",
        ),
        Table(
            "Mocha setup time",
            "roles/mocha_cifar/vars/backend_speed.yml",
            "mocha_cifar_setup_minutes",
            ["step", "minutes", "kind"],
            _setup,
        ),
        Table(
            "CUDA toolkits and the GPUs they build for",
            "roles/cuda_verify/vars/cuda_support.yml",
            "cuda_verify_support",
            ["toolkit", "architectures", "for older GPUs"],
            _toolkits,
        ),
        Table(
            "GPU names and compute capability (when the driver cannot say)",
            "roles/cuda_verify/vars/cuda_support.yml",
            "cuda_verify_support",
            ["name pattern", "compute capability"],
            _names,
        ),
        Table(
            "cuDNN through mocha_cifar's compatibility layer",
            "roles/cuda_verify/vars/cuda_support.yml",
            "cuda_verify_support",
            ["Mocha", "host cuDNN"],
            _layer,
        ),
    ]


def load(root: Path = ROOT) -> list[Table]:
    """The tables with their rows, read from the role files under root."""
    loaded = []
    for table in tables():
        path = root / table.path
        if not path.is_file():
            table.missing = True
        else:
            data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(table.key)
            if data is None:
                table.missing = True
            else:
                table.rows = list(table.rows_of(data))
        loaded.append(table)
    return loaded


def _source_cell(source: Any) -> str:
    if not has_source(source):
        return "**no source**"
    items = [source] if isinstance(source, str) else source
    return "; ".join(" ".join(str(s).split()) for s in items)


def render(loaded: list[Table]) -> str:
    lines = [
        "# Compatibility",
        "",
        "<!-- Generated by scripts/compat_docs.py from the roles' vars files; edit those, then run the script. -->",
        "",
        "The facts the route depends on (AMI, instance type, Julia, Mocha, backend, CUDA), one table per",
        "role file, each row with its source. The roles and `mocha_ansible` read the same files; nothing",
        "is copied. A value its source does not state is marked *unverified* in the source column.",
    ]
    for table in loaded:
        lines += ["", f"## {table.title}", "", f"From `{table.path}` (`{table.key}`)."]
        if table.missing:
            lines += ["", f"Not yet tabled: `{table.path}` has no `{table.key}`."]
            continue
        if table.note:
            lines += ["", table.note]
        header = [*table.columns, "source"]
        lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for row in table.rows:
            cells = [row.name, *row.cells, _source_cell(row.source)]
            lines.append("| " + " | ".join(" ".join(c.split()).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def stale(root: Path = ROOT) -> bool:
    """Whether root's docs/compatibility.md differs from what root's tables give."""
    path = root / PAGE
    return not path.is_file() or path.read_text(encoding="utf-8") != render(load(root))


def main(argv: list[str]) -> int:
    # --root DIR renders another checkout (the tests use a doctored copy).
    root = Path(argv[argv.index("--root") + 1]) if "--root" in argv else ROOT
    if "--check" in argv:
        if stale(root):
            print(f"{PAGE} differs from the roles' tables; run: python scripts/compat_docs.py")
            return 1
        return 0
    (root / PAGE).write_text(render(load(root)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
