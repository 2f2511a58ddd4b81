#!/usr/bin/env python3
"""Make the *medium* FLUX-architecture transformer of issue 4's benchmark, plus one
fixed-seed input case, with diffusers (random weights from a fixed seed; nothing is
downloaded).

    ~/.venvs/kiln-ref/bin/python bench/make_medium_flux.py [OUT_DIR] [--case PATH]

OUT_DIR (default build/bench/medium-flux) gets a diffusers folder:

    OUT_DIR/model_index.json               FluxPipeline index; only `transformer` is present
    OUT_DIR/transformer/config.json
    OUT_DIR/transformer/diffusion_pytorch_model.safetensors   float32, ~1.3 GB

The other FLUX components (VAE, CLIP, T5, tokenizers, scheduler) are listed as
[null, null] in model_index.json: the benchmark runs only the denoise step (one
transformer forward), and Kiln's importer skips null entries. FluxPipeline cannot be
built from this folder; FluxTransformer2DModel.from_pretrained(OUT_DIR,
subfolder="transformer") and `kiln-compile OUT_DIR` can.

--case (default build/bench/cases/transformer/t2i_32x32.safetensors) gets one
transformer case in the convention of test/goldens/README.md ("Case files"): a
512x512 text-to-image step, 32x32 packed latent grid = 1024 image tokens, 256 text
tokens, batch 1, with the reference output `out.sample` from the reloaded
checkpoint.

The weights are never committed (build/ is ignored). The script reuses the golden
generator's (test/goldens/generator/) seeding, packing, position-id and
safetensors-writing helpers and its transformer weight redraw (matrices
N(0, 1/fan_in), biases N(0, 0.02), norm scales N(1, 0.1)), with seed offsets of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "test" / "goldens"))

# generator.common sets the HF offline env vars before torch/diffusers are imported.
from generator.common import LATENT_CHANNELS, PATCH, gen, seed  # noqa: E402
from generator.cases_transformer import flux_forward  # noqa: E402
from generator.models_tiny import redraw_transformer_weights  # noqa: E402
from generator.packing import image_ids, pack_latents  # noqa: E402
from generator.st_writer import save_safetensors  # noqa: E402
import torch  # noqa: E402

# ----------------------------------------------------------------------------
# The medium configuration (issue 4: hidden 1536, 2 double + 4 single blocks).
# Everything else is FLUX.1's: in_channels 64 (16 latent channels x 2x2 patch),
# joint_attention_dim 4096 (T5-XXL width), pooled_projection_dim 768 (CLIP-L),
# guidance embedding, head_dim 128 with RoPE axes (16, 56, 56), mlp_ratio 4.
# joint_attention_dim stays at 4096: the context embedder is 6.3 M parameters
# (25 MB) and 3.2 GFLOP of a 499 GFLOP step, so a smaller value would buy nothing.
# ----------------------------------------------------------------------------
MEDIUM_CONFIG = dict(
    patch_size=1,
    in_channels=LATENT_CHANNELS * PATCH * PATCH,  # 64
    out_channels=None,  # = in_channels
    num_layers=2,  # double-stream blocks
    num_single_layers=4,  # single-stream blocks
    attention_head_dim=128,
    num_attention_heads=12,  # hidden size 12 x 128 = 1536
    joint_attention_dim=4096,
    pooled_projection_dim=768,
    guidance_embeds=True,
    axes_dims_rope=(16, 56, 56),
)

# The benchmark case: 512x512 image -> 64x64 latent (VAE factor 8) -> 32x32 packed grid.
GRID = (32, 32)
S_TXT = 256
TIMESTEP = 0.75  # sigma, as the pipelines pass it (the model multiplies by 1000)
GUIDANCE = 3.5  # unscaled guidance scale
CASE_NAME = "t2i_32x32"

# Seed offsets distinct from the goldens' (1..10 for models, gen(100+k) for cases).
SEED_MODEL = 500
SEED_WEIGHTS = 501
GEN_CASE = 900


def build_model() -> torch.nn.Module:
    from diffusers import FluxTransformer2DModel

    seed(SEED_MODEL)
    model = FluxTransformer2DModel(**MEDIUM_CONFIG)
    # Same distribution as the tiny golden checkpoint: variance-preserving matrices
    # (std 1/sqrt(fan_in) = 0.026 for fan_in 1536), small biases, norm scales near 1.
    redraw_transformer_weights(model, SEED_WEIGHTS)
    return model.eval()


def make_case() -> dict[str, torch.Tensor]:
    g = gen(GEN_CASE)
    gh, gw = GRID
    cfg = MEDIUM_CONFIG
    hidden_states = pack_latents(torch.randn(1, LATENT_CHANNELS, 2 * gh, 2 * gw, generator=g))
    enc = torch.randn(1, S_TXT, cfg["joint_attention_dim"], generator=g)
    pooled = torch.randn(1, cfg["pooled_projection_dim"], generator=g)
    return {
        "in.hidden_states": hidden_states,
        "in.encoder_hidden_states": enc,
        "in.pooled_projections": pooled,
        "in.timestep": torch.tensor([TIMESTEP], dtype=torch.float32),
        "in.guidance": torch.tensor([GUIDANCE], dtype=torch.float32),
        "in.img_ids": image_ids(gh, gw, 0),
        "in.txt_ids": torch.zeros(S_TXT, 3),
    }


def forward(model, case: dict[str, torch.Tensor], stats: dict | None = None) -> torch.Tensor:
    """One denoise step. With `stats`, records max|x| and std of every block's outputs."""
    hooks = []
    if stats is not None:
        def hook(name):
            def f(_mod, _inp, out):
                ts = out if isinstance(out, tuple) else (out,)
                stats[name] = [(float(t.abs().max()), float(t.std())) for t in ts if torch.is_tensor(t)]
            return f
        for name, mod in model.named_modules():
            if name.count(".") == 1 and name.split(".")[0] in ("transformer_blocks", "single_transformer_blocks"):
                hooks.append(mod.register_forward_hook(hook(name)))
    try:
        with torch.inference_mode():
            return flux_forward(model, case).clone()
    finally:
        for h in hooks:
            h.remove()


def write_model_index(out_dir: Path) -> None:
    import diffusers

    index = {
        "_class_name": "FluxPipeline",
        "_diffusers_version": diffusers.__version__,
        "_kiln_note": "benchmark model: only the transformer is present (see bench/README.md)",
        "scheduler": [None, None],
        "text_encoder": [None, None],
        "text_encoder_2": [None, None],
        "tokenizer": [None, None],
        "tokenizer_2": [None, None],
        "transformer": ["diffusers", "FluxTransformer2DModel"],
        "vae": [None, None],
    }
    (out_dir / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", nargs="?", default=str(REPO / "build" / "bench" / "medium-flux"))
    ap.add_argument("--case", default=str(REPO / "build" / "bench" / "cases" / "transformer" / f"{CASE_NAME}.safetensors"))
    ap.add_argument("--double-blocks", type=int, default=MEDIUM_CONFIG["num_layers"],
                    help="double-stream blocks (default 2; 1 + --single-blocks 1 makes a quick "
                         "probe model for kernel work, not the benchmark)")
    ap.add_argument("--single-blocks", type=int, default=MEDIUM_CONFIG["num_single_layers"],
                    help="single-stream blocks (default 4)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for the two reference forwards (default 1, deterministic like the goldens)")
    args = ap.parse_args()
    out_dir, case_path = Path(args.out_dir), Path(args.case)
    MEDIUM_CONFIG.update(num_layers=args.double_blocks, num_single_layers=args.single_blocks)

    from diffusers import FluxTransformer2DModel

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.perf_counter()

    model = build_model()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"built FluxTransformer2DModel: {n_params:,} parameters "
          f"({n_params * 4:,} bytes f32) in {time.perf_counter() - t0:.1f} s")

    case = make_case()
    t1 = time.perf_counter()
    out_mem = forward(model, case)
    print(f"in-memory forward: {time.perf_counter() - t1:.1f} s")

    if out_dir.exists():
        import shutil
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    t1 = time.perf_counter()
    model.save_pretrained(str(out_dir / "transformer"), safe_serialization=True)
    write_model_index(out_dir)
    del model
    print(f"saved to {out_dir} in {time.perf_counter() - t1:.1f} s")

    # As in test/goldens/make_goldens.py, the committed reference output comes from the reloaded
    # checkpoint, and the reload must reproduce the in-memory model.
    model = FluxTransformer2DModel.from_pretrained(str(out_dir), subfolder="transformer",
                                                   torch_dtype=torch.float32,
                                                   low_cpu_mem_usage=False).eval()
    stats: dict = {}
    t1 = time.perf_counter()
    out = forward(model, case, stats)
    print(f"reloaded forward: {time.perf_counter() - t1:.1f} s")
    diff = float((out - out_mem).abs().max())
    print(f"reloaded vs in-memory: max |diff| = {diff:.2e}")
    if diff > 1e-4:
        raise SystemExit("reloaded checkpoint does not reproduce the in-memory model")

    print("activations (max|x|, std) per block output [encoder_hidden_states, hidden_states]:")
    for name, v in stats.items():
        print(f"  {name:30s} " + "  ".join(f"({m:.3g}, {s:.3g})" for m, s in v))
    amax, astd = float(out.abs().max()), float(out.std())
    print(f"out.sample {list(out.shape)}: max|x| = {amax:.3g}, std = {astd:.3g}")
    worst = max(m for v in stats.values() for m, _ in v)
    if not torch.isfinite(out).all() or astd < 1e-3 or worst > 1e3:
        raise SystemExit("activations are degenerate (non-finite, near zero or exploding)")

    tensors = dict(case)
    tensors["meta.num_target_tokens"] = torch.tensor([GRID[0] * GRID[1]], dtype=torch.int64)
    tensors["out.sample"] = out
    meta = {
        "component": "transformer",
        "case": CASE_NAME,
        "target_grid": f"{GRID[0]}x{GRID[1]}",
        "reference_grids": "",
        "num_target_tokens": str(GRID[0] * GRID[1]),
        "num_image_tokens": str(tensors["in.hidden_states"].shape[1]),
    }
    case_path.parent.mkdir(parents=True, exist_ok=True)
    save_safetensors({k: v.contiguous() for k, v in tensors.items()}, case_path, meta)
    for k, v in sorted(tensors.items()):
        print(f"  {k:28s} {str(v.dtype).replace('torch.', ''):8s} {list(v.shape)}")
    print(f"wrote case {case_path}")

    files = sorted((out_dir / "transformer").glob("*.safetensors"))
    size = sum(f.stat().st_size for f in files)
    print(f"model weights: {size:,} bytes in {len(files)} file(s); total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
