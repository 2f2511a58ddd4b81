"""diffusers' FluxKontextPipeline with several reference images, for the
demo model's compositions (issue 15, session 11).

diffusers' pipeline takes one reference, at RoPE image index 1. Kiln's
`kiln generate --image A --image B` (and train.py's compositions) give
reference k index k, each over the same grid of rows and columns. This
subclass does that with diffusers' own encoding, packing, scheduler and
denoising loop, so that evaluate.py can run the composition prompts
through diffusers too: pass `image=[first, second]`.
"""
from __future__ import annotations

import torch
from diffusers import FluxKontextPipeline


class MultiReferenceKontextPipeline(FluxKontextPipeline):
    def prepare_latents(self, image, batch_size, *args, **kwargs):
        """The parent's latents for the first reference, then every
        reference's packed latents one after the other, reference k's
        ids with index k. One reference per prompt takes the parent's path
        unchanged."""
        if image is None or image.shape[0] == batch_size:
            return super().prepare_latents(image, batch_size, *args, **kwargs)
        if batch_size != 1:
            raise ValueError("several references: one prompt, one image at a time")
        # The parent draws the initial noise after encoding its reference
        # (the VAE encoding takes the mode, no random draw), so the first
        # call draws what a one-reference call would; later draws are unused.
        parts = [super(MultiReferenceKontextPipeline, self).prepare_latents(
            image[k:k + 1], batch_size, *args, **kwargs) for k in range(image.shape[0])]
        latents, _, latent_ids, _ = parts[0]
        for k, part in enumerate(parts):
            part[3][..., 0] = k + 1
        return (latents, torch.cat([p[1] for p in parts], dim=1), latent_ids,
                torch.cat([p[3] for p in parts], dim=0))
