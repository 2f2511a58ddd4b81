#!/usr/bin/env python3
"""Max relative difference between float32 tensors of safetensors files.

    compare_latents.py A.safetensors[:NAME] B.safetensors[:NAME] [--max X]

Prints `max rel diff <value> (<A> vs <B>)` and exits 1 when it exceeds --max.
The error is max |a - b| / max(max |b|, 1e-30), the goldens' measure
(test/tools/golden_error.h). Reads the files with the standard library
alone, so it runs wherever python3 does.
"""
import argparse
import json
import struct
import sys
from array import array


def read_tensor(spec):
    path, _, name = spec.partition(":")
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data_start = 8 + size
        names = [k for k in header if k != "__metadata__"]
        name = name or names[0]
        if name not in header:
            sys.exit(f"{path}: no tensor '{name}' (it has {', '.join(names)})")
        info = header[name]
        if info["dtype"] != "F32":
            sys.exit(f"{path}: '{name}' is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        f.seek(data_start + begin)
        values = array("f")
        values.frombytes(f.read(end - begin))
        return values, info["shape"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--max", type=float, default=None)
    args = ap.parse_args()
    a, shape_a = read_tensor(args.a)
    b, shape_b = read_tensor(args.b)
    if shape_a != shape_b:
        sys.exit(f"shapes differ: {shape_a} vs {shape_b}")
    scale = max(max((abs(v) for v in b), default=0.0), 1e-30)
    diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0) / scale
    print(f"max rel diff {diff:.3g} ({args.a} vs {args.b})")
    if args.max is not None and not diff <= args.max:
        print(f"FAIL: above {args.max}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
