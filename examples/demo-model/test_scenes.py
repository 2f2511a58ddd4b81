"""Checks the demo model's data and scorer (issue 15) without any model:
captions parse back to their scenes; the scorer accepts every rendered
scene against its own caption (also blurred and noised as a generator's
picture would be) and rejects it against a changed one (another color,
shape, relation or background); edits and compositions describe scenes the
scorer reads back. Exit status 0 when all hold; prints the rates.
"""
import random
import sys

import numpy as np

import scenes
from roles import word_roles
from score import accuracy, matches


def degrade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 3x3 box blur and Gaussian noise (sigma 8/255 of the range)."""
    x = image.astype(np.float32)
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
    blurred = sum(padded[dy:dy + x.shape[0], dx:dx + x.shape[1]]
                  for dy in range(3) for dx in range(3)) / 9
    noisy = blurred + rng.normal(0, 8, blurred.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def mutate(rng: random.Random, scene: scenes.Scene) -> scenes.Scene:
    """A different scene: one object's color or shape, the relation, or the
    background changed."""
    objects = list(scene.objects)
    kind = rng.choice(["color", "shape", "background"] +
                      (["relation"] if len(objects) == 2 else []))
    if kind == "background":
        other = sorted(set(scenes.BACKGROUNDS) - {scene.background})
        return scenes.Scene(rng.choice(other), scene.objects)
    if kind == "relation":
        a, b = objects
        return scenes.Scene(scene.background, (
            scenes.Obj(a.shape, a.color, b.slot), scenes.Obj(b.shape, b.color, a.slot)))
    i = rng.randrange(len(objects))
    o = objects[i]
    if kind == "color":
        used = {x.color for x in objects}
        objects[i] = scenes.Obj(o.shape, rng.choice(sorted(set(scenes.COLORS) - used)), o.slot)
    else:
        others = {x.shape for x in objects if x.color == o.color} | {o.shape}
        objects[i] = scenes.Obj(rng.choice(sorted(set(scenes.SHAPES) - others)), o.color, o.slot)
    return scenes.Scene(scene.background, tuple(objects))


def roles_agree(text: str, target: scenes.Scene, refs=()) -> bool:
    """Every word role of `text` (roles.py) names an object of `target` (its
    place, shape and color where given, and the reference image it comes
    from), and a caption's roles name all of its objects."""
    roles = [r for r in word_roles(text) if r is not None]

    def fits(r, o):
        return ((r.slot is None or r.slot == o.slot) and r.shape == o.shape and
                (r.color is None or r.color == o.color) and
                (r.reference is None or refs[r.reference - 1].objects[0].color == o.color))
    named = {o for o in target.objects for r in roles if fits(r, o)}
    return bool(roles) and all(any(fits(r, o) for o in target.objects) for r in roles) and bool(
        refs or text.startswith(("make", "add")) or named == set(target.objects))


def main() -> int:
    rng = random.Random(1234)
    nrng = np.random.default_rng(1234)
    samples = [scenes.random_scene(rng) for _ in range(300)]
    failures = []
    parsed = sum(scenes.parse_caption(scenes.caption(s)) == s for s in samples)
    if parsed != len(samples):
        failures.append(f"captions parsed back: {parsed}/{len(samples)}")
    for size in (64, 128):
        clean = accuracy((scenes.render(s, size), s) for s in samples)
        noisy = accuracy((degrade(scenes.render(s, size), nrng), s) for s in samples)
        wrong = accuracy((scenes.render(s, size), mutate(rng, s)) for s in samples)
        print(f"{size}x{size}: own caption {clean:.3f} clean, {noisy:.3f} "
              f"blurred+noised; changed caption accepted {wrong:.3f}")
        if clean < 1.0 or noisy < 0.99 or wrong > 0.0:
            failures.append(f"scorer at {size}: {clean} {noisy} {wrong}")
    roles = sum(roles_agree(scenes.caption(s), s) for s in samples)
    edits = ambiguous = 0
    for s in samples[:100]:
        text, target = scenes.random_edit(rng, s)
        roles += roles_agree(text, target)
        edits += matches(scenes.render(target), target) and not matches(
            scenes.render(s), target)
        if text.startswith("make the "):
            named = text.split()[2:-1]  # ["circle"] or ["red", "circle"]
            ambiguous += sum(o.shape == named[-1] and (len(named) == 1 or o.color == named[0])
                             for o in s.objects) != 1
    comps = 0
    for _ in range(100):
        text, first, second, target = scenes.random_composition(rng)
        comps += matches(scenes.render(target), target)
        roles += roles_agree(text, target, (first, second))
    print(f"edits read back and unlike their source: {edits}/100 "
          f"({ambiguous} naming no or several objects); "
          f"compositions read back: {comps}/100")
    print(f"prompts whose word roles name their objects: {roles}/500")
    if edits != 100 or comps != 100 or ambiguous:
        failures.append(f"edits {edits} ({ambiguous} ambiguous), compositions {comps}")
    if roles != 500:
        failures.append(f"word roles: {roles}/500")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
