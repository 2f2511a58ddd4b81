"""End-to-end reference data for `kiln generate`: whole diffusers pipeline runs on tiny-flux.

    HF_HUB_OFFLINE=1 ~/.venvs/kiln-ref/bin/python test/goldens/make_pipeline_goldens.py [--out DIR]

Runs the tiny checkpoint (test/goldens/tiny-flux) through diffusers' own pipelines
(diffusers 0.42.1, transformers 5.24.0, torch 2.15 on the CPU, one thread,
deterministic algorithms), with the initial noise passed explicitly via `latents=`,
and writes one safetensors file per case into cases/generate/ (deleting that
folder first; --out writes elsewhere, e.g. to check that two runs give identical
bytes):

  t2i.safetensors          FluxPipeline text-to-image
  t2i_cfg.safetensors      the same with true CFG (true_cfg_scale=2, negative_prompt)
  t2i_batch2.safetensors   num_images_per_prompt=2
  edit.safetensors         FluxKontextPipeline with one reference image (edit_ref.png)
  compose2.safetensors     two references (compose_ref0.png, compose_ref1.png): a
                           hand-written copy of FluxKontextPipeline's loop, since
                           diffusers has no multi-reference pipeline (reference k
                           gets position-id index k+1; checked here to reproduce
                           FluxKontextPipeline bit for bit with one reference)
  edit_ref.png, compose_ref0.png, compose_ref1.png
                           the deterministic 32x48 RGB reference images

Every case is 32x48 pixels (latent 8x12 with this VAE's factor 4, packed grid
4x6 = 24 tokens), 4 steps, guidance 3.5, max_sequence_length 32. Tensors are
named in.* (inputs Kiln must inject: the initial noise, reference pixels),
out.* (what diffusers computed) and meta.*; README.md ("generate/") lists them.
Images are U8 tensors, so the writer is generator/st_writer.py with a U8 entry
added to its dtype table (in this process only).

The script checks that every out.* is finite and not constant and prints
max|x| for each; that the pipelines' own seeded noise equals in.init_latents;
that out.image equals the pipeline's PIL output; and the compose2 loop against
FluxKontextPipeline. About 10 s. make_goldens.py deletes all of cases/: run
this script again after it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator.common import CASES_DIR, MODEL_DIR  # noqa: E402  (sets the offline env first)
from generator import st_writer  # noqa: E402

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import torch  # noqa: E402
import diffusers  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from diffusers import FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxPipeline  # noqa: E402
from diffusers.pipelines.flux.pipeline_flux import calculate_shift  # noqa: E402
from diffusers.pipelines.flux.pipeline_flux_kontext import retrieve_timesteps  # noqa: E402

st_writer._ST_DTYPES.setdefault(torch.uint8, "U8")  # images; the module itself has only F32/I64

OUT_DIR = CASES_DIR / "generate"
HEIGHT, WIDTH = 32, 48          # pixels; multiples of vae_scale_factor*2 = 8
STEPS = 4
GUIDANCE = 3.5
MAX_SEQ = 32                    # T5 tokens (pad to 32); the CLIP side is always 77
PROMPT = "a red fox in the snow, watercolor"
NEG_PROMPT = "blurry, low quality"
EDIT_PROMPT = "make the sky orange and add a small boat"
COMPOSE_PROMPT = "put the fox in front of the house, watercolor"
SEEDS = {"t2i": 42, "t2i_cfg": 43, "t2i_batch2": 44, "edit": 45, "compose2": 46}
REF_SEEDS = {"edit_ref": 101, "compose_ref0": 102, "compose_ref1": 103}


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------
def reference_image(seed: int, h: int, w: int) -> np.ndarray:
    """A deterministic RGB uint8 [h, w, 3]: a colour gradient, a disc, a bar and a
    little noise, all from `seed` (numpy's PCG64; integer/float64 math only)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    phase = rng.uniform(0, 2 * np.pi, 3)
    img = np.stack([
        0.5 + 0.45 * np.sin(2 * np.pi * x / w + phase[0]),
        0.5 + 0.45 * np.sin(2 * np.pi * y / h + phase[1]),
        0.5 + 0.45 * np.sin(2 * np.pi * (x + y) / (w + h) + phase[2]),
    ], axis=-1)
    cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, rng.uniform(0.15, 0.3) * h
    img[(y - cy) ** 2 + (x - cx) ** 2 <= r * r] = rng.uniform(0, 1, 3)
    r0, c0 = int(rng.integers(0, h // 2)), int(rng.integers(0, w // 2))
    img[r0:r0 + h // 4, c0:c0 + w // 3] = rng.uniform(0, 1, 3)
    u8 = np.round(img * 255) + rng.integers(-6, 7, size=img.shape)
    return np.clip(u8, 0, 255).astype(np.uint8)


def initial_noise(seed: int, batch: int, vsf: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What FluxPipeline.prepare_latents draws for generator=torch.Generator().manual_seed(seed):
    randn [B,16,H/vsf,W/vsf] (one generator for the whole batch), then _pack_latents."""
    h, w = HEIGHT // vsf, WIDTH // vsf
    g = torch.Generator(device="cpu").manual_seed(seed)
    noise = torch.randn((batch, 16, h, w), generator=g, dtype=torch.float32)
    return noise, FluxPipeline._pack_latents(noise, batch, 16, h, w)


# ----------------------------------------------------------------------------
# Recording what a pipeline does (hooks; nothing is changed)
# ----------------------------------------------------------------------------
class Recorder:
    """Records every transformer call (its kwargs and output), the token ids fed to
    both text encoders, and (Kontext) prepare_latents' arguments and results."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.calls, self.clip_ids, self.t5_ids, self.prepare = [], [], [], []
        self.handles = [
            pipe.transformer.register_forward_hook(self._tr, with_kwargs=True),
            pipe.text_encoder.register_forward_pre_hook(lambda m, a: self.clip_ids.append(a[0].clone())),
            pipe.text_encoder_2.register_forward_pre_hook(lambda m, a: self.t5_ids.append(a[0].clone())),
        ]
        self.orig_prepare = pipe.prepare_latents
        if isinstance(pipe, FluxKontextPipeline):
            def prepare(*args, **kwargs):
                res = self.orig_prepare(*args, **kwargs)
                self.prepare.append((args, kwargs, tuple(None if r is None else r.clone() for r in res)))
                return res
            pipe.prepare_latents = prepare

    def _tr(self, module, args, kwargs, output):
        assert not args, "the pipelines call the transformer with keyword arguments only"
        self.calls.append(({k: (v.clone() if torch.is_tensor(v) else v) for k, v in kwargs.items()},
                           output[0].clone()))

    def close(self):
        for h in self.handles:
            h.remove()
        if "prepare_latents" in self.pipe.__dict__:
            del self.pipe.prepare_latents


def u8_from_decoded(decoded: torch.Tensor) -> np.ndarray:
    """VaeImageProcessor.postprocess(output_type="pil") written out: denormalize
    (x*0.5+0.5).clamp(0,1), NCHW->NHWC float32, (x*255).round() (numpy, half to even)."""
    x = (decoded * 0.5 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).float().numpy()
    return (x * 255).round().astype(np.uint8)


def decode(pipe, latents: torch.Tensor) -> torch.Tensor:
    """The pipelines' decode branch: unpack, / scaling_factor + shift_factor, vae.decode."""
    lat = pipe._unpack_latents(latents, HEIGHT, WIDTH, pipe.vae_scale_factor)
    lat = lat / pipe.vae.config.scaling_factor + pipe.vae.config.shift_factor
    return pipe.vae.decode(lat, return_dict=False)[0]


def schedule(pipe, seq_len: int):
    """Step 5 of the pipelines (on a scheduler copy): sigmas, mu from the target tokens only."""
    sched = FlowMatchEulerDiscreteScheduler.from_config(pipe.scheduler.config)
    cfg = sched.config
    mu = calculate_shift(seq_len, cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                         cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
    timesteps, _ = retrieve_timesteps(sched, STEPS, "cpu", sigmas=np.linspace(1.0, 1 / STEPS, STEPS), mu=mu)
    return sched, timesteps, mu


def common_outputs(pipe, rec: Recorder, latents: torch.Tensor, step_latents: list, cfg: bool,
                   num_target: int) -> tuple[dict, dict]:
    """Tensors shared by every case, from the recorded transformer/text-encoder calls."""
    per_step = 2 if cfg else 1
    assert len(rec.calls) == STEPS * per_step and len(step_latents) == STEPS
    cond = [rec.calls[i * per_step] for i in range(STEPS)]
    kw0 = cond[0][0]
    t = {}
    for kw, _ in cond:   # the conditioning is the same at every step
        for k in ("encoder_hidden_states", "pooled_projections", "txt_ids", "img_ids", "guidance"):
            assert torch.equal(kw[k], kw0[k]), k
    assert kw0["guidance"] is not None and torch.all(kw0["guidance"] == GUIDANCE)
    sched, timesteps, mu = schedule(pipe, num_target)
    assert torch.equal(timesteps, pipe.scheduler.timesteps) and torch.equal(sched.sigmas, pipe.scheduler.sigmas)
    for i, (kw, _) in enumerate(cond):
        assert torch.equal(kw["timestep"], (timesteps[i].expand(latents.shape[0]) / 1000))
    t["out.prompt_embeds"] = kw0["encoder_hidden_states"]
    t["out.pooled_prompt_embeds"] = kw0["pooled_projections"]
    t["out.text_ids"] = kw0["txt_ids"]
    t["out.clip_ids"], t["out.t5_ids"] = rec.clip_ids[0], rec.t5_ids[0]
    t["out.sigmas"] = pipe.scheduler.sigmas.clone()
    t["out.timesteps"] = pipe.scheduler.timesteps.clone()
    t["out.mu"] = torch.tensor([mu], dtype=torch.float32)
    for i in range(STEPS):
        t[f"out.step_latents.{i}"] = step_latents[i]
        t[f"out.step_noise_pred.{i}"] = cond[i][1][:, :num_target]
        if cfg:
            neg_kw, neg_out = rec.calls[i * per_step + 1]
            t[f"out.step_noise_pred_uncond.{i}"] = neg_out[:, :num_target]
    if cfg:
        neg_kw = rec.calls[1][0]
        t["out.negative_prompt_embeds"] = neg_kw["encoder_hidden_states"]
        t["out.negative_pooled_prompt_embeds"] = neg_kw["pooled_projections"]
        t["out.negative_clip_ids"], t["out.negative_t5_ids"] = rec.clip_ids[1], rec.t5_ids[1]
        assert torch.equal(neg_kw["txt_ids"], kw0["txt_ids"]) and torch.equal(neg_kw["img_ids"], kw0["img_ids"])
    assert torch.equal(step_latents[-1], latents)
    t["out.latents"] = latents
    decoded = decode(pipe, latents)
    t["out.decoded"] = decoded
    u8 = u8_from_decoded(decoded)
    t["out.image"] = torch.from_numpy(u8[0] if u8.shape[0] == 1 else u8)
    meta = {"mu": repr(float(mu)), "num_target_tokens": str(num_target)}
    return t, meta


def step_callback(store: list):
    def cb(pipe, i, t, kwargs):
        store.append(kwargs["latents"].clone())
        return {}
    return cb


def base_meta(name: str, pipe, prompt: str, seed: int, batch: int) -> dict:
    return {
        "component": "generate", "case": name, "pipeline": type(pipe).__name__,
        "prompt": prompt, "height": str(HEIGHT), "width": str(WIDTH), "steps": str(STEPS),
        "guidance": repr(GUIDANCE), "max_sequence_length": str(MAX_SEQ), "seed": str(seed),
        "num_images_per_prompt": str(batch), "vae_scale_factor": str(pipe.vae_scale_factor),
        "scaling_factor": repr(pipe.vae.config.scaling_factor), "shift_factor": repr(pipe.vae.config.shift_factor),
        "versions": f"diffusers {diffusers.__version__}, transformers {transformers.__version__}, "
                    f"torch {torch.__version__}, Pillow {PIL.__version__}",
    }


# ----------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------
def t2i_case(pipe: FluxPipeline, name: str, batch: int = 1, true_cfg: float = 1.0,
             negative_prompt: str | None = None) -> tuple[dict, dict]:
    seed = SEEDS[name]
    noise, packed = initial_noise(seed, batch, pipe.vae_scale_factor)
    args = dict(prompt=PROMPT, negative_prompt=negative_prompt, true_cfg_scale=true_cfg, height=HEIGHT,
                width=WIDTH, num_inference_steps=STEPS, guidance_scale=GUIDANCE, num_images_per_prompt=batch,
                max_sequence_length=MAX_SEQ, return_dict=False)
    rec, steps = Recorder(pipe), []
    latents = pipe(**args, latents=packed.clone(), output_type="latent",
                   callback_on_step_end=step_callback(steps))[0]
    rec.close()
    num_target = packed.shape[1]
    t, meta = common_outputs(pipe, rec, latents, steps, true_cfg > 1 and negative_prompt is not None, num_target)
    assert torch.equal(rec.calls[0][0]["img_ids"], FluxPipeline._prepare_latent_image_ids(
        1, HEIGHT // pipe.vae_scale_factor // 2, WIDTH // pipe.vae_scale_factor // 2, "cpu", torch.float32))
    t["in.init_noise"], t["in.init_latents"] = noise, packed
    t["out.latent_ids"] = rec.calls[0][0]["img_ids"]
    t["meta.num_target_tokens"] = torch.tensor([num_target], dtype=torch.int64)

    # The pipeline's own noise (a seeded generator, no latents=) is in.init_latents ...
    again = pipe(**args, generator=torch.Generator().manual_seed(seed), output_type="latent")[0]
    assert torch.equal(again, latents), "seeded pipeline noise != in.init_latents"
    # ... and its PIL output is out.image.
    pil = pipe(**args, latents=packed.clone(), output_type="pil")[0]
    assert np.array_equal(np.stack([np.asarray(p) for p in pil]).reshape(t["out.image"].shape),
                          t["out.image"].numpy()), "out.image != pipeline PIL output"

    meta.update(base_meta(name, pipe, PROMPT, seed, batch))
    meta.update(negative_prompt=negative_prompt or "", true_cfg_scale=repr(true_cfg))
    return t, meta


def preprocess_reference(pipe: FluxKontextPipeline, img: Image.Image) -> torch.Tensor:
    """FluxKontextPipeline.__call__'s reference preprocessing with _auto_resize=False."""
    multiple_of = pipe.vae_scale_factor * 2
    h, w = pipe.image_processor.get_default_height_width(img)
    h, w = h // multiple_of * multiple_of, w // multiple_of * multiple_of
    img = pipe.image_processor.resize(img, h, w)
    return pipe.image_processor.preprocess(img, h, w)


def kontext_call_args(prompt: str) -> dict:
    return dict(prompt=prompt, height=HEIGHT, width=WIDTH, num_inference_steps=STEPS, guidance_scale=GUIDANCE,
                max_sequence_length=MAX_SEQ, max_area=HEIGHT * WIDTH, _auto_resize=False, return_dict=False)


def reference_tensors(pipe, u8: np.ndarray, pixels: torch.Tensor, suffix: str) -> dict:
    """in.image_u8, out.ref_pixels, out.ref_latent_mean for one reference."""
    expect = torch.from_numpy(u8.astype(np.float32) / 255.0).permute(2, 0, 1)[None] * 2.0 - 1.0
    assert torch.equal(pixels, expect), "reference preprocessing is not u8/255*2-1"
    mean = pipe.vae.encode(pixels).latent_dist.mean
    return {f"in.image_u8{suffix}": torch.from_numpy(u8), f"out.ref_pixels{suffix}": pixels,
            f"out.ref_latent_mean{suffix}": mean}


def edit_case(pipe: FluxKontextPipeline, ref_path: Path, u8: np.ndarray) -> tuple[dict, dict]:
    name = "edit"
    seed = SEEDS[name]
    noise, packed = initial_noise(seed, 1, pipe.vae_scale_factor)
    args = kontext_call_args(EDIT_PROMPT)
    rec, steps = Recorder(pipe), []
    latents = pipe(image=Image.open(ref_path), **args, latents=packed.clone(), output_type="latent",
                   callback_on_step_end=step_callback(steps))[0]
    rec.close()
    (p_args, p_kwargs, (lat0, image_latents, latent_ids, image_ids)), = rec.prepare
    pixels = p_args[0]
    assert torch.equal(lat0, packed)
    num_target = packed.shape[1]
    t, meta = common_outputs(pipe, rec, latents, steps, False, num_target)
    t.update(reference_tensors(pipe, u8, pixels, ""))
    lh, lw = HEIGHT // pipe.vae_scale_factor, WIDTH // pipe.vae_scale_factor
    norm = (t["out.ref_latent_mean"] - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor
    assert torch.equal(image_latents, FluxPipeline._pack_latents(norm, 1, 16, lh, lw))
    tr_ids = rec.calls[0][0]["img_ids"]
    assert torch.equal(tr_ids, torch.cat([latent_ids, image_ids], 0)) and torch.all(image_ids[:, 0] == 1)
    for kw, _ in rec.calls:
        assert torch.equal(kw["hidden_states"][:, num_target:], image_latents)
    t["in.init_noise"], t["in.init_latents"] = noise, packed
    t["out.image_latents"], t["out.latent_ids"] = image_latents, tr_ids
    t["meta.num_target_tokens"] = torch.tensor([num_target], dtype=torch.int64)

    again = pipe(image=Image.open(ref_path), **args, generator=torch.Generator().manual_seed(seed),
                 output_type="latent")[0]
    assert torch.equal(again, latents), "seeded Kontext noise != in.init_latents"
    pil = pipe(image=Image.open(ref_path), **args, latents=packed.clone(), output_type="pil")[0][0]
    assert pil.size == (WIDTH, HEIGHT) and np.array_equal(np.asarray(pil), t["out.image"].numpy())

    meta.update(base_meta(name, pipe, EDIT_PROMPT, seed, 1))
    meta.update(references=ref_path.name, max_area=str(HEIGHT * WIDTH), auto_resize="False",
                true_cfg_scale="1.0", negative_prompt="")
    return t, meta


def multi_reference(pipe: FluxKontextPipeline, prompt: str, refs: list[Image.Image], packed: torch.Tensor):
    """FluxKontextPipeline.__call__ (no CFG, batch 1) with several references: each is
    preprocessed, VAE-encoded (latent mean, normalized) and packed on its own; the
    packed tokens are concatenated after the target tokens in reference order, and
    reference k's ids are (k+1, row, col) on its own grid starting at (0, 0)."""
    prompt_embeds, pooled, text_ids = pipe.encode_prompt(prompt=prompt, prompt_2=None, device="cpu",
                                                         num_images_per_prompt=1, max_sequence_length=MAX_SEQ)
    vsf = pipe.vae_scale_factor
    latent_ids = pipe._prepare_latent_image_ids(1, HEIGHT // vsf // 2, WIDTH // vsf // 2, "cpu", torch.float32)
    pixels, ref_latents, ref_ids = [], [], []
    for k, img in enumerate(refs):
        px = preprocess_reference(pipe, img).to(dtype=prompt_embeds.dtype)
        lat = pipe._encode_vae_image(image=px, generator=None)
        lh, lw = lat.shape[2:]
        ref_latents.append(pipe._pack_latents(lat, 1, pipe.latent_channels, lh, lw))
        ids = pipe._prepare_latent_image_ids(1, lh // 2, lw // 2, "cpu", torch.float32)
        ids[..., 0] = k + 1
        ref_ids.append(ids)
        pixels.append(px)
    image_latents = torch.cat(ref_latents, dim=1)
    all_ids = torch.cat([latent_ids] + ref_ids, dim=0)
    sched, timesteps, mu = schedule(pipe, packed.shape[1])
    guidance = torch.full([1], GUIDANCE, dtype=torch.float32).expand(1)
    sched.set_begin_index(0)
    latents, steps, preds = packed.clone(), [], []
    for t in timesteps:
        noise_pred = pipe.transformer(
            hidden_states=torch.cat([latents, image_latents], dim=1), timestep=t.expand(1).to(latents.dtype) / 1000,
            guidance=guidance, pooled_projections=pooled, encoder_hidden_states=prompt_embeds, txt_ids=text_ids,
            img_ids=all_ids, joint_attention_kwargs={}, return_dict=False)[0]
        noise_pred = noise_pred[:, : latents.size(1)]
        latents = sched.step(noise_pred, t, latents, return_dict=False)[0]
        steps.append(latents.clone())
        preds.append(noise_pred.clone())
    return dict(latents=latents, steps=steps, preds=preds, pixels=pixels, image_latents=image_latents,
                latent_ids=all_ids, prompt_embeds=prompt_embeds, pooled=pooled, text_ids=text_ids,
                sched=sched, timesteps=timesteps, mu=mu)


def compose_case(pipe: FluxKontextPipeline, ref_paths: list[Path], u8s: list[np.ndarray],
                 edit: tuple[dict, dict], edit_ref: Path) -> tuple[dict, dict]:
    name = "compose2"
    # The loop above, given Kontext's single reference and inputs, must reproduce edit.
    et = edit[0]
    one = multi_reference(pipe, EDIT_PROMPT, [Image.open(edit_ref)], et["in.init_latents"])
    assert torch.equal(one["latents"], et["out.latents"]), "multi_reference(1 ref) != FluxKontextPipeline"
    assert torch.equal(one["latent_ids"], et["out.latent_ids"])
    assert torch.equal(one["image_latents"], et["out.image_latents"])

    seed = SEEDS[name]
    noise, packed = initial_noise(seed, 1, pipe.vae_scale_factor)
    rec = Recorder(pipe)
    r = multi_reference(pipe, COMPOSE_PROMPT, [Image.open(p) for p in ref_paths], packed)
    rec.close()
    num_target = packed.shape[1]
    t = {"in.init_noise": noise, "in.init_latents": packed}
    for k, (u8, px) in enumerate(zip(u8s, r["pixels"])):
        t.update(reference_tensors(pipe, u8, px, f".{k}"))
    lh, lw = HEIGHT // pipe.vae_scale_factor, WIDTH // pipe.vae_scale_factor
    for k in range(len(ref_paths)):
        norm = (t[f"out.ref_latent_mean.{k}"] - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor
        assert torch.equal(r["image_latents"][:, k * lh * lw // 4:(k + 1) * lh * lw // 4],
                           FluxPipeline._pack_latents(norm, 1, 16, lh, lw))
    t["out.prompt_embeds"], t["out.pooled_prompt_embeds"], t["out.text_ids"] = (
        r["prompt_embeds"], r["pooled"], r["text_ids"])
    t["out.clip_ids"], t["out.t5_ids"] = rec.clip_ids[0], rec.t5_ids[0]
    t["out.sigmas"], t["out.timesteps"] = r["sched"].sigmas.clone(), r["timesteps"].clone()
    t["out.mu"] = torch.tensor([r["mu"]], dtype=torch.float32)
    for i in range(STEPS):
        t[f"out.step_latents.{i}"] = r["steps"][i]
        t[f"out.step_noise_pred.{i}"] = r["preds"][i]
    t["out.latents"] = r["latents"]
    t["out.image_latents"], t["out.latent_ids"] = r["image_latents"], r["latent_ids"]
    t["out.decoded"] = decode(pipe, r["latents"])
    t["out.image"] = torch.from_numpy(u8_from_decoded(t["out.decoded"])[0])
    t["meta.num_target_tokens"] = torch.tensor([num_target], dtype=torch.int64)
    # Decoding through the pipeline's own postprocess gives the same bytes.
    pil = pipe.image_processor.postprocess(t["out.decoded"], output_type="pil")[0]
    assert np.array_equal(np.asarray(pil), t["out.image"].numpy())

    meta = base_meta(name, pipe, COMPOSE_PROMPT, seed, 1)
    meta.update(pipeline="hand-written FluxKontextPipeline loop, 2 references",
                references=",".join(p.name for p in ref_paths), mu=repr(float(r["mu"])),
                num_target_tokens=str(num_target), true_cfg_scale="1.0", negative_prompt="")
    return t, meta


# ----------------------------------------------------------------------------
def check_outputs(name: str, tensors: dict) -> None:
    for k, v in sorted(tensors.items()):
        if not k.startswith("out."):
            continue
        x = v.double()
        assert torch.isfinite(x).all(), f"{name}/{k}: not finite"
        constant = x.numel() > 1 and x.max() == x.min()
        zero_ok = k.endswith("text_ids")  # FLUX text ids are all zeros by design
        assert zero_ok or not constant, f"{name}/{k}: constant"
        print(f"  {k:34s} {str(v.dtype)[6:]:8s} {str(list(v.shape)):16s} max|x| = {x.abs().max().item():.6g}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: cases/generate)")
    out_dir = ap.parse_args().out

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_grad_enabled(False)
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog
    dlog.set_verbosity_error()
    tlog.set_verbosity_error()
    dlog.disable_progress_bar()
    tlog.disable_progress_bar()

    pipe = FluxPipeline.from_pretrained(str(MODEL_DIR), dtype=torch.float32)
    kontext = FluxKontextPipeline.from_pretrained(str(MODEL_DIR), dtype=torch.float32)
    for p in (pipe, kontext):
        p.set_progress_bar_config(disable=True)
    assert pipe.vae_scale_factor == 4 and HEIGHT % (pipe.vae_scale_factor * 2) == 0
    assert WIDTH % (pipe.vae_scale_factor * 2) == 0 and pipe.transformer.config.guidance_embeds

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    refs = {}
    for name, s in REF_SEEDS.items():
        u8 = reference_image(s, HEIGHT, WIDTH)
        path = out_dir / f"{name}.png"
        Image.fromarray(u8, "RGB").save(path, format="PNG")
        back = Image.open(path)
        assert back.mode == "RGB" and np.array_equal(np.asarray(back), u8)
        refs[name] = (path, u8)

    cases = {}
    cases["t2i"] = t2i_case(pipe, "t2i")
    cases["t2i_cfg"] = t2i_case(pipe, "t2i_cfg", true_cfg=2.0, negative_prompt=NEG_PROMPT)
    cases["t2i_batch2"] = t2i_case(pipe, "t2i_batch2", batch=2)
    cases["edit"] = edit_case(kontext, *refs["edit_ref"])
    cases["compose2"] = compose_case(kontext, [refs["compose_ref0"][0], refs["compose_ref1"][0]],
                                     [refs["compose_ref0"][1], refs["compose_ref1"][1]], cases["edit"],
                                     refs["edit_ref"][0])
    # Batch 2 = the two images run one at a time (same prompt, each with its own noise).
    b2 = cases["t2i_batch2"][0]
    for i in range(2):
        single = pipe(prompt=PROMPT, height=HEIGHT, width=WIDTH, num_inference_steps=STEPS,
                      guidance_scale=GUIDANCE, max_sequence_length=MAX_SEQ, return_dict=False,
                      latents=b2["in.init_latents"][i:i + 1].clone(), output_type="latent")[0]
        diff = (single - b2["out.latents"][i:i + 1]).abs().max().item()
        assert diff < 1e-5, f"batch2 image {i} vs batch 1: {diff}"
        print(f"t2i_batch2: image {i} run alone differs by max {diff:.3g}")

    from safetensors import safe_open
    for name, (tensors, meta) in cases.items():
        print(f"{name}:")
        check_outputs(name, tensors)
        path = out_dir / f"{name}.safetensors"
        st_writer.save_safetensors(tensors, path, meta)
        with safe_open(str(path), "pt") as f:
            assert set(f.keys()) == set(tensors) and f.metadata() == {k: str(v) for k, v in meta.items()}
            for k in tensors:
                assert torch.equal(f.get_tensor(k), tensors[k].contiguous()), k
    total = sum(p.stat().st_size for p in out_dir.iterdir())
    print(f"wrote {len(list(out_dir.iterdir()))} files, {total} bytes, to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
