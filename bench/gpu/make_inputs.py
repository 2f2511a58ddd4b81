#!/usr/bin/env python3
"""Inputs of the FLUX denoise entry at a given size, for timing runs.

    make_inputs.py OUT.safetensors IMAGE_TOKENS TEXT_TOKENS

Writes in.hidden_states [1, IMAGE_TOKENS, 64], in.encoder_hidden_states
[1, TEXT_TOKENS, 4096], in.pooled_projections [1, 768], in.timestep and
in.guidance [1], in.img_ids [IMAGE_TOKENS, 3] (the rows and columns of a
square latent grid) and in.txt_ids [TEXT_TOKENS, 3] (zeros), as
`kiln run --inputs` reads them. Values are small fixed pseudo-random
numbers: the kernels take the same time for any values, and the file stays
reproducible. Standard library only.
"""
import json
import math
import struct
import sys
from array import array


def pseudo_random(n, seed):
    state, out = seed, array("f")
    for _ in range(n):
        state = (state * 1103515245 + 12345) % (1 << 31)
        out.append((state / (1 << 31) - 0.5) * 0.2)
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, image, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    side = math.isqrt(image)
    if side * side != image:
        sys.exit(f"IMAGE_TOKENS must be a square (a latent grid), got {image}")
    img_ids = array("f")
    for r in range(side):
        for c in range(side):
            img_ids.extend((0.0, float(r), float(c)))
    tensors = {
        "in.hidden_states": ([1, image, 64], pseudo_random(image * 64, 1)),
        "in.encoder_hidden_states": ([1, text, 4096], pseudo_random(text * 4096, 2)),
        "in.pooled_projections": ([1, 768], pseudo_random(768, 3)),
        "in.timestep": ([1], array("f", [0.5])),
        "in.guidance": ([1], array("f", [3.5])),
        "in.img_ids": ([image, 3], img_ids),
        "in.txt_ids": ([text, 3], array("f", [0.0] * (text * 3))),
    }
    header, offset = {}, 0
    for name, (shape, values) in tensors.items():
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [offset, offset + 4 * len(values)]}
        offset += 4 * len(values)
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        for _, values in tensors.values():
            f.write(values.tobytes())


if __name__ == "__main__":
    main()
