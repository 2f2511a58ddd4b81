"""The deterministic safetensors writer (also used by bench/make_medium_flux.py)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

_ST_DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write a .safetensors file byte-for-byte reproducibly (safetensors.torch.save_file
    emits the __metadata__ keys in hash order, so two runs differ). Layout per the
    safetensors spec: u64-LE header length, JSON header (sorted keys, space-padded to a
    multiple of 8), then the tensors' little-endian bytes, in name order, back to back."""
    header: dict = {"__metadata__": {k: str(v) for k, v in sorted(metadata.items())}}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
