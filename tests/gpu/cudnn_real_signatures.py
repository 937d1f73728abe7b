"""The real cuDNN calls the compatibility layer resolves (REAL_CALLS in
roles/mocha_cifar/files/cudnn_compat/cudnn_compat.c), checked against a real cuDNN 9 or 8: each
name is exported by libcudnn, and every prototype of it in the cuDNN headers has the layer's
return type and parameter types, compared after one normalisation on both sides:
  - const and parameter names are dropped;
  - cuDNN's enums are int (C gives them int's size and calling convention);
  - opaque handles, descriptors, cudaStream_t and void* are one pointer type ("ptr");
  - a pointer to any of those is "ptr*";
  - a pointer to a struct is "struct*";
  - every other type (int64_t, float, size_t, unsigned ...) is kept as written.

    python3 tests/gpu/cudnn_real_signatures.py --lib .../nvidia/cudnn/lib/libcudnn.so.9 \
        [--include .../nvidia/cudnn/include]

Without --include, the headers are looked for beside the library (../include, ../../include) and
in /usr/include and /usr/local/cuda*/include. Needs no GPU: pip's nvidia-cudnn-cu12/cu13 wheel
holds both. Exits 1 on any difference, printing one line per call, and 2 when no headers are found.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import re
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "roles" / "mocha_cifar" / "files" / "cudnn_compat" / "cudnn_compat.c"
# The layer's own type names.
LAYER_TYPES = {"ptr_t": "ptr", "algo_perf_t": "struct"}


def header_texts(include: Path) -> str:
    text = "\n".join(p.read_text(errors="replace") for p in sorted(include.glob("cudnn*.h")))
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


class Types:
    """What each typedef name in the headers is: an enum, an opaque pointer or a struct."""

    def __init__(self, text: str) -> None:
        end = r"(\w+)\s*(?:CUDNN_DEPRECATED\s*)?;"  # a typedef may be marked deprecated
        self.enums = set(re.findall(r"typedef\s+enum\s*\w*\s*\{[^}]*\}\s*" + end, text))
        self.opaque = set(re.findall(r"typedef\s+struct\s+\w+\s*\*\s*" + end, text)) | {"cudaStream_t"}
        self.structs = set(re.findall(r"typedef\s+struct\s*\w*\s*\{[^}]*\}\s*" + end, text))

    def normal(self, c_type: str) -> str:
        words = c_type.replace("*", " * ").replace("const", " ").split()
        stars = words.count("*")
        base = " ".join(w for w in words if w != "*")
        base = LAYER_TYPES.get(base, base)
        if base in self.enums:
            base = "int"
        elif base in self.opaque or (base == "void" and stars):
            base, stars = "ptr", stars - (base == "void")
        elif base in self.structs:
            base = "struct"
        return base + "*" * stars


def split_params(args: str) -> list[str]:
    args = " ".join(args.split())
    return [] if args in ("", "void") else [a.strip() for a in args.split(",")]


def drop_name(param: str) -> str:
    """'const cudnnTensorDescriptor_t xDesc' -> 'const cudnnTensorDescriptor_t'; 'int *n' -> 'int *'."""
    param = re.sub(r"\[\s*\]$", " *", param)  # int a[] is int *a
    return re.sub(r"\b\w+\s*$", "", param) if len(re.findall(r"\w+", param.replace("const", ""))) > 1 else param


def layer_calls(source: str, types: Types) -> dict[str, tuple[str, ...]]:
    block = source[source.index("#define REAL_CALLS") : source.index("#define DECLARE")].replace("\\\n", " ")
    calls = {}
    for name, ret, args in re.findall(r"X\((\w+),\s*([\w ]+),\s*\((.*?)\)\)\s*(?=X\(|$)", block, re.S):
        calls[name] = (types.normal(ret), *(types.normal(a) for a in split_params(args)))
    return calls


def header_prototypes(text: str, types: Types) -> dict[str, list[tuple[str, ...]]]:
    protos: dict[str, list[tuple[str, ...]]] = {}
    pattern = r"(\w[\w\s\*]*?)\s*\bCUDNNWINAPI\s+(cudnn\w+)\s*\(([^;{()]*)\)\s*;"
    for head, name, args in re.findall(pattern, text):
        ret = re.sub(r"\bCUDNN_DEPRECATED\b", " ", head).split()[-1]
        protos.setdefault(name, []).append(
            (types.normal(ret), *(types.normal(drop_name(p)) for p in split_params(args)))
        )
    return protos


def find_include(lib: str) -> Path | None:
    here = Path(lib).resolve().parent
    candidates = [here / "../include", here / "../../include", Path("/usr/include")]
    candidates += [Path(p) for p in sorted(glob.glob("/usr/local/cuda*/include"))]
    return next((c.resolve() for c in candidates if (c / "cudnn.h").exists()), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, help="the real libcudnn.so.9 (or .8)")
    parser.add_argument("--include", type=Path, help="the folder holding cudnn.h and cudnn_*.h")
    args = parser.parse_args()
    include = args.include or find_include(args.lib)
    if include is None or not (include / "cudnn.h").exists():
        print(f"no cudnn.h beside {args.lib} or in /usr/include, /usr/local/cuda*/include: pass --include")
        return 2
    text = header_texts(include)
    types = Types(text)
    calls = layer_calls(LAYER.read_text(), types)
    protos = header_prototypes(text, types)
    lib = ctypes.CDLL(args.lib)
    bad = 0
    for name, mine in calls.items():
        theirs = protos.get(name, [])
        problems = [] if hasattr(lib, name) else ["not exported"]
        problems += ["no prototype"] if not theirs else [f"header {t}" for t in dict.fromkeys(theirs) if t != mine]
        bad += bool(problems)
        shown = f"{mine[0]} {name}({', '.join(mine[1:])})"
        print(f"{'DIFF' if problems else 'ok  '} {shown}" + (": " + "; ".join(problems) if problems else ""))
    print(f"{len(calls) - bad} of {len(calls)} real calls match {include} and {args.lib}")
    return 1 if bad or not calls else 0


if __name__ == "__main__":
    sys.exit(main())
