#!/usr/bin/env python3
"""A FLUX.1-dev-width transformer with fewer blocks and random bf16 weights
(fixed seed), in the diffusers layout, for issue 13's streaming-compile
measurement: its weights take >= 4 GB, so kiln-compile's peak RSS shows
whether the compiler holds them. Nothing is downloaded; never commit it.

    ~/.venvs/kiln-ref/bin/python bench/make_flux_wide.py [OUT_DIR] [DOUBLE] [SINGLE]
    # default build/bench/flux-wide, 4 double-stream and 8 single-stream blocks

The config is FLUX.1-dev's transformer/config.json (hidden 3072 = 24 heads x
128, joint_attention_dim 4096, pooled 768, guidance embeddings, RoPE axes 16,
56, 56) with num_layers / num_single_layers reduced; 4 + 8 blocks are 2.52 G
parameters, 5.0 GB as bf16 (diffusers shards the safetensors at 5 GB with an
index, which kiln-compile reads like a single file).
"""
import json
import sys
from pathlib import Path

import torch
from diffusers import FluxTransformer2DModel

out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench/flux-wide")
double = int(sys.argv[2]) if len(sys.argv) > 2 else 4
single = int(sys.argv[3]) if len(sys.argv) > 3 else 8
torch.manual_seed(20261204)
with torch.no_grad():
    model = FluxTransformer2DModel(
        patch_size=1, in_channels=64, num_layers=double, num_single_layers=single,
        attention_head_dim=128, num_attention_heads=24, joint_attention_dim=4096,
        pooled_projection_dim=768, guidance_embeds=True, axes_dims_rope=(16, 56, 56),
    ).to(torch.bfloat16)
model.save_pretrained(out / "transformer", max_shard_size="5GB")
(out / "model_index.json").write_text(json.dumps({
    "_class_name": "FluxPipeline", "_diffusers_version": "0.42.1",
    "transformer": ["diffusers", "FluxTransformer2DModel"], "vae": [None, None],
    "text_encoder": [None, None], "text_encoder_2": [None, None],
    "tokenizer": [None, None], "tokenizer_2": [None, None], "scheduler": [None, None]}, indent=2))
n = sum(p.numel() for p in model.parameters())
print(f"wrote {out}: {double} double + {single} single blocks, {n / 1e9:.2f} G parameters, "
      f"{2 * n / 1e9:.2f} GB as bf16")
