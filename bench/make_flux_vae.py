#!/usr/bin/env python3
"""A VAE with FLUX.1's AutoencoderKL shape and random weights (fixed seed), in
the diffusers layout, for issue 14's 2048 x 2048 tiled-decode measurement
(bench/vae_tiled_decode.cc). Nothing is downloaded; never commit the output.

    ~/.venvs/kiln-ref/bin/python bench/make_flux_vae.py [OUT_DIR]   # default build/bench/flux-vae

OUT_DIR/model_index.json lists only the vae; OUT_DIR/vae/ holds config.json and
diffusion_pytorch_model.safetensors (float32, ~335 MB). The config is FLUX.1-dev's
vae/config.json: 4 blocks (128, 256, 512, 512), 2 layers each, 16 latent channels,
32 groups, sample_size 1024, scaling 0.3611, shift 0.1159, no quant convs.
"""
import json
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL

out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench/flux-vae")
torch.manual_seed(20241204)
vae = AutoencoderKL(
    in_channels=3, out_channels=3, latent_channels=16,
    down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=[128, 256, 512, 512], layers_per_block=2, act_fn="silu",
    norm_num_groups=32, sample_size=1024, scaling_factor=0.3611, shift_factor=0.1159,
    use_quant_conv=False, use_post_quant_conv=False, mid_block_add_attention=True)
vae.save_pretrained(out / "vae")
(out / "model_index.json").write_text(json.dumps({
    "_class_name": "FluxPipeline", "_diffusers_version": "0.42.1",
    "vae": ["diffusers", "AutoencoderKL"], "transformer": [None, None],
    "text_encoder": [None, None], "text_encoder_2": [None, None],
    "tokenizer": [None, None], "tokenizer_2": [None, None], "scheduler": [None, None]}, indent=2))
print(f"wrote {out} ({sum(p.numel() for p in vae.parameters()) / 1e6:.1f} M parameters)")
