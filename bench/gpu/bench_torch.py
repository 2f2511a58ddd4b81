#!/usr/bin/env python3
"""The reference half of the GPU benchmark: one FluxTransformer2DModel forward
(a denoise step) with diffusers on the GPU, in bf16 eager, bf16 torch.compile
and f32 eager, timed with CUDA events (median of --runs after --warmup).

    bench_torch.py --config medium|full [--image-tokens 1024] [--text-tokens 256]

medium: the config of bench/make_medium_flux.py (the transformer of the CPU
benchmark, read from --medium-config); full: FLUX.1-dev's shape (hidden 3072,
24 heads, 19 double + 38 single blocks, guidance embedding). Weights are
random (the step's time does not depend on their values). Prints one line per
variant and, last, a JSON object with the medians in ms.
"""
import argparse
import json
import statistics
import sys

import torch
from diffusers import FluxTransformer2DModel

FULL = dict(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38,
            attention_head_dim=128, num_attention_heads=24,
            joint_attention_dim=4096, pooled_projection_dim=768,
            guidance_embeds=True, axes_dims_rope=(16, 56, 56))


def inputs(cfg, image_tokens, text_tokens, dtype):
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(0)
    hidden = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    del hidden
    x = {
        "hidden_states": torch.randn(1, image_tokens, cfg["in_channels"], generator=g, device=dev, dtype=dtype),
        "encoder_hidden_states": torch.randn(1, text_tokens, cfg["joint_attention_dim"], generator=g, device=dev, dtype=dtype),
        "pooled_projections": torch.randn(1, cfg["pooled_projection_dim"], generator=g, device=dev, dtype=dtype),
        "timestep": torch.full((1,), 0.5, device=dev, dtype=dtype),
        "img_ids": torch.zeros(image_tokens, 3, device=dev, dtype=dtype),
        "txt_ids": torch.zeros(text_tokens, 3, device=dev, dtype=dtype),
        "return_dict": False,
    }
    if cfg.get("guidance_embeds"):
        x["guidance"] = torch.full((1,), 3.5, device=dev, dtype=dtype)
    return x


def time_step(model, x, warmup, runs):
    with torch.inference_mode():
        for _ in range(warmup):
            model(**x)
        torch.cuda.synchronize()
        times = []
        for _ in range(runs):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            model(**x)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=["medium", "full"], required=True)
    ap.add_argument("--medium-config", default="build/gpu-bundle/medium_config.json")
    ap.add_argument("--image-tokens", type=int, default=1024)
    ap.add_argument("--text-tokens", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--variants", default="bf16-eager,bf16-compile,f32-eager")
    args = ap.parse_args()
    if args.config == "full":
        cfg = dict(FULL)
    else:
        with open(args.medium_config) as f:
            cfg = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, config {args.config}, "
          f"{args.image_tokens} image + {args.text_tokens} text tokens", flush=True)
    results = {}
    for variant in args.variants.split(","):
        dtype = torch.bfloat16 if variant.startswith("bf16") else torch.float32
        with torch.device("cuda"):
            model = FluxTransformer2DModel(**cfg).to(dtype).eval()
        if variant.endswith("compile"):
            model = torch.compile(model)
        x = inputs(cfg, args.image_tokens, args.text_tokens, dtype)
        ms = time_step(model, x, args.warmup, args.runs)
        results[variant] = ms
        print(f"diffusers {variant}: median {ms:.2f} ms per step", flush=True)
        del model, x
        torch.cuda.empty_cache()
    print(json.dumps({"config": args.config, "median_ms": results}))


if __name__ == "__main__":
    sys.exit(main())
