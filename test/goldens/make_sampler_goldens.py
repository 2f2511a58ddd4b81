"""Goldens for runtime/pipeline/ (the sampler math of the FLUX pipelines).

    ~/.venvs/kiln-ref/bin/python test/goldens/make_sampler_goldens.py

Writes test/goldens/cases/sampler/*.safetensors (deleting that folder first),
offline and deterministically, with the same pinned environment as
make_goldens.py (diffusers 0.42.1, torch 2.15.0, numpy 2.4.6). Every output
comes from diffusers' own code: FlowMatchEulerDiscreteScheduler.set_timesteps /
step with the sigmas and mu that FluxPipeline.__call__ computes, FluxPipeline's
_unpack_latents, FluxKontextPipeline.prepare_latents. The one exception is the
initial noise (noise_*): Kiln's noise is its own (Philox4x64-10 + Box-Muller,
runtime/pipeline/noise.h), so here numpy's Philox (the same generator) and a
float64 Box-Muller written from the formula pin its values.

Each file's metadata holds what the C++ test needs besides tensors: the
scheduler config as JSON text, mu as repr(float) (exact), scales.

make_goldens.py deletes all of cases/ when it runs: run this script after it.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator.common import CASES_DIR, MODEL_DIR, gen  # noqa: E402  (sets offline env first)
from generator.st_writer import save_safetensors  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import FlowMatchEulerDiscreteScheduler  # noqa: E402
from diffusers.pipelines.flux.pipeline_flux import FluxPipeline, calculate_shift  # noqa: E402
from diffusers.pipelines.flux.pipeline_flux_kontext import FluxKontextPipeline  # noqa: E402

OUT_DIR = CASES_DIR / "sampler"
TINY_SCHEDULER = json.loads((MODEL_DIR / "scheduler" / "scheduler_config.json").read_text())
TINY_VAE = json.loads((MODEL_DIR / "vae" / "config.json").read_text())


def flux_schedule(config: dict, steps: int, seq: int):
    """Steps 5 of FluxPipeline.__call__: its sigmas and mu, then set_timesteps."""
    sched = FlowMatchEulerDiscreteScheduler.from_config(config)
    sigmas = np.linspace(1.0, 1 / steps, steps)
    mu = calculate_shift(seq, sched.config.get("base_image_seq_len", 256),
                         sched.config.get("max_image_seq_len", 4096),
                         sched.config.get("base_shift", 0.5), sched.config.get("max_shift", 1.15))
    sched.set_timesteps(sigmas=sigmas, mu=mu, device="cpu")
    return sched, mu


def config_text(config: dict) -> str:
    return json.dumps(config, sort_keys=True)


def sigma_cases() -> dict:
    """(steps, image_seq_len) over several scheduler settings."""
    static3 = dict(TINY_SCHEDULER, use_dynamic_shifting=False, shift=3.0)
    schnell = dict(TINY_SCHEDULER, use_dynamic_shifting=False, shift=1.0)  # FLUX.1-schnell's
    linear = dict(TINY_SCHEDULER, time_shift_type="linear")
    terminal = dict(TINY_SCHEDULER, shift_terminal=0.1)
    terminal_static = dict(static3, shift_terminal=0.02, num_train_timesteps=500)
    other_shift = dict(TINY_SCHEDULER, base_shift=0.3, max_shift=1.5, base_image_seq_len=128,
                       max_image_seq_len=8192)
    settings = [
        ("dyn", TINY_SCHEDULER, [(1, 16), (4, 24), (28, 4096), (50, 1024), (30, 6144), (7, 333)]),
        ("static3", static3, [(20, 1024), (3, 64)]),
        ("schnell", schnell, [(4, 4096)]),
        ("linear", linear, [(10, 1024), (28, 4096)]),
        ("terminal", terminal, [(30, 4096), (2, 256)]),
        ("terminal_static", terminal_static, [(12, 512)]),
        ("custom_shift", other_shift, [(25, 2048)]),
    ]
    res = {}
    for tag, config, runs in settings:
        for steps, seq in runs:
            sched, mu = flux_schedule(config, steps, seq)
            assert sched.sigmas.dtype == torch.float32 and sched.timesteps.dtype == torch.float32
            res[f"sigmas_{tag}_steps{steps}_seq{seq}"] = (
                {"in.num_inference_steps": torch.tensor([steps], dtype=torch.int64),
                 "in.image_seq_len": torch.tensor([seq], dtype=torch.int64),
                 "out.sigmas": sched.sigmas, "out.timesteps": sched.timesteps},
                {"scheduler_config": config_text(config), "mu": repr(float(mu))})
    return res


def euler_cases() -> dict:
    """scheduler.step as FluxPipeline calls it (set_begin_index(0), t from timesteps), plus
    the transformer's timestep input `t.expand(B).to(latents.dtype) / 1000`."""
    res = {}
    g = gen(700)
    for steps, seq, index in [(4, 24, 1), (4, 24, 3), (28, 4096, 0)]:
        sched, mu = flux_schedule(TINY_SCHEDULER, steps, seq)
        sched.set_begin_index(0)
        sample = torch.randn(2, 24, 64, generator=g)
        model_output = torch.randn(2, 24, 64, generator=g) * 1.7
        # The scheduler's state at iteration `index` of the denoising loop, without
        # running the earlier steps' math.
        sched._step_index = index if index > 0 else None
        t = sched.timesteps[index]
        prev = sched.step(model_output, t, sample, return_dict=False)[0]
        timestep_in = t.expand(sample.shape[0]).to(sample.dtype) / 1000
        res[f"euler_steps{steps}_seq{seq}_index{index}"] = (
            {"in.sample": sample, "in.model_output": model_output,
             "in.num_inference_steps": torch.tensor([steps], dtype=torch.int64),
             "in.image_seq_len": torch.tensor([seq], dtype=torch.int64),
             "in.step_index": torch.tensor([index], dtype=torch.int64),
             "in.sigma": sched.sigmas[index:index + 1].clone(),
             "in.sigma_next": sched.sigmas[index + 1:index + 2].clone(),
             "in.timestep": sched.timesteps[index:index + 1].clone(),
             "out.prev_sample": prev, "out.timestep_input": timestep_in},
            {"scheduler_config": config_text(TINY_SCHEDULER), "mu": repr(float(mu))})
    return res


def guidance_cases() -> dict:
    """True CFG as FluxPipeline combines the two predictions, and the guidance input."""
    res = {}
    g = gen(710)
    pos = torch.randn(2, 24, 64, generator=g)
    neg = torch.randn(2, 24, 64, generator=g)
    for scale in (1.5, 4.0, 7.25):
        combined = neg + scale * (pos - neg)
        guidance = torch.full([1], 3.5, dtype=torch.float32).expand(2)
        res[f"true_cfg_{str(scale).replace('.', 'p')}"] = (
            {"in.noise_pred": pos, "in.neg_noise_pred": neg, "out.noise_pred": combined,
             "out.guidance": guidance.contiguous()},
            {"true_cfg_scale": repr(scale), "guidance_scale": "3.5"})
    return res


def unpack_cases() -> dict:
    """_unpack_latents takes pixel sizes; 50x85 is rounded down as FluxPipeline does."""
    res = {}
    g = gen(720)
    vsf = 8
    for name, (hp, wp) in {"unpack_48x80": (48, 80), "unpack_50x85": (50, 85)}.items():
        lh, lw = 2 * (hp // (vsf * 2)), 2 * (wp // (vsf * 2))
        packed = torch.randn(2, (lh // 2) * (lw // 2), 64, generator=g)
        latents = FluxPipeline._unpack_latents(packed, hp, wp, vsf)
        assert torch.equal(FluxPipeline._pack_latents(latents, 2, 16, lh, lw), packed)
        res[name] = ({"in.packed": packed, "out.latents": latents},
                     {"height": str(hp), "width": str(wp), "vae_scale_factor": str(vsf)})
    return res


def kontext_ids_case() -> dict:
    """FluxKontextPipeline.prepare_latents for a 64x96 target and one reference given as
    latents (6x10): its concatenated ids (target, then reference with id[0] = 1) and the
    packed reference."""
    pipe = FluxKontextPipeline.__new__(FluxKontextPipeline)  # only the helper methods run
    pipe.vae_scale_factor = 8
    pipe.latent_channels = 16
    ref = torch.randn(1, 16, 6, 10, generator=gen(730))
    latents, image_latents, latent_ids, image_ids = pipe.prepare_latents(
        ref, 1, 16, 64, 96, torch.float32, "cpu", gen(731))
    ids = torch.cat([latent_ids, image_ids], dim=0)
    return {"kontext_ids_8x12_ref6x10": (
        {"in.image_latents": ref, "out.image_latents": image_latents, "out.latent_ids": ids,
         "out.latents": latents},
        {"height": "64", "width": "96", "vae_scale_factor": "8"})}


def vae_scaling_case() -> dict:
    """Kontext's _encode_vae_image normalization and FluxPipeline's decode inverse."""
    x = torch.randn(1, 16, 6, 10, generator=gen(740)) * 2.0
    shift, scale = TINY_VAE["shift_factor"], TINY_VAE["scaling_factor"]
    return {"vae_scaling": (
        {"in.latents": x, "out.normalized": (x - shift) * scale,
         "out.denormalized": (x / scale) + shift},
        {"shift_factor": repr(shift), "scaling_factor": repr(scale)})}


def box_muller(words: np.ndarray) -> np.ndarray:
    """Kiln's mapping of Philox output words to normals (runtime/pipeline/noise.h)."""
    u = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53
    u1, u2 = u[0::2], u[1::2]
    r = np.sqrt(-2.0 * np.log(u1))
    theta = 2.0 * math.pi * u2
    out = np.empty_like(u)
    out[0::2], out[1::2] = r * np.cos(theta), r * np.sin(theta)
    return out.astype(np.float32)


def philox_block(key: int, counter: int) -> np.ndarray:
    """Philox4x64-10 of one 256-bit counter (numpy increments before each block)."""
    return np.random.Philox(counter=(counter - 1) % 2**256, key=key).random_raw(4)


def noise_cases() -> dict:
    res = {}
    keys = [(0, 0), (42, 0), (42, 1), (2**64 - 1, 7)]
    counters = [0, 1, 2**64 + 5, 2**256 - 1]
    blocks, key_words, counter_words = [], [], []
    for seed, stream in keys:
        for c in counters:
            blocks.append(philox_block(seed + (stream << 64), c))
            key_words.append([seed, stream])
            counter_words.append([(c >> (64 * i)) & (2**64 - 1) for i in range(4)])
    as_i64 = lambda a: torch.from_numpy(np.array(a, dtype=np.uint64).view(np.int64))  # noqa: E731
    res["philox4x64"] = ({"in.key": as_i64(key_words), "in.counter": as_i64(counter_words),
                          "out.block": as_i64(blocks)}, {})
    for seed, stream, count in [(42, 0, 64), (42, 1, 64), (7, 0, 1030)]:
        words = np.concatenate([philox_block(seed + (stream << 64), j)
                                for j in range((count + 3) // 4)])
        res[f"noise_seed{seed}_stream{stream}"] = (
            {"out.noise": torch.from_numpy(box_muller(words)[:count].copy())},
            {"seed": str(seed), "stream": str(stream)})
    return res


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    cases = {}
    for make in (sigma_cases, euler_cases, guidance_cases, unpack_cases, kontext_ids_case,
                 vae_scaling_case, noise_cases):
        cases.update(make())
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)
    for name, (tensors, metadata) in sorted(cases.items()):
        save_safetensors(tensors, OUT_DIR / f"{name}.safetensors",
                         dict(metadata, case=name, diffusers="0.42.1"))
        print(f"{name}: " + ", ".join(f"{k}{list(v.shape)}" for k, v in sorted(tensors.items())))


if __name__ == "__main__":
    main()
