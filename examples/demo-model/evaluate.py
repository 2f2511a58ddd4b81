"""Scores a demo model (issue 15): N held-out prompts per task through
`kiln generate` on a compiled artifact and, for text-to-image and edits,
through diffusers' FluxPipeline / FluxKontextPipeline on the same weights,
every picture read back by score.py. Prints the three accuracies per side.

  python evaluate.py MODEL_DIR MODEL.kiln [--count 100] [--kiln build/bin/kiln]

Prompts come from a seed the training never uses (scenes are drawn at
random from a small world, so a held-out prompt may still name a scene the
training saw; the pictures are new draws of the noise).
"""
from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import scenes
from score import matches

SIZE = 64
STEPS = 20
TEXT_TOKENS = 32  # what train.py encodes prompts with


def tasks(count: int):
    rng = random.Random(987654)
    t2i = []
    for _ in range(count):
        s = scenes.random_scene(rng)
        t2i.append((scenes.caption(s), [], s))
    edits = []
    for _ in range(count):
        src = scenes.random_scene(rng)
        text, target = scenes.random_edit(rng, src)
        edits.append((text, [src], target))
    comps = []
    for _ in range(count):
        text, first, second, target = scenes.random_composition(rng)
        comps.append((text, [first, second], target))
    return {"text-to-image": t2i, "edit": edits, "composition": comps}


def kiln_image(kiln: str, artifact: str, prompt: str, refs: list, seed: int,
               work: Path) -> np.ndarray:
    args = [kiln, "generate", artifact, "-p", prompt, "-o", str(work / "out.png"),
            "--width", str(SIZE), "--height", str(SIZE), "--steps", str(STEPS),
            "--seed", str(seed), "--max-sequence-length", str(TEXT_TOKENS), "-q"]
    for i, ref in enumerate(refs):
        path = work / f"ref{i}.png"
        Image.fromarray(scenes.render(ref, SIZE)).save(path)
        args += ["--image", str(path)]
    subprocess.run(args, check=True)
    return np.asarray(Image.open(work / "out.png").convert("RGB"))


def diffusers_images(model_dir: str, items, task: str):
    import torch
    from diffusers import FluxKontextPipeline, FluxPipeline
    cls = FluxPipeline if task == "text-to-image" else FluxKontextPipeline
    pipe = cls.from_pretrained(model_dir, torch_dtype=torch.float32)
    for seed, (prompt, refs, _) in enumerate(items):
        kwargs = {}
        if refs:
            kwargs["image"] = Image.fromarray(scenes.render(refs[0], SIZE))
            kwargs["_auto_resize"] = False
            # Kontext rescales the output to max_area (default 1024^2).
            kwargs["max_area"] = SIZE * SIZE
        out = pipe(prompt=prompt, height=SIZE, width=SIZE, num_inference_steps=STEPS,
                   guidance_scale=3.5, max_sequence_length=TEXT_TOKENS,
                   generator=torch.Generator().manual_seed(seed), **kwargs)
        yield np.asarray(out.images[0].convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("artifact")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--kiln", default=str(Path(__file__).resolve().parents[2] / "build/bin/kiln"))
    ap.add_argument("--no-diffusers", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kiln-demo-eval-"))
    for task, items in tasks(args.count).items():
        hits = sum(matches(kiln_image(args.kiln, args.artifact, p, refs, seed, work), target)
                   for seed, (p, refs, target) in enumerate(items))
        line = f"{task:14s} kiln {hits / len(items):.3f} ({hits}/{len(items)})"
        if not args.no_diffusers and task != "composition":
            ref_hits = sum(matches(img, items[i][2]) for i, img in
                           enumerate(diffusers_images(args.model_dir, items, task)))
            line += f", diffusers {ref_hits / len(items):.3f}"
        elif task == "composition":
            line += ", diffusers: no multi-reference pipeline"
        print(line, flush=True)


if __name__ == "__main__":
    main()
