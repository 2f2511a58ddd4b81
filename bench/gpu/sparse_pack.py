#!/usr/bin/env python3
"""Packs a mostly-zero file (a zero-weight artifact) into its non-zero parts.

    sparse_pack.py pack FILE PACK.gz      # here
    sparse_pack.py unpack PACK.gz FILE    # on the GPU machine

pack keeps the 1 MiB blocks of FILE that hold any non-zero byte (the
FlatBuffer and code before the weight segment, the constant tables after
the zero weights) with their offsets, gzipped; unpack writes them back into
a file of the original size whose other blocks are a sparse hole, so that
FLUX.1-dev's 24 GB zero-weight artifact (bench/gpu/make_bundle.sh) travels
as ~10 MB and is rebuilt in seconds instead of being gunzipped byte by
byte. The rebuilt file is byte-identical (holes read as zeros). Standard
library only.
"""
import gzip
import json
import os
import struct
import sys

BLOCK = 1 << 20


def pack(src, dst):
    total = os.path.getsize(src)
    extents = []  # [offset, length], merged across neighbouring blocks
    with open(src, "rb") as f, gzip.open(dst + ".data", "wb", compresslevel=6) as data:
        offset = 0
        while True:
            block = f.read(BLOCK)
            if not block:
                break
            if block.count(0) != len(block):
                if extents and extents[-1][0] + extents[-1][1] == offset:
                    extents[-1][1] += len(block)
                else:
                    extents.append([offset, len(block)])
                data.write(block)
            offset += len(block)
    header = json.dumps({"size": total, "extents": extents}).encode()
    with open(dst, "wb") as out, open(dst + ".data", "rb") as data:
        out.write(struct.pack("<Q", len(header)) + header)
        while chunk := data.read(BLOCK):
            out.write(chunk)
    os.remove(dst + ".data")
    kept = sum(length for _, length in extents)
    print(f"{src}: {total} bytes, {kept} of them in {len(extents)} non-zero extents")


def unpack(src, dst):
    with open(src, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        with gzip.open(f, "rb") as data, open(dst, "wb") as out:
            out.truncate(header["size"])
            for offset, length in header["extents"]:
                out.seek(offset)
                left = length
                while left:
                    chunk = data.read(min(BLOCK, left))
                    if not chunk:
                        sys.exit(f"{src}: data ends inside the extent at {offset}")
                    out.write(chunk)
                    left -= len(chunk)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
