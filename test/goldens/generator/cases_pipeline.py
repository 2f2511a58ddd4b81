"""`pipeline/` cases: pipeline helpers rather than model calls (latent packing and
position ids against diffusers' own, and the scheduler's sigma schedule)."""

from __future__ import annotations

import numpy as np
import torch

from .common import LATENT_CHANNELS, VAE_BLOCKS, gen
from .packing import image_ids, pack_latents, unpack_latents


def pipeline_cases(scheduler):
    """Small non-model goldens: latent packing / ids and the scheduler's sigma schedule."""
    from diffusers.pipelines.flux.pipeline_flux import FluxPipeline, calculate_shift

    res = {}
    g = gen(400)
    lat = torch.randn(1, LATENT_CHANNELS, 8, 12, generator=g)
    packed = FluxPipeline._pack_latents(lat, 1, LATENT_CHANNELS, 8, 12)
    assert torch.equal(packed, pack_latents(lat))
    ids = FluxPipeline._prepare_latent_image_ids(1, 4, 6, "cpu", torch.float32)
    assert torch.equal(ids, image_ids(4, 6, 0))
    # _unpack_latents takes *pixel* height/width and the VAE scale factor.
    vsf = 2 ** (len(VAE_BLOCKS) - 1)
    unpacked = FluxPipeline._unpack_latents(packed, 8 * vsf, 12 * vsf, vsf)
    assert torch.equal(unpacked, lat) and torch.equal(unpack_latents(packed, 8, 12), lat)
    res["pack_8x12"] = ({"in.latents": lat, "out.packed": packed, "out.img_ids": ids},
                        {"latent_hw": "8x12", "packed_grid": "4x6"})

    for steps, seq in [(4, 24), (28, 4096), (50, 1024)]:
        sched = type(scheduler).from_config(scheduler.config)
        sigmas = np.linspace(1.0, 1 / steps, steps)
        mu = calculate_shift(seq, scheduler.config.base_image_seq_len, scheduler.config.max_image_seq_len,
                             scheduler.config.base_shift, scheduler.config.max_shift)
        sched.set_timesteps(sigmas=sigmas, mu=mu, device="cpu")
        res[f"sigmas_steps{steps}_seq{seq}"] = (
            {
                "in.num_inference_steps": torch.tensor([steps], dtype=torch.int64),
                "in.image_seq_len": torch.tensor([seq], dtype=torch.int64),
                "out.mu": torch.tensor([mu], dtype=torch.float32),
                "out.sigmas": sched.sigmas.to(torch.float32),
                "out.timesteps": sched.timesteps.to(torch.float32),
            },
            {"mu": repr(float(mu))},
        )
    return res
