#!/usr/bin/env python3
"""Per-kernel-kind breakdown of a `kiln run --timing` log (Kiln's half of the
benchmark, bench/bench_kiln.sh).

  kernel_kinds.py DISPATCHES.mlir RUN.log [RUN.log ...]

DISPATCHES.mlir is `kiln-compile MODEL --emit=dispatches` of the same model:
each `kiln.dispatch` function holds one compute op, which names its kind:

  linear (dot)    contraction, both inputs contiguous along k: x @ W^T, Q @ K^T
  matmul (nn)     contraction, B contiguous along n (P @ V before flash
                  attention)
  attention       kiln.flash_attention (Q K^T, online softmax and P V)
  reduction       other ops with a reduction loop (norm statistics, softmax)
  elementwise     all-parallel generics (a `math.*` op adds "+math")
  copy, fill      linalg.copy / memref.copy, linalg.fill

A log from `kiln run --repeat N` has each dispatch's fastest and median
time; the fastest is used unless KINDS_STAT=median. With several logs, each
dispatch's time is its median over the logs (its minimum with KINDS_STAT=min,
steadier for comparing two builds of a kernel). Prints
the kinds by total time, then the 10 slowest dispatches, then one JSON line.
Standard library only.
"""
import json
import os
import re
import statistics
import sys
from collections import defaultdict


def kernel_kinds(path):
    text = open(path).read()
    kinds, shapes = {}, {}
    for m in re.finditer(r"func\.func private @(\w+)\((.*?)\) attributes \{kiln\.dispatch", text):
        name = m.group(1)
        body = text[m.end():text.find("\n  }\n", m.end())]
        shapes[name] = ", ".join(re.findall(r"memref<([^>]*?)>", m.group(2)))
        if "kiln.flash_attention" in body:
            kinds[name] = "attention"
        elif "linalg.fill" in body:
            kinds[name] = "fill"
        elif "linalg.copy" in body or "memref.copy" in body:
            kinds[name] = "copy"
        elif '"reduction"' in body:
            g = re.search(r"linalg\.generic \{indexing_maps = \[([^\]]*)\]", body)
            # The product of the two inputs, the weight possibly widened from bf16
            # (kiln-narrow-weights) by an arith.extf just before.
            contraction = re.search(r"arith\.mulf %in, %(in_\d+|\d+) : f32\s+%\d+ = arith\.addf %out", body)
            if contraction and g:
                maps = dict(re.findall(r"^(#map\d*) = affine_map<(.*)>$", text, re.M))
                a, b = [maps.get(x.strip(), "") for x in g.group(1).split(",")[:2]]
                last = lambda s: s.split("->")[1].strip(" ()").split(",")[-1].strip()
                kinds[name] = "linear (dot)" if last(a) == last(b) else "matmul (nn)"
            else:
                kinds[name] = "reduction"
        else:
            kinds[name] = "elementwise" + ("+math" if "math." in body else "")
    return kinds, shapes


def read_log(path):
    times = {}
    for line in open(path):
        # index, kernel, workgroups, fastest ms[, median ms with --repeat]
        m = re.match(r"\s*(\d+)\s+kiln_kernel_(\w+)\s+(\d+)\s+([\d.]+)(?:\s+([\d.]+))?\s*$", line)
        if m:
            column = 5 if m.group(5) and os.environ.get("KINDS_STAT") == "median" else 4
            times[(int(m.group(1)), m.group(2))] = (float(m.group(column)), int(m.group(3)))
    return times


def main():
    kinds, shapes = kernel_kinds(sys.argv[1])
    logs = [read_log(p) for p in sys.argv[2:]]
    keys = sorted(logs[0])
    stat = min if os.environ.get("KINDS_STAT") == "min" else statistics.median
    per = {k: stat(log[k][0] for log in logs if k in log) for k in keys}
    total = sum(per.values())
    by_kind = defaultdict(lambda: [0.0, 0])
    for (i, name), ms in per.items():
        kind = kinds.get(name, "?")
        by_kind[kind][0] += ms
        by_kind[kind][1] += 1
    print(f"{'kind':<18}{'dispatches':>11}{'ms':>12}{'share':>8}")
    for kind, (ms, n) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
        print(f"{kind:<18}{n:>11}{ms:>12.1f}{100 * ms / total:>7.1f}%")
    print(f"{'total':<18}{len(per):>11}{total:>12.1f}")
    print("slowest dispatches:")
    for (i, name), ms in sorted(per.items(), key=lambda kv: -kv[1])[:10]:
        wg = logs[0][(i, name)][1]
        print(f"  {ms:9.1f} ms  {name:<28} {kinds.get(name, '?'):<16} wg={wg:<3} {shapes.get(name, '')}")
    print(json.dumps({"kinds": {k: round(v[0], 1) for k, v in by_kind.items()},
                      "dispatch_ms_total": round(total, 1)}))


if __name__ == "__main__":
    main()
