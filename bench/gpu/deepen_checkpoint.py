#!/usr/bin/env python3
"""A zero-weight FLUX transformer of any depth from a shallower one's layout.

    deepen_checkpoint.py SRC_DIR DST_DIR DOUBLE SINGLE

SRC_DIR is a diffusers FLUX folder (bench/make_flux_wide.py's, with at least
one double-stream and one single-stream block). DST_DIR gets the same
folder with DOUBLE double-stream and SINGLE single-stream blocks: block 0's
tensors (names, dtypes, shapes) repeated for every block, every other tensor
kept, all of them zero, in one safetensors file written sparse (the zeros
take no disk space). config.json gets the new depth.

Why: FLUX.1-dev's shape (19 + 38 blocks, 12 G parameters, 24 GB as bf16)
cannot be built with torch in this machine's memory, but only its layout is
needed for a timing artifact: `kiln-compile` streams the zeros and gzip
shrinks the artifact's weights about 1000x, which is how
bench/gpu/make_bundle.sh carries the full-width model to the GPU machine.
Standard library only.
"""
import json
import re
import shutil
import struct
import sys
from pathlib import Path

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4,
               "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "BOOL": 1}


def read_header(path: Path) -> dict:
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    header.pop("__metadata__", None)
    return header


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    double, single = int(sys.argv[3]), int(sys.argv[4])
    tensors = {}
    for path in sorted((src / "transformer").glob("*.safetensors")):
        tensors.update(read_header(path))
    block = re.compile(r"^(transformer_blocks|single_transformer_blocks)\.(\d+)\.(.*)$")
    kept, templates = {}, {"transformer_blocks": {}, "single_transformer_blocks": {}}
    for name, info in tensors.items():
        m = block.match(name)
        if not m:
            kept[name] = info
        elif m.group(2) == "0":
            templates[m.group(1)][m.group(3)] = info
    if not templates["transformer_blocks"] or not templates["single_transformer_blocks"]:
        sys.exit(f"{src}: needs block 0 of both transformer_blocks and single_transformer_blocks")
    for kind, count in (("transformer_blocks", double), ("single_transformer_blocks", single)):
        for i in range(count):
            for rest, info in templates[kind].items():
                kept[f"{kind}.{i}.{rest}"] = info

    header, offset = {}, 0
    for name in sorted(kept):
        info = kept[name]
        n = DTYPE_BYTES[info["dtype"]]
        for d in info["shape"]:
            n *= d
        header[name] = {"dtype": info["dtype"], "shape": info["shape"],
                        "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)

    out_dir = dst / "transformer"
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "diffusion_pytorch_model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        f.truncate(8 + len(blob) + offset)  # sparse: the data reads as zeros
    config = json.loads((src / "transformer" / "config.json").read_text())
    config["num_layers"], config["num_single_layers"] = double, single
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copyfile(src / "model_index.json", dst / "model_index.json")
    print(f"wrote {dst}: {double} double + {single} single blocks, "
          f"{offset / 1e9:.2f} GB of zero weights ({len(header)} tensors)")


if __name__ == "__main__":
    main()
