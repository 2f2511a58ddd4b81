"""Rewrites a safetensors file with every tensor name prefixed.

Usage: prefix_tensor_names.py IN OUT PREFIX. Older transformers checkpoints
(FLUX's CLIP) name their tensors `text_model.*`; transformers 5 drops it.
"""
import json
import struct
import sys

src, dst, prefix = sys.argv[1:4]
data = open(src, "rb").read()
(length,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8 : 8 + length])
renamed = {(k if k == "__metadata__" else prefix + k): v for k, v in header.items()}
text = json.dumps(renamed).encode()
text += b" " * (-len(text) % 8)
with open(dst, "wb") as out:
    out.write(struct.pack("<Q", len(text)) + text + data[8 + length :])
