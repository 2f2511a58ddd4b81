"""Reads shapes back from a picture and checks them against a scene
(examples/demo-model/scenes.py): the demo model's scorer (issue 15).

detect() takes a 3x3 median of the picture, finds the background (the
median of the border pixels), labels
every pixel with the nearest object color when it is clearly not
background, keeps connected regions of at least MIN_AREA of the image,
and names each region's shape by how much of its bounding box it fills
(square ~1, circle ~pi/4, triangle ~1/2) and its place by its centroid.
matches() says whether the objects found are the scene's: same colors and
shapes, nothing else of size, and the scene's relation between two.
"""
from __future__ import annotations

import dataclasses
import sys

import numpy as np

from scenes import BACKGROUNDS, COLORS, RELATIONS, Scene

MIN_AREA = 0.035      # of the image (a triangle covers ~0.065), for a region
                      # to count as an object: blends along edges stay below
FOREGROUND_DIST = 60  # RGB distance from the background to count at all
COLOR_DIST = 80       # ... and at most this far from its object color
                      # (an edge blended with the background is neither)


@dataclasses.dataclass
class Found:
    shape: str
    color: str
    cx: float  # centroid, fractions of the side
    cy: float
    area: float  # fraction of the image


def _nearest(table: dict, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    names = sorted(table)
    ref = np.array([table[n] for n in names], dtype=np.float32)
    dist = np.linalg.norm(rgb[..., None, :].astype(np.float32) - ref, axis=-1)
    return np.array(names)[dist.argmin(-1)], dist.min(-1)


def _components(mask: np.ndarray) -> list[np.ndarray]:
    """4-connected regions of a boolean mask, as arrays of (y, x)."""
    seen = np.zeros_like(mask)
    regions = []
    h, w = mask.shape
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        stack, pixels = [(y0, x0)], []
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            pixels.append((y, x))
            for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                ny, nx = y + dy, x + dx
                if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        regions.append(np.array(pixels))
    return regions


def _shape(pixels: np.ndarray) -> str:
    """A triangle (apex up) is much narrower in the top quarter of its
    bounding box than in the bottom one; of the symmetric shapes a square
    fills its box (1), a circle pi/4 of it. The box spans the 1st to 99th
    percentile of the coordinates, so stray pixels do not stretch it."""
    lo, hi = np.percentile(pixels, [1, 99], axis=0)
    inside = pixels[np.all((pixels >= lo) & (pixels <= hi), axis=1)]
    height = hi[0] - lo[0] + 1
    fill = len(inside) / (height * (hi[1] - lo[1] + 1))
    top = (inside[:, 0] < lo[0] + height / 4).sum()
    bottom = (inside[:, 0] > hi[0] - height / 4).sum()
    if top < 0.6 * bottom:
        return "triangle"
    return "square" if fill > 0.87 else "circle"


def _median3(image: np.ndarray) -> np.ndarray:
    """A 3x3 median per channel: removes pixel noise, keeps edges."""
    h, w, _ = image.shape
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    stack = [padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)]
    return np.median(np.stack(stack), axis=0).astype(image.dtype)


def detect(image: np.ndarray) -> tuple[str, list[Found]]:
    """The background's name and the objects in an RGB uint8 image."""
    image = _median3(image)
    h, w, _ = image.shape
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    background = np.median(border, axis=0)
    bg_name, _ = _nearest(BACKGROUNDS, background[None])
    far = np.linalg.norm(image.astype(np.float32) - background, axis=-1)
    names, dist = _nearest(COLORS, image)
    found = []
    for color in COLORS:
        mask = (far > FOREGROUND_DIST) & (names == color) & (dist < COLOR_DIST)
        for pixels in _components(mask):
            if len(pixels) < MIN_AREA * h * w:
                continue
            found.append(Found(_shape(pixels), color,
                               pixels[:, 1].mean() / w, pixels[:, 0].mean() / h,
                               len(pixels) / (h * w)))
    return str(bg_name[0]), found


def matches(image: np.ndarray, scene: Scene) -> bool:
    """Whether `image` shows exactly `scene`'s objects (colors, shapes,
    their relation) on its background."""
    background, found = detect(image)
    if background != scene.background or len(found) != len(scene.objects):
        return False
    placed = []
    for obj in scene.objects:
        hits = [f for f in found if f.shape == obj.shape and f.color == obj.color]
        if len(hits) != 1:
            return False
        placed.append(hits[0])
    if len(placed) == 2:
        a, b = placed
        relation = RELATIONS[(scene.objects[0].slot, scene.objects[1].slot)]
        ok = {"left of": a.cx < b.cx - 0.15, "right of": a.cx > b.cx + 0.15,
              "above": a.cy < b.cy - 0.15, "below": a.cy > b.cy + 0.15}
        return ok[relation]
    return True


def accuracy(pairs) -> float:
    """The fraction of (image, scene) pairs that match."""
    pairs = list(pairs)
    return sum(matches(image, scene) for image, scene in pairs) / len(pairs)


if __name__ == "__main__":
    # score.py IMAGE.png "caption": prints "match" or what was found.
    from PIL import Image
    from scenes import parse_caption
    image = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
    scene = parse_caption(sys.argv[2])
    if matches(image, scene):
        print("match")
    else:
        print("no match:", detect(image))
        sys.exit(1)
