"""The real cuDNN calls the compatibility layer resolves (REAL_CALLS in
roles/mocha_cifar/files/cudnn_compat/cudnn_compat.c), checked against a real cuDNN 9 or 8: each
name is exported by libcudnn, and its prototype in the cuDNN headers takes as many arguments, of
the same kinds (pointer, int-like, size_t, double), as the layer's function pointer.

    python3 tests/gpu/cudnn_real_signatures.py --lib .../nvidia/cudnn/lib/libcudnn.so.9 \
        --include .../nvidia/cudnn/include

Needs no GPU: the headers and libraries of pip's nvidia-cudnn-cu12/cu13 wheel will do. Exits 1 on
any difference, printing one line per call.
"""

from __future__ import annotations

import argparse
import ctypes
import re
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "roles" / "mocha_cifar" / "files" / "cudnn_compat" / "cudnn_compat.c"
HANDLE_TYPES = re.compile(r"(Handle_t|Descriptor_t|Stream_t)\b")


def kind(c_type: str) -> str:
    """P pointer or opaque handle, S size_t, D double, I any int or enum."""
    c_type = c_type.strip()
    if "*" in c_type or c_type.startswith("ptr_t") or HANDLE_TYPES.search(c_type):
        return "P"
    if "size_t" in c_type:
        return "S"
    return "D" if "double" in c_type else "I"


def layer_calls(source: str) -> dict[str, str]:
    block = source[source.index("#define REAL_CALLS") : source.index("#define DECLARE")].replace("\\\n", " ")
    calls = {}
    for name, args in re.findall(r"X\((\w+),\s*[\w ]+,\s*\((.*?)\)\)\s*(?=X\(|$)", block, re.S):
        calls[name] = "" if args.strip() == "void" else "".join(kind(a) for a in args.split(","))
    return calls


def header_prototypes(include: Path) -> dict[str, str]:
    text = "\n".join(p.read_text(errors="replace") for p in sorted(include.glob("cudnn*.h")))
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    protos: dict[str, str] = {}
    for name, args in re.findall(r"\b(cudnn\w+)\s*\(([^;{()]*)\)\s*;", text):
        params = [a for a in " ".join(args.split()).split(",") if a.strip() not in ("", "void")]
        # Drop each parameter's name: the last word, unless the type ends in '*'.
        types = [a if a.strip().endswith("*") else re.sub(r"\b\w+\s*$", "", a) for a in params]
        protos.setdefault(name, "".join(kind(t) for t in types))
    return protos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, help="the real libcudnn.so.9 (or .8)")
    parser.add_argument("--include", type=Path, required=True, help="the folder holding cudnn.h and cudnn_*.h")
    args = parser.parse_args()
    calls = layer_calls(LAYER.read_text())
    protos = header_prototypes(args.include)
    lib = ctypes.CDLL(args.lib)
    bad = 0
    for name, mine in calls.items():
        real = protos.get(name)
        exported = hasattr(lib, name)
        ok = exported and real == mine
        bad += not ok
        missing = "" if exported else ", NOT EXPORTED"
        print(f"{'ok  ' if ok else 'DIFF'} {name}: layer {mine or '-'}, header {real or '-'}{missing}")
    print(f"{len(calls) - bad} of {len(calls)} real calls match (P pointer, I int, S size_t, D double)")
    return 1 if bad or not calls else 0


if __name__ == "__main__":
    sys.exit(main())
