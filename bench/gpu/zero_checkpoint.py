#!/usr/bin/env python3
"""Copies a diffusers model folder with every safetensors tensor zeroed.

    zero_checkpoint.py SRC_DIR DST_DIR

Same files, same headers (names, dtypes, shapes), all data bytes zero. A Kiln
artifact compiled from it runs exactly the kernels of the real model at the
same sizes, so it times the same, and gzip shrinks its weights to almost
nothing: that is how bench/gpu/make_bundle.sh gets a medium-size model onto
the GPU machine, which has no MLIR to compile one and takes at most 64 MiB.
Standard library only.
"""
import shutil
import struct
import sys
from pathlib import Path

CHUNK = 1 << 24


def zero_safetensors(src: Path, dst: Path):
    with open(src, "rb") as f:
        head = f.read(8)
        (size,) = struct.unpack("<Q", head)
        header = f.read(size)
        f.seek(0, 2)
        data_bytes = f.tell() - 8 - size
    with open(dst, "wb") as out:
        out.write(head)
        out.write(header)
        zeros = bytes(CHUNK)
        while data_bytes > 0:
            n = min(CHUNK, data_bytes)
            out.write(zeros[:n])
            data_bytes -= n


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.suffix == ".safetensors":
            target.parent.mkdir(parents=True, exist_ok=True)
            zero_safetensors(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


if __name__ == "__main__":
    main()
