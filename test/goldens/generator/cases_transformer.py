"""`transformer/` cases: FluxTransformer2DModel.forward on text-to-image, Kontext
(one reference), multi-reference and batch-2 inputs."""

from __future__ import annotations

import torch

from .common import HIDDEN_TXT, LATENT_CHANNELS, T5_DMODEL, gen
from .packing import image_ids, pack_latents

TRANSFORMER_CASES = [
    # name, batch, target packed grid (rows, cols), reference grids, text len, timestep(s), guidance(s)
    dict(name="t2i_4x6", batch=1, grid=(4, 6), refs=[], txt=8, t=[1.0], g=[3.5]),
    dict(name="t2i_6x2", batch=1, grid=(6, 2), refs=[], txt=5, t=[0.35], g=[1.0]),
    dict(name="kontext_4x6_ref4x6", batch=1, grid=(4, 6), refs=[(4, 6)], txt=8, t=[0.8], g=[2.5]),
    dict(name="kontext_6x2_ref2x4", batch=1, grid=(6, 2), refs=[(2, 4)], txt=6, t=[0.5], g=[2.5]),
    dict(name="multiref_4x6_ref2x4_ref6x2", batch=1, grid=(4, 6), refs=[(2, 4), (6, 2)], txt=7,
         t=[0.6], g=[4.0]),
    dict(name="batch2_6x2", batch=2, grid=(6, 2), refs=[], txt=5, t=[0.9, 0.2], g=[3.5, 1.5]),
    dict(name="batch2_kontext_4x6_ref2x4", batch=2, grid=(4, 6), refs=[(2, 4)], txt=6,
         t=[0.7, 0.3], g=[3.5, 3.5]),
    # Large: 4096 target tokens (64x64 grid = 128x128 latent = 512x512 px with the tiny
    # VAE's factor 4) + 512 + 512 reference tokens = 5120 image tokens. Appended last so
    # the earlier cases keep their seeds (gen(100 + list index)).
    dict(name="multiref_64x64_ref16x32_ref32x16", batch=1, grid=(64, 64), refs=[(16, 32), (32, 16)],
         txt=8, t=[0.7], g=[3.5]),
]


def flux_forward(model, t: dict[str, torch.Tensor], batch: slice = slice(None)) -> torch.Tensor:
    """The model called with a case's `in.*` tensors; `batch` selects batch elements
    (the ids have no batch dimension and are shared)."""
    with torch.no_grad():
        return model(
            hidden_states=t["in.hidden_states"][batch],
            encoder_hidden_states=t["in.encoder_hidden_states"][batch],
            pooled_projections=t["in.pooled_projections"][batch],
            timestep=t["in.timestep"][batch],
            img_ids=t["in.img_ids"],
            txt_ids=t["in.txt_ids"],
            guidance=t["in.guidance"][batch],
            return_dict=False,
        )[0]


def transformer_case(model, spec: dict, k: int):
    g = gen(100 + k)
    B = spec["batch"]
    gh, gw = spec["grid"]
    C = LATENT_CHANNELS
    target = pack_latents(torch.randn(B, C, 2 * gh, 2 * gw, generator=g))
    parts, ids = [target], [image_ids(gh, gw, 0)]
    # Reference i (1-based) gets index i on RoPE axis 0. With one reference this is
    # exactly diffusers' FluxKontextPipeline (which always uses index 1).
    for i, (rh, rw) in enumerate(spec["refs"], start=1):
        parts.append(pack_latents(torch.randn(B, C, 2 * rh, 2 * rw, generator=g)))
        ids.append(image_ids(rh, rw, i))
    hidden_states = torch.cat(parts, dim=1)
    img_ids = torch.cat(ids, dim=0)
    S_txt = spec["txt"]
    enc = torch.randn(B, S_txt, T5_DMODEL, generator=g)
    pooled = torch.randn(B, HIDDEN_TXT, generator=g)
    txt_ids = torch.zeros(S_txt, 3)
    timestep = torch.tensor(spec["t"], dtype=torch.float32)
    guidance = torch.tensor(spec["g"], dtype=torch.float32)
    assert timestep.shape == (B,) and guidance.shape == (B,)
    inputs = {
        "in.hidden_states": hidden_states,
        "in.encoder_hidden_states": enc,
        "in.pooled_projections": pooled,
        "in.timestep": timestep,
        "in.guidance": guidance,
        "in.img_ids": img_ids,
        "in.txt_ids": txt_ids,
    }
    n_target = gh * gw
    tensors = {
        **inputs,
        "meta.num_target_tokens": torch.tensor([n_target], dtype=torch.int64),
        "out.sample": flux_forward(model, inputs),
    }
    meta = {
        "target_grid": f"{gh}x{gw}",
        "reference_grids": ",".join(f"{h}x{w}" for h, w in spec["refs"]),
        "num_target_tokens": str(n_target),
        "num_image_tokens": str(hidden_states.shape[1]),
    }
    return tensors, meta


def check_batch_independence(model, results) -> None:
    """Each element of a batch-2 case must equal the same inputs run as batch 1."""
    for name, (t, _) in results.items():
        if t["in.hidden_states"].shape[0] < 2:
            continue
        for b in range(t["in.hidden_states"].shape[0]):
            o = flux_forward(model, t, slice(b, b + 1))
            d = (o - t["out.sample"][b : b + 1]).abs().max().item()
            assert d < 1e-4, (name, b, d)
