#!/usr/bin/env python3
"""Reference token ids for Kiln's tokenizers (runtime/text/).

Tokenizes every prompt of tokenizer_prompts.json with the tokenizers of the
tiny checkpoint exactly as diffusers' FluxPipeline does, and writes
cases/tokenizers/ids.json:

    ~/.venvs/kiln-ref/bin/python test/goldens/make_tokenizer_goldens.py

- CLIP (`tokenizer/`): `tokenizer(prompt, padding="max_length",
  max_length=77, truncation=True)`, as in `_get_clip_prompt_embeds`.
- T5 (`tokenizer_2/`): `tokenizer_2(prompt, padding="max_length",
  max_length=L, truncation=True)` (special tokens added, the default), as in
  `_get_t5_prompt_embeds`, for L = 512 (the pipeline's default
  max_sequence_length) and L = 77 (more prompts truncated).

The tokenizers are the ones FluxPipeline.from_pretrained loads, i.e. the
classes model_index.json names. To keep the file small, each id list is
stored without its trailing padding; the header gives the pad id and the
length to pad to, and this script checks that what it strips is padding
only. The output is deterministic (no randomness, sorted keys).

Cross-checks, printed as a report (they do not change the goldens):
- CLIPTokenizer against CLIPTokenizerFast (in transformers 5 both names are
  one tokenizers-backed class);
- the T5 tokenizer against the `sentencepiece` library on spiece.model plus
  eos, which is what Kiln's T5Tokenizer builds on.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import diffusers  # noqa: E402
import sentencepiece  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402

GOLDENS = Path(__file__).resolve().parent
MODEL = GOLDENS / "tiny-flux"
PROMPTS = GOLDENS / "tokenizer_prompts.json"
OUT = GOLDENS / "cases" / "tokenizers" / "ids.json"
CLIP_MAX_LENGTH = 77
T5_MAX_LENGTHS = (512, 77)


def load_pipeline_tokenizers():
    """The tokenizers as FluxPipeline loads them (the classes of
    model_index.json), without the models."""
    pipe = diffusers.FluxPipeline.from_pretrained(
        MODEL, transformer=None, vae=None, text_encoder=None, text_encoder_2=None)
    index = json.loads((MODEL / "model_index.json").read_text())
    for name in ("tokenizer", "tokenizer_2"):
        expected = index[name][1]
        got = type(getattr(pipe, name)).__name__
        assert got == expected, f"{name}: pipeline loaded {got}, model_index.json names {expected}"
    return pipe.tokenizer, pipe.tokenizer_2


def strip_padding(ids: list[int], mask: list[int], pad_id: int, max_length: int) -> list[int]:
    assert len(ids) == max_length == len(mask)
    n = sum(mask)
    assert mask == [1] * n + [0] * (max_length - n), "padding is not at the end"
    assert ids[n:] == [pad_id] * (max_length - n), "padding holds other ids"
    return ids[:n]


def encode(tok, prompt: str, max_length: int) -> list[int]:
    enc = tok(prompt, padding="max_length", max_length=max_length, truncation=True)
    return strip_padding(enc["input_ids"], enc["attention_mask"], tok.pad_token_id, max_length)


def check_clip_classes(clip, prompts: list[str]) -> None:
    slow = transformers.CLIPTokenizer.from_pretrained(MODEL / "tokenizer")
    fast = transformers.CLIPTokenizerFast.from_pretrained(MODEL / "tokenizer")
    same_class = type(slow) is type(fast)
    print(f"CLIPTokenizer is {type(slow).__module__}.{type(slow).__name__}; "
          f"CLIPTokenizerFast is {'the same class' if same_class else type(fast).__name__}")
    disagree = [p for p in prompts
                if not (encode(slow, p, CLIP_MAX_LENGTH) == encode(fast, p, CLIP_MAX_LENGTH)
                        == encode(clip, p, CLIP_MAX_LENGTH))]
    print(f"CLIPTokenizer vs CLIPTokenizerFast vs pipeline: {len(disagree)} prompts disagree")
    for p in disagree:
        print(f"  {p!r}")


def check_t5_sentencepiece(t5, prompts: list[str]) -> None:
    sp = sentencepiece.SentencePieceProcessor(model_file=str(MODEL / "tokenizer_2" / "spiece.model"))
    disagree = [p for p in prompts if sp.encode(p) + [sp.eos_id()] != t5(p)["input_ids"]]
    print(f"T5 ({type(t5).__name__}) vs sentencepiece + eos: {len(disagree)} prompts disagree "
          "(Kiln's T5Tokenizer handles these, see t5_tokenizer.h)")
    for p in disagree:
        print(f"  {p!r}: {t5(p)['input_ids']} vs {sp.encode(p) + [sp.eos_id()]}")


def main() -> int:
    prompts = json.loads(PROMPTS.read_text(encoding="utf-8"))
    assert isinstance(prompts, list) and all(isinstance(p, str) for p in prompts)
    assert len(set(prompts)) == len(prompts), "repeated prompt"
    clip, t5 = load_pipeline_tokenizers()
    assert clip.model_max_length == CLIP_MAX_LENGTH  # FluxPipeline.tokenizer_max_length

    cases = []
    for prompt in prompts:
        case = {"prompt": prompt, "clip": encode(clip, prompt, CLIP_MAX_LENGTH)}
        for length in T5_MAX_LENGTHS:
            case[f"t5_{length}"] = encode(t5, prompt, length)
        cases.append(case)

    out = {
        "generator": "test/goldens/make_tokenizer_goldens.py",
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "diffusers": diffusers.__version__, "sentencepiece": sentencepiece.__version__},
        "clip": {"tokenizer": "tiny-flux/tokenizer", "class": type(clip).__name__,
                 "max_length": CLIP_MAX_LENGTH, "pad_id": clip.pad_token_id},
        "t5": {"tokenizer": "tiny-flux/tokenizer_2", "class": type(t5).__name__,
               "max_lengths": list(T5_MAX_LENGTHS), "pad_id": t5.pad_token_id},
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # One case per line: readable diffs, ASCII only (prompts escaped).
    lines = [json.dumps({k: v for k, v in out.items() if k != "cases"}, sort_keys=True)[:-1] + ', "cases": [']
    lines += [json.dumps(c, sort_keys=True) + ("," if i + 1 < len(cases) else "") for i, c in enumerate(cases)]
    lines += ["]}"]
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == out
    OUT.write_text(text, encoding="ascii")

    n_clip_trunc = sum(len(c["clip"]) == CLIP_MAX_LENGTH for c in cases)
    n_t5_trunc = {L: sum(len(c[f"t5_{L}"]) == L for c in cases) for L in T5_MAX_LENGTHS}
    print(f"{OUT.relative_to(GOLDENS.parent.parent)}: {len(cases)} prompts; "
          f"full length (truncated or exactly fitting): CLIP {n_clip_trunc}, "
          + ", ".join(f"T5@{L} {n}" for L, n in n_t5_trunc.items()))
    check_clip_classes(clip, prompts)
    check_t5_sentencepiece(t5, prompts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
