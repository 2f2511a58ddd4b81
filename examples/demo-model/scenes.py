"""Synthetic scenes for Kiln's demo model (issue 15): colored shapes on a
colored background, their captions, edit instructions and compositions.

A scene is a background color and one or two objects; an object is a shape,
a color and a slot (where it sits). Everything the training data and the
scorer need comes from here, so a caption, its scene and its picture always
agree. Pure numpy + PIL (Debian: python3-numpy, python3-pil).
"""
from __future__ import annotations

import dataclasses
import random

import numpy as np
from PIL import Image, ImageDraw

# Colors far apart in RGB, so a detector can tell them after a VAE's blur.
COLORS = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 230),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 200),
    "orange": (245, 140, 30),
}
BACKGROUNDS = {
    "white": (240, 240, 240),
    "black": (15, 15, 15),
    "gray": (128, 128, 128),
}
SHAPES = ("circle", "square", "triangle")
# Slot centers as fractions of the image side; sizes as a fraction too.
SLOTS = {
    "center": (0.5, 0.5),
    "left": (0.27, 0.5),
    "right": (0.73, 0.5),
    "top": (0.5, 0.27),
    "bottom": (0.5, 0.73),
}
OBJECT_SIZE = 0.36  # bounding-box side / image side
# Two objects: the first in the first slot of the pair, the relation word.
RELATIONS = {
    ("left", "right"): "left of",
    ("right", "left"): "right of",
    ("top", "bottom"): "above",
    ("bottom", "top"): "below",
}


@dataclasses.dataclass(frozen=True)
class Obj:
    shape: str
    color: str
    slot: str


@dataclasses.dataclass(frozen=True)
class Scene:
    background: str
    objects: tuple[Obj, ...]


def random_scene(rng: random.Random, count: int | None = None) -> Scene:
    """One or two objects of different (shape, color) on a background no
    object shares its color with."""
    count = count or rng.choice((1, 2))
    background = rng.choice(sorted(BACKGROUNDS))
    slots = ("center",) if count == 1 else rng.choice(sorted(RELATIONS))
    objects, used = [], set()
    for slot in slots:
        while True:
            obj = Obj(rng.choice(SHAPES), rng.choice(sorted(COLORS)), slot)
            if (obj.shape, obj.color) not in used and obj.color not in {
                o.color for o in objects
            }:
                break
        used.add((obj.shape, obj.color))
        objects.append(obj)
    return Scene(background, tuple(objects))


def caption(scene: Scene) -> str:
    """"a red circle on a white background", "a red circle left of a blue
    square on a black background"."""
    names = [f"{o.color} {o.shape}" for o in scene.objects]
    if len(names) == 1:
        body = f"a {names[0]}"
    else:
        relation = RELATIONS[(scene.objects[0].slot, scene.objects[1].slot)]
        body = f"a {names[0]} {relation} a {names[1]}"
    return f"{body} on a {scene.background} background"


def parse_caption(text: str) -> Scene:
    """The scene a caption describes (the inverse of caption)."""
    words = text.strip().split()
    if words[-1] != "background" or words[-3:-2] != ["a"] or words[-4] != "on":
        raise ValueError(f"not a scene caption: {text!r}")
    background = words[-2]
    body = words[:-4]
    if len(body) == 3:
        return Scene(background, (Obj(body[2], body[1], "center"),))
    relation = " ".join(body[3:-3])
    pair = next(p for p, r in RELATIONS.items() if r == relation)
    first = Obj(body[2], body[1], pair[0])
    second = Obj(body[-1], body[-2], pair[1])
    return Scene(background, (first, second))


def render(scene: Scene, size: int = 64) -> np.ndarray:
    """The scene as an RGB uint8 array [size, size, 3]."""
    image = Image.new("RGB", (size, size), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(image)
    half = OBJECT_SIZE * size / 2
    for obj in scene.objects:
        cx, cy = (v * size for v in SLOTS[obj.slot])
        box = (cx - half, cy - half, cx + half, cy + half)
        fill = COLORS[obj.color]
        if obj.shape == "circle":
            draw.ellipse(box, fill=fill)
        elif obj.shape == "square":
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon([(cx, cy - half), (cx + half, cy + half),
                          (cx - half, cy + half)], fill=fill)
    return np.asarray(image)


# --- edits and compositions ---------------------------------------------

def random_edit(rng: random.Random, scene: Scene) -> tuple[str, Scene]:
    """An instruction and the scene it makes of `scene`: recolor an object
    ("make the circle green", "make the red circle green" when there are
    two circles) or, with one object, add a second ("add a
    yellow triangle right of it")."""
    if len(scene.objects) == 1 and rng.random() < 0.5:
        obj = scene.objects[0]
        pair = rng.choice(sorted(RELATIONS))
        taken = {obj.color}
        color = rng.choice(sorted(set(COLORS) - taken))
        shape = rng.choice(SHAPES)
        moved = Obj(obj.shape, obj.color, pair[1])
        added = Obj(shape, color, pair[0])
        relation = RELATIONS[pair]
        return (f"add a {color} {shape} {relation} the {obj.shape}",
                Scene(scene.background, (added, moved)))
    return recolor(rng, scene, rng.randrange(len(scene.objects)))


def recolor(rng: random.Random, scene: Scene, index: int) -> tuple[str, Scene]:
    """"make the circle green": object `index` in a color no object has."""
    obj = scene.objects[index]
    taken = {o.color for o in scene.objects}
    color = rng.choice(sorted(set(COLORS) - taken))
    objects = list(scene.objects)
    objects[index] = Obj(obj.shape, color, obj.slot)
    return f"make the {object_name(scene, obj)} {color}", Scene(
        scene.background, tuple(objects))


def object_name(scene: Scene, obj: Obj) -> str:
    """"circle", or "red circle" when the scene has two circles: an edit
    must name one object (scenes never repeat a color)."""
    same = sum(o.shape == obj.shape for o in scene.objects)
    return obj.shape if same == 1 else f"{obj.color} {obj.shape}"


def random_composition(rng: random.Random) -> tuple[str, Scene, Scene, Scene]:
    """Two one-object reference scenes and the instruction that puts both
    objects into one scene on the first one's background."""
    first = random_scene(rng, 1)
    while True:
        second = random_scene(rng, 1)
        a, b = first.objects[0], second.objects[0]
        if a.color != b.color and b.color != first.background:
            break
    pair = rng.choice(sorted(RELATIONS))
    relation = RELATIONS[pair]
    text = (f"the {a.shape} from the first image {relation} the {b.shape} "
            f"from the second image")
    target = Scene(first.background,
                   (Obj(a.shape, a.color, pair[0]), Obj(b.shape, b.color, pair[1])))
    return text, first, second, target
