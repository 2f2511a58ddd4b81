"""Writing the outputs: cases/ with manifest.json, versions.json, and the summary
(file sizes and a digest of the whole tree)."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from pathlib import Path

import numpy as np
import torch

from .common import CASES_DIR, GOLDENS_DIR, MODEL_DIR, SEED_BASE
from .st_writer import save_safetensors


def write_cases(results) -> dict:
    # Only this script's component folders: cases/images, cases/sampler,
    # cases/tokenizers and cases/generate come from the other make_*_goldens.py
    # scripts, which are run after this one.
    for comp in results:
        if (CASES_DIR / comp).exists():
            shutil.rmtree(CASES_DIR / comp)
    manifest = {}
    for comp, cases in results.items():
        (CASES_DIR / comp).mkdir(parents=True, exist_ok=True)
        for name, (tensors, meta) in cases.items():
            tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
            for k, v in tensors.items():
                assert v.dtype in (torch.float32, torch.int64), (comp, name, k, v.dtype)
            md = {"component": comp, "case": name, **meta}
            path = CASES_DIR / comp / f"{name}.safetensors"
            save_safetensors(tensors, path, md)
            manifest[f"{comp}/{name}"] = {
                "file": f"cases/{comp}/{name}.safetensors",
                "metadata": md,
                "tensors": {
                    k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                    for k, v in sorted(tensors.items())
                },
            }
    (CASES_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest



def sha256_tree(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(GOLDENS_DIR))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_versions() -> None:
    import diffusers
    import google.protobuf
    import safetensors
    import sentencepiece
    import tokenizers
    import transformers

    v = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "sentencepiece": sentencepiece.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "protobuf": google.protobuf.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
        "torch_num_threads": torch.get_num_threads(),
        "seed_base": SEED_BASE,
    }
    (GOLDENS_DIR / "versions.json").write_text(json.dumps(v, indent=2) + "\n")
    print("\nVersions:", json.dumps(v))



def print_summary() -> None:
    total = 0
    print("\nFiles:")
    for root in (MODEL_DIR, CASES_DIR):
        for p in sorted(root.rglob("*")):
            if p.is_file():
                total += p.stat().st_size
                print(f"  {p.stat().st_size:9d}  {p.relative_to(GOLDENS_DIR)}")
    print(f"  total {total} bytes")
    sums = sha256_tree(MODEL_DIR) | sha256_tree(CASES_DIR)
    print("tree digest:", hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest())
