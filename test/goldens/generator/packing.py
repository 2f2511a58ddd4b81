"""FLUX latent packing and RoPE position ids (diffusers' FluxPipeline conventions)."""

from __future__ import annotations

import torch

def pack_latents(latents: torch.Tensor) -> torch.Tensor:
    """diffusers FluxPipeline._pack_latents: [B,C,H,W] -> [B,(H/2)*(W/2),C*4],
    channel index c*4 + dy*2 + dx, tokens in row-major (H/2, W/2) order."""
    b, c, h, w = latents.shape
    x = latents.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack_latents(packed: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Inverse of pack_latents; h, w are the *latent* (unpacked) sizes."""
    b, s, ch = packed.shape
    c = ch // 4
    x = packed.view(b, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, h, w)


def image_ids(gh: int, gw: int, index: int) -> torch.Tensor:
    """diffusers _prepare_latent_image_ids(gh, gw) with ids[...,0] = index
    (0: target image, 1: FLUX Kontext reference, i: i-th Kiln reference)."""
    ids = torch.zeros(gh, gw, 3)
    ids[..., 0] = index
    ids[..., 1] = torch.arange(gh)[:, None].float()
    ids[..., 2] = torch.arange(gw)[None, :].float()
    return ids.reshape(gh * gw, 3)
