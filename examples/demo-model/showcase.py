"""Makes the README's picture of the demo model (issue 15): one row per
task (text-to-image, an edit, a composition), the references on the left,
`kiln generate`'s output on the right, each 64x64 picture shown 3x with
nearest-neighbour scaling (the pixels are Kiln's, only enlarged).

  python3 showcase.py MODEL.kiln OUT.png [--kiln build/bin/kiln]

Runs with Debian's python3 (numpy, PIL); the artifact is compiled as
setup.sh does.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import scenes
from scenes import Obj, Scene

# As setup.sh's main job: true CFG against the empty prompt the model was
# trained with (" " encodes as "" does).
TRUE_CFG = 3
ZOOM = 3
SIDE = 64 * ZOOM
PAD = 8
TEXT_H = 34

# (prompt, reference scenes): fixed examples, one per task.
EXAMPLES = [
    ("a red circle left of a blue square on a white background", []),
    ("make the circle green",
     [Scene("black", (Obj("circle", "yellow", "top"), Obj("square", "purple", "bottom")))]),
    ("the triangle from the first image right of the square from the second image",
     [Scene("gray", (Obj("triangle", "orange", "center"),)),
      Scene("white", (Obj("square", "blue", "center"),))]),
]


def generate(kiln: str, artifact: str, prompt: str, refs, work: Path) -> Image.Image:
    args = [kiln, "generate", artifact, "-p", prompt, "-o", str(work / "out.png"),
            "--seed", "1", "-q", "--true-cfg", str(TRUE_CFG), "--negative-prompt", " "]
    for i, ref in enumerate(refs):
        path = work / f"ref{i}.png"
        Image.fromarray(scenes.render(ref, 64)).save(path)
        args += ["--image", str(path)]
    subprocess.run(args, check=True)
    return Image.open(work / "out.png").convert("RGB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("artifact")
    ap.add_argument("out", type=Path)
    ap.add_argument("--kiln", default=str(Path(__file__).resolve().parents[2] / "build/bin/kiln"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kiln-showcase-"))
    columns = 3  # two references at most, then the output
    width = PAD + columns * (SIDE + PAD)
    height = PAD + len(EXAMPLES) * (SIDE + TEXT_H + PAD)
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for row, (prompt, refs) in enumerate(EXAMPLES):
        y = PAD + row * (SIDE + TEXT_H + PAD)
        images = [Image.fromarray(scenes.render(r, 64)) for r in refs]
        out = generate(args.kiln, args.artifact, prompt, refs, work)
        for col, (img, label) in enumerate(
                [(img, f"reference {i + 1}") for i, img in enumerate(images)]):
            x = PAD + col * (SIDE + PAD)
            sheet.paste(img.resize((SIDE, SIDE), Image.NEAREST), (x, y + TEXT_H))
            draw.text((x, y + 16), label, fill=(90, 90, 90))
        x = PAD + (columns - 1) * (SIDE + PAD)
        sheet.paste(out.resize((SIDE, SIDE), Image.NEAREST), (x, y + TEXT_H))
        draw.text((PAD, y), f'"{prompt}"', fill=(0, 0, 0))
        draw.text((x, y + 16), "kiln generate", fill=(90, 90, 90))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
