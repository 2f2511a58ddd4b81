"""Golden data for Kiln's tiled VAE (runtime/generate/tiled_vae.h): what
diffusers' AutoencoderKL.tiled_decode makes of a latent larger than one tile,
what its tiled encode makes of an image larger than one tile, and the untiled
results of the same inputs.

    ~/.venvs/kiln-ref/bin/python test/goldens/make_vae_tiling_goldens.py

Offline and deterministic (fixed seed, byte-reproducible writer), seconds.
Writes cases/vae_tiled/ only (make_goldens.py deletes cases/: run this again
after it). Each case:

  in.latent_normalized  F32 [1, 16, h, w]  a FLUX-normalized latent (N(0, 1))
  out.image             F32 [1, 3, 4h, 4w] vae.enable_tiling(); vae.decode(z / scale + shift)
  out.image_untiled     F32 [1, 3, 4h, 4w] the same without tiling
  metadata              tile_sample_min_size, tile_latent_min_size, tile_overlap_factor

and each encode case (encode_*):

  in.image                  F32 [1, 3, H, W] a smooth-ish image in [-1, 1]
  out.latent_normalized     F32 [1, 16, H/4, W/4] (mean - shift) * scale, tiled encode
  out.latent_normalized_untiled  the same without tiling

with the tiny VAE's own tiling settings: sample_size 32 px, so tiles of 8 x 8
latent pixels that overlap by a quarter, blended over 8 image pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generator import common  # noqa: E402  (offline environment first)
from generator.st_writer import save_safetensors  # noqa: E402

import diffusers  # noqa: E402
import torch  # noqa: E402
from diffusers import AutoencoderKL  # noqa: E402

OUT = common.CASES_DIR / "vae_tiled"
ENCODE_CASES = [
    # 3 x 4 image tiles of 32 px, the last row and column partial.
    dict(name="encode_64x96", hw=(64, 96), seed=710),
]
CASES = [
    # 3 x 4 tiles, the last row and column partial.
    dict(name="decode_16x24", hw=(16, 24), seed=700),
    # One row of tiles: a wide latent.
    dict(name="decode_6x20", hw=(6, 20), seed=701),
]


def tiling_meta(vae, tiled, untiled) -> dict:
    """The case's metadata: diffusers' tiling settings and the tiling's effect."""
    return {
        "tile_sample_min_size": vae.tile_sample_min_size,
        "tile_latent_min_size": vae.tile_latent_min_size,
        "tile_overlap_factor": vae.tile_overlap_factor,
        "max_abs_tiled_vs_untiled": float((tiled - untiled).abs().max()),
        "versions": f"diffusers {diffusers.__version__}, torch {torch.__version__}",
    }


def main() -> None:
    vae = AutoencoderKL.from_pretrained(common.MODEL_DIR / "vae").eval()
    OUT.mkdir(parents=True, exist_ok=True)
    shift, scale = vae.config.shift_factor, vae.config.scaling_factor
    for case in CASES:
        g = torch.Generator().manual_seed(case["seed"])
        h, w = case["hw"]
        z = torch.randn(1, common.LATENT_CHANNELS, h, w, generator=g)
        with torch.no_grad():
            vae.disable_tiling()
            untiled = vae.decode(z / scale + shift, return_dict=False)[0]
            vae.enable_tiling()
            tiled = vae.decode(z / scale + shift, return_dict=False)[0]
        meta = tiling_meta(vae, tiled, untiled)
        save_safetensors(
            {"in.latent_normalized": z, "out.image": tiled, "out.image_untiled": untiled},
            OUT / f"{case['name']}.safetensors", meta)
        print(f"{case['name']}: tiled vs untiled max |diff| {meta['max_abs_tiled_vs_untiled']:.4f}")
    for case in ENCODE_CASES:
        g = torch.Generator().manual_seed(case["seed"])
        h, w = case["hw"]
        img = torch.rand(1, 3, h // 8, w // 8, generator=g) * 2 - 1
        img = torch.nn.functional.interpolate(img, size=(h, w), mode="bilinear", align_corners=False)
        img = (img + 0.1 * torch.randn(1, 3, h, w, generator=g)).clamp(-1, 1)
        with torch.no_grad():
            vae.disable_tiling()
            untiled = (vae.encode(img).latent_dist.mean - shift) * scale
            vae.enable_tiling()
            tiled = (vae.encode(img).latent_dist.mean - shift) * scale
        meta = tiling_meta(vae, tiled, untiled)
        save_safetensors(
            {"in.image": img, "out.latent_normalized": tiled,
             "out.latent_normalized_untiled": untiled},
            OUT / f"{case['name']}.safetensors", meta)
        print(f"{case['name']}: tiled vs untiled max |diff| {meta['max_abs_tiled_vs_untiled']:.4f}")


if __name__ == "__main__":
    main()
