"""`text_encoder/` (CLIP) and `text_encoder_2/` (T5) cases, and the prompts they use."""

from __future__ import annotations

import json

import torch

PROMPT_SHORT = "a red fox sleeping in autumn leaves"
PROMPT_LONG = ("Watercolor painting of a lighthouse on a rocky coast during a storm, "
               "dramatic lighting, highly detailed")
PROMPT_EDIT = "Make the cat wear sunglasses and change the sky to orange"
PROMPT_OOV = "A zebra-striped QUOKKA café, 42 jellybeans & pixel-art!"
PROMPT_HUGE = ", ".join(
    ["a cozy cabin in a snowy pine forest at dusk", "warm light in the windows",
     "a golden retriever puppy playing in the surf at sunset", "oil painting",
     "highly detailed", "volumetric light", "a hot air balloon above rice terraces in the morning mist",
     "cinematic still", "35mm film photo", "shallow depth of field", "a steam locomotive crossing a stone bridge"]
)

# name, prompt, padding (None: no padding; N: padding="max_length", max_length=N)
UNPADDED_CASES = [
    dict(name="short", prompt=PROMPT_SHORT, pad=None),
    dict(name="long", prompt=PROMPT_LONG, pad=None),
    dict(name="oov", prompt=PROMPT_OOV, pad=None),
]
CLIP_CASES = UNPADDED_CASES + [
    dict(name="pad77", prompt=PROMPT_EDIT, pad=77),
    dict(name="truncate77", prompt=PROMPT_HUGE, pad=77),
]
T5_CASES = UNPADDED_CASES + [
    dict(name="pad32", prompt=PROMPT_EDIT, pad=32),
]


def tokenize(tok, spec: dict) -> torch.Tensor:
    """input_ids [1, L] for a case's prompt. With `pad`, exactly as
    FluxPipeline._get_clip_prompt_embeds / _get_t5_prompt_embeds (for T5,
    max_sequence_length = pad)."""
    if spec["pad"]:
        ids = tok(spec["prompt"], padding="max_length", max_length=spec["pad"], truncation=True,
                  return_overflowing_tokens=False, return_length=False, return_tensors="pt").input_ids
    else:
        ids = tok(spec["prompt"], return_tensors="pt").input_ids
    return ids.to(torch.int64)


def text_meta(tok, spec: dict, ids: torch.Tensor, **extra: str) -> dict[str, str]:
    return {"prompt": spec["prompt"], "padding": f"max_length={spec['pad']}" if spec["pad"] else "none",
            **extra, "tokens": json.dumps(tok.convert_ids_to_tokens(ids[0].tolist()), ensure_ascii=False)}


def clip_case(model, tok, spec: dict, k: int):
    ids = tokenize(tok, spec)
    with torch.no_grad():
        o = model(ids, output_hidden_states=False)  # no attention_mask, as in the pipeline
    # pooler_output is last_hidden_state (after final_layer_norm) at the first <|endoftext|>.
    eos_pos = int((ids[0] == tok.eos_token_id).nonzero()[0, 0])
    assert torch.equal(o.pooler_output[0], o.last_hidden_state[0, eos_pos])
    tensors = {
        "in.input_ids": ids,
        "out.last_hidden_state": o.last_hidden_state,
        "out.pooler_output": o.pooler_output,
    }
    return tensors, text_meta(tok, spec, ids, pooled_position=str(eos_pos))


def t5_case(model, tok, spec: dict, k: int):
    ids = tokenize(tok, spec)
    with torch.no_grad():
        o = model(ids, output_hidden_states=False)  # no attention_mask, as in the pipeline
    tensors = {"in.input_ids": ids, "out.last_hidden_state": o.last_hidden_state}
    return tensors, text_meta(tok, spec, ids)
