"""What each word of a demo prompt refers to (issue 15, session 11).

Why: after run 6 a linear probe on the trained T5's outputs told the place
of a two-object caption's object from its color or shape word only 49 %
of the time (chance 25 %, the axis alone 50 %): the encoder said "red",
"circle", "left of", but not that the red circle is the left one, and the
transformer, whose text tokens carry no position (FLUX's txt_ids are
zeros), cannot bind them back. train.py adds a small head on the T5 outputs
that must predict, for every word of an object's phrase, that object's
place, shape, color and reference image: the T5 then writes the binding
into each word, where the image tokens can read it.

A role's field is None where the prompt does not say it ("make the circle
green" does not say where the circle is; a composition does not say the
objects' colors). Words outside any object's phrase (the relation, the
background, "make") have no role.
"""
from __future__ import annotations

import dataclasses

import scenes


@dataclasses.dataclass(frozen=True)
class Role:
    slot: str | None
    shape: str | None
    color: str | None
    reference: int | None  # 1 or 2: the composition's reference image


def _relation(words: list[str], start: int) -> tuple[tuple[str, str], int]:
    """The slot pair of the relation that begins at words[start], and the
    number of words it spans."""
    for pair, text in scenes.RELATIONS.items():
        span = text.split()
        if words[start:start + len(span)] == span:
            return pair, len(span)
    raise ValueError(f"no relation at word {start} of {' '.join(words)!r}")


def word_roles(prompt: str) -> list[Role | None]:
    """One entry per word of `prompt` (a caption, edit or composition
    instruction of scenes.py; "" gives [])."""
    words = prompt.split()
    if not words:
        return []
    roles: list[Role | None] = [None] * len(words)
    if words[0] == "make":  # make the [old color] SHAPE COLOR
        role = Role(None, words[-2], words[-1], None)
        roles[1:] = [role] * (len(words) - 1)
    elif words[0] == "add":  # add a COLOR SHAPE RELATION the SHAPE
        pair, span = _relation(words, 4)
        roles[1:4] = [Role(pair[0], words[3], words[2], None)] * 3
        roles[4 + span:] = [Role(pair[1], words[-1], None, None)] * 2
    elif words[0] == "the":  # the S from the first image REL the S from ...
        pair, span = _relation(words, 6)
        roles[:6] = [Role(pair[0], words[1], None, 1)] * 6
        roles[6 + span:] = [Role(pair[1], words[7 + span], None, 2)] * 6
    else:
        scene = scenes.parse_caption(prompt)
        body = len(words) - 4  # "on a BG background" has no role
        first, last = scene.objects[0], scene.objects[-1]
        roles[:3] = [Role(first.slot, first.shape, first.color, None)] * 3
        if len(scene.objects) == 2:
            roles[body - 3:body] = [Role(last.slot, last.shape, last.color, None)] * 3
    return roles
