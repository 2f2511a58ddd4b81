"""`vae/` cases: AutoencoderKL encode (latent mean/logvar, FLUX-normalized latent)
and decode (from a normalized latent)."""

from __future__ import annotations

import torch

from .common import LATENT_CHANNELS, gen

VAE_CASES = [
    dict(name="encode_32x48", kind="encode", hw=(32, 48)),
    dict(name="encode_48x16", kind="encode", hw=(48, 16)),
    dict(name="decode_8x12", kind="decode", hw=(8, 12)),
    dict(name="decode_12x4", kind="decode", hw=(12, 4)),
]


def vae_case(vae, spec: dict, k: int):
    g = gen(200 + k)
    h, w = spec["hw"]
    shift, scale = vae.config.shift_factor, vae.config.scaling_factor
    with torch.no_grad():
        if spec["kind"] == "encode":
            # A smooth-ish image in [-1, 1] (what VaeImageProcessor.preprocess produces).
            img = torch.rand(1, 3, h // 4, w // 4, generator=g) * 2 - 1
            img = torch.nn.functional.interpolate(img, size=(h, w), mode="bilinear", align_corners=False)
            img = (img + 0.1 * torch.randn(1, 3, h, w, generator=g)).clamp(-1, 1)
            dist = vae.encode(img).latent_dist
            mean = dist.mean
            tensors = {
                "in.image": img,
                "out.latent_mean": mean,
                "out.latent_logvar": dist.logvar,
                "out.latent_normalized": (mean - shift) * scale,
            }
        else:
            z = torch.randn(1, LATENT_CHANNELS, h, w, generator=g)
            raw = z / scale + shift
            image = vae.decode(raw, return_dict=False)[0]
            tensors = {
                "in.latent_normalized": z,
                "out.latent_raw": raw,
                "out.image": image,
            }
    meta = {"shift_factor": repr(shift), "scaling_factor": repr(scale)}
    return tensors, meta
