"""Sanity checks on the tokenizers and on the computed cases."""

from __future__ import annotations

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from .cases_text import PROMPT_OOV, PROMPT_SHORT, T5_CASES
from .common import CASES_DIR, CLIP_VOCAB, MODEL_DIR


def check_nondegenerate(results) -> None:
    print("\nOutput magnitudes (max |x|, std):")
    for comp, cases in results.items():
        for name, (tensors, _) in cases.items():
            for k, v in tensors.items():
                if not k.startswith("out."):
                    continue
                vf = v.float()
                assert torch.isfinite(vf).all(), f"{comp}/{name}:{k} has NaN/Inf"
                mx = vf.abs().max().item()
                sd = vf.std().item() if vf.numel() > 1 else 0.0
                print(f"  {comp:15s} {name:30s} {k:24s} {str(list(v.shape)):16s} max={mx:.5g} std={sd:.5g}")
                assert mx > 1e-3, f"{comp}/{name}:{k} is (near) all zero"
                if vf.numel() > 8 and k not in ("out.timesteps", "out.sigmas"):
                    assert sd > 1e-4, f"{comp}/{name}:{k} is (near) constant"


def compare(a, b, label: str, tol: float = 1e-5) -> float:
    """Max abs difference must stay below tol * (1 + max|reference|). Bitwise equality
    is not expected: identical weights held in differently allocated/aligned buffers
    can make CPU GEMM kernels round differently (~1e-7 relative per op)."""
    worst = 0.0
    for comp, cases in a.items():
        for name, (tensors, _) in cases.items():
            other = b[comp][name][0]
            assert tensors.keys() == other.keys(), (comp, name)
            for k, v in tensors.items():
                w = other[k]
                assert v.shape == w.shape and v.dtype == w.dtype, (label, comp, name, k)
                d = (v.double() - w.double()).abs().max().item() if v.numel() else 0.0
                worst = max(worst, d)
                allowed = tol * (1.0 + v.double().abs().max().item())
                assert d <= allowed, f"{label}: {comp}/{name}:{k} differs by {d} > {allowed}"
    print(f"{label}: max abs diff {worst:g} (allowed {tol:g} * (1 + max|ref|))")
    return worst


def check_tokenizers(comp) -> None:
    clip, t5 = comp["tokenizer"], comp["tokenizer_2"]
    print("\nTokenizer sanity:")
    for p in [PROMPT_SHORT, PROMPT_OOV]:
        ids = clip(p).input_ids
        dec = clip.decode(ids, skip_special_tokens=True)
        print(f"  CLIP {p!r} -> {ids} -> {dec!r}")
        assert ids[0] == clip.bos_token_id == CLIP_VOCAB - 2 and ids[-1] == clip.eos_token_id == CLIP_VOCAB - 1
        assert dec.replace(" ", "") == p.lower().replace(" ", ""), dec
        ids2 = t5(p).input_ids
        dec2 = t5.decode(ids2, skip_special_tokens=True)
        print(f"  T5   {p!r} -> {ids2} -> {dec2!r}")
        assert ids2[-1] == 1 and t5.pad_token_id == 0 and t5.unk_token_id == 2
    # The short prompt is all in-vocabulary words: BPE should use merged tokens.
    assert len(clip(PROMPT_SHORT).input_ids) < len(PROMPT_SHORT) * 2 // 3
    # The slow sentencepiece path must agree with the tokenizer transformers loads.
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(MODEL_DIR / "tokenizer_2" / "spiece.model"))
    for s in T5_CASES:
        assert sp.encode(s["prompt"]) + [1] == t5(s["prompt"]).input_ids, s["prompt"]



def check_roundtrip(results) -> None:
    """The written case files load back with the same tensors and metadata."""
    for comp_name, cases in results.items():
        for name, (tensors, meta) in cases.items():
            path = CASES_DIR / comp_name / f"{name}.safetensors"
            back = load_file(str(path))
            with safe_open(str(path), "pt") as f:
                assert f.metadata() == {k: str(v) for k, v in meta.items()} | {
                    "component": comp_name, "case": name}
            assert back.keys() == tensors.keys()
            for k in tensors:
                assert torch.equal(back[k], tensors[k]), (comp_name, name, k)
