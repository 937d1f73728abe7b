#!/usr/bin/env python3
"""TEST DOUBLE: a small CIFAR-10 in the real binary layout, as a .tar.gz, and its MD5.

usage: make_dataset.py OUT.tar.gz [RECORDS_PER_BATCH [MD5_FILE]]
Each record: 1 label byte (0-9), then 1024 red, 1024 green, 1024 blue bytes.
"""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile


def batch(n: int, seed: int) -> bytes:
    out = bytearray()
    for i in range(n):
        out.append((i + seed) % 10)
        out += bytes((i * 7 + seed + j) % 256 for j in range(3072))
    return bytes(out)


def main(path: str, n: int = 10, md5_file: str | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        files = {f"data_batch_{k}.bin": batch(n, k) for k in range(1, 6)}
        files["test_batch.bin"] = batch(n, 99)
        files["batches.meta.txt"] = (
            "\n".join(
                ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
            ).encode()
            + b"\n"
        )
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with open(path, "rb") as fh:
        # The checksum format CIFAR-10's own page publishes; an integrity check, not security.
        digest = hashlib.md5(fh.read(), usedforsecurity=False).hexdigest()
    print(digest)
    if md5_file:
        with open(md5_file, "w") as fh:
            fh.write(digest + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10, sys.argv[3] if len(sys.argv) > 3 else None)
