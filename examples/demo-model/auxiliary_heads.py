"""Training-only heads of the demo model (issue 15, session 11): their
losses teach the text encoder and the transformer to bind attributes to
objects, and they are not saved with the model (train.py).

Why they exist: run 6 drew two-object scenes with the right colors and
shapes on the wrong objects; a linear probe (probe_binding.py) showed that
its T5 did not put an object's place into the object's words, and run 7
(with the role head) still recolored the wrong object of a two-object
source (5 of 50) because nothing told it which source tokens "the square"
means.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import scenes
from roles import word_roles


def model_width(model) -> int:
    return model.config.num_attention_heads * model.config.attention_head_dim


class ImageStates:
    """Keeps the image-token states a transformer block outputs in the last
    forward pass (both FLUX block kinds return (text, image); the image
    states are the target's tokens, then each reference's)."""

    def __init__(self, block):
        self.hidden = None
        block.register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        self.hidden = output[1]


class RoleHead(torch.nn.Module):
    """Predicts each T5 token's word role (roles.py: place, shape, color,
    reference image of the object its word belongs to) from the encoder's
    output. Training only: the head is not saved, its loss makes the T5
    write the binding into every word of an object's phrase. One piece per
    word (t5_vocabulary), so token i is word i."""

    FIELDS = (("slot", list(scenes.SLOTS)), ("shape", list(scenes.SHAPES)),
              ("color", sorted(scenes.COLORS)), ("reference", [1, 2]))

    def __init__(self, width: int, text_tokens: int):
        super().__init__()
        self.linear = torch.nn.Linear(width, sum(len(v) for _, v in self.FIELDS))
        self.text_tokens = text_tokens
        self.labels: dict[str, torch.Tensor] = {}

    def _labels(self, prompt: str) -> torch.Tensor:
        """[text_tokens, fields] class indices, -100 where no role."""
        if prompt not in self.labels:
            table = torch.full((self.text_tokens, len(self.FIELDS)), -100)
            for i, role in enumerate(word_roles(prompt)):
                for f, (name, values) in enumerate(self.FIELDS):
                    value = None if role is None else getattr(role, name)
                    if value is not None:
                        table[i, f] = values.index(value)
            self.labels[prompt] = table
        return self.labels[prompt]

    def forward(self, seq: torch.Tensor, prompts: list[str]):
        """(mean cross entropy over the fields, share of the place labels
        predicted right)."""
        labels = torch.stack([self._labels(p) for p in prompts])
        logits = self.linear(seq).split([len(v) for _, v in self.FIELDS], -1)
        # Fields no prompt of the batch says (a text-to-image batch has no
        # reference images) are left out: their cross entropy is 0 / 0.
        losses = [F.cross_entropy(l.flatten(0, 1), labels[..., f].flatten(),
                                  ignore_index=-100)
                  for f, l in enumerate(logits) if (labels[..., f] >= 0).any()]
        loss = sum(losses) / max(1, len(losses)) + 0 * seq.sum()
        known = labels[..., 0] >= 0
        right = (logits[0].argmax(-1) == labels[..., 0])[known].float()
        return loss, right.mean().item() if known.any() else 0.0


class FocusHead(torch.nn.Module):
    """Predicts, from the source image's tokens after the transformer's
    first single-stream block, which of them show the object a recolor
    instruction names. Training only (not saved). Why: run 7 recolored the
    named object of a two-object source 5 times in 50 (it recolored both,
    or the other one); "make the square red" does not say where the square
    is, so the word roles cannot, and the flow loss alone did not teach the
    transformer to find it in 4400 steps."""

    def __init__(self, model, image_tokens: int):
        super().__init__()
        self.image_tokens = image_tokens
        self.linear = torch.nn.Linear(model_width(model), 1)
        self.tap = ImageStates(model.single_transformer_blocks[0])

    def forward(self, masks: list) -> torch.Tensor:
        """Binary cross entropy over the examples with a mask ([image_tokens]
        per example, None for the others) of the last forward pass."""
        rows = [i for i, m in enumerate(masks) if m is not None]
        if not rows:
            return self.tap.hidden.sum() * 0
        source = self.tap.hidden[rows, self.image_tokens:2 * self.image_tokens]
        return F.binary_cross_entropy_with_logits(
            self.linear(source).squeeze(-1), torch.stack([masks[i] for i in rows]))


class ImageRoleHead(torch.nn.Module):
    """Predicts, for every image token after `block`, the shape, color and
    place of the object the token shows. Training only (not saved). Two of
    them train (train.py): one on the reference images' tokens (an edit's
    source, a composition's references) after the last double-stream block,
    one on the target's tokens after the second single-stream block.

    Why (session 12): run 8 recolored the named object of a two-object
    source 11 times in 50, and its failures redraw the scene rather than
    copy it: "make the square yellow" on a red triangle above a green
    square gave a yellow square above a green circle. The source's objects
    were not bound to their shapes token by token, as the text's words were
    not before the role head (run 6 -> 7: compositions 11 -> 98 %). With the
    source head alone (run 9: 14 of 50) the named object came out right
    more often, but the other one took the named object's old or new
    color: the target's tokens must also say, early, which object they
    draw, which the flow loss at high noise says only faintly."""

    FIELDS = RoleHead.FIELDS[:3]

    def __init__(self, model, block, image_tokens: int, size: int, grid: int):
        super().__init__()
        self.image_tokens, self.size, self.grid = image_tokens, size, grid
        self.linear = torch.nn.Linear(model_width(model),
                                      sum(len(v) for _, v in self.FIELDS))
        self.tap = ImageStates(block)
        self.labels: dict[scenes.Scene | None, torch.Tensor] = {
            None: torch.full((image_tokens, len(self.FIELDS)), -100)}

    def _labels(self, scene: scenes.Scene | None) -> torch.Tensor:
        """[image_tokens, fields] class indices, -100 on the background (and
        everywhere for None)."""
        if scene not in self.labels:
            table = torch.full((self.image_tokens, len(self.FIELDS)), -100)
            for index, obj in enumerate(scene.objects):
                on = object_cells(scene, index, self.size, self.grid) > 0
                for f, (name, values) in enumerate(self.FIELDS):
                    table[on, f] = values.index(getattr(obj, name))
            self.labels[scene] = table
        return self.labels[scene]

    def forward(self, segments: list) -> torch.Tensor:
        """Mean cross entropy over the fields and the tokens of the last
        forward pass. segments[i]: the scene each batch row's image i shows
        (0 the target, then the references), None for an image or a row
        to leave out."""
        used = [(i, seg) for i, seg in enumerate(segments) if seg is not None]
        if not used:  # a text-to-image batch has no references
            return self.tap.hidden.sum() * 0
        t = self.image_tokens
        states = torch.cat([self.tap.hidden[:, i * t:(i + 1) * t] for i, _ in used], 1)
        labels = torch.cat([torch.stack([self._labels(s) for s in seg])
                            for _, seg in used], 1)
        logits = self.linear(states).split([len(v) for _, v in self.FIELDS], -1)
        losses = [F.cross_entropy(l.flatten(0, 1), labels[..., f].flatten(),
                                  ignore_index=-100)
                  for f, l in enumerate(logits) if (labels[..., f] >= 0).any()]
        return sum(losses) / max(1, len(losses)) + 0 * self.tap.hidden.sum()


def object_cells(scene: scenes.Scene, index: int, size: int, grid: int) -> torch.Tensor:
    """[grid * grid]: 1 for the packed tokens whose pixels are at least 40 %
    the scene's object `index` in a size x size render (grid tokens a side:
    8x8 pixels each for the demo)."""
    alone = scenes.Scene(scene.background, (scene.objects[index],))
    background = np.array(scenes.BACKGROUNDS[scene.background])
    on = (scenes.render(alone, size) != background).any(-1).astype(np.float32)
    cell = size // grid
    cover = on.reshape(grid, cell, grid, cell).mean((1, 3))
    return torch.from_numpy((cover >= 0.4).astype(np.float32)).flatten()


def recolored_cells(source: scenes.Scene, target: scenes.Scene, size: int, grid: int):
    """object_cells of the object a recolor changed; None for an edit that
    adds an object."""
    if len(source.objects) != len(target.objects):
        return None
    index = next(i for i, (a, b) in enumerate(zip(source.objects, target.objects))
                 if a != b)
    return object_cells(source, index, size, grid)
