#!/usr/bin/env python3
"""Generate Kiln's reference ("golden") data: a tiny FLUX-family checkpoint in the
diffusers directory layout plus input/output tensors computed by the reference
libraries (diffusers, transformers).

Run with the pinned reference environment (see README.md in this folder):

    ~/.venvs/kiln-ref/bin/python test/goldens/make_goldens.py

Everything is derived from fixed seeds and the committed corpus.txt; nothing is
downloaded. Outputs (all under this folder):

    tiny-flux/                     FluxPipeline.save_pretrained layout
    cases/<component>/<case>.safetensors
    cases/manifest.json            machine-readable list of every case tensor
    versions.json                  library versions that produced the data

CI never runs this script; it only consumes its committed outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

# Offline, quiet, deterministic.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from safetensors import safe_open  # noqa: E402

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.txt"
MODEL_DIR = HERE / "tiny-flux"
CASES_DIR = HERE / "cases"

# ----------------------------------------------------------------------------
# Tiny architecture hyper-parameters (kept in one place; README mirrors them).
# ----------------------------------------------------------------------------
CLIP_VOCAB = 1000          # 256 bytes + 256 bytes</w> + 486 merges + 2 specials
T5_VOCAB = 400             # sentencepiece unigram; corpus supports at most ~486
LATENT_CHANNELS = 16
PATCH = 2                  # FLUX packs 2x2 latent patches -> 16*4 = 64 channels
VAE_SHIFT = 0.1159
VAE_SCALE = 0.3611
VAE_BLOCKS = (8, 16, 16)   # 3 blocks -> spatial factor 2**(3-1) = 4
HIDDEN_TXT = 32            # CLIP hidden size == pooled_projection_dim
T5_DMODEL = 32             # == joint_attention_dim

SEED_BASE = 20240601


def seed(offset: int) -> None:
    torch.manual_seed(SEED_BASE + offset)
    np.random.seed((SEED_BASE + offset) % (2**32))


def gen(offset: int) -> torch.Generator:
    g = torch.Generator(device="cpu")
    g.manual_seed(SEED_BASE + 1000 + offset)
    return g


# ----------------------------------------------------------------------------
# Tokenizers
# ----------------------------------------------------------------------------
CLIP_SPLIT_RE = (
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """The GPT-2/CLIP byte -> printable unicode character table (same order as CLIP)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def corpus_lines() -> list[str]:
    return [l.strip() for l in CORPUS.read_text(encoding="utf-8").splitlines() if l.strip()]


def clip_pre_tokenizer():
    """The normalizer + pre-tokenizer of CLIP's tokenizer (same as transformers' CLIPTokenizer)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT_RE), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    return tok


def train_bpe_merges(words: dict[tuple[str, ...], int], n_merges: int) -> list[tuple[str, str]]:
    """Plain BPE training (Sennrich et al.): repeatedly merge the most frequent adjacent
    symbol pair. Ties are broken by the pair's lexicographic order so that the result is
    fully deterministic (the `tokenizers` BpeTrainer breaks ties by hash order, which
    changes from run to run)."""
    words = {w: c for w, c in words.items()}
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        counts: dict[tuple[str, str], int] = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + c
        if not counts:
            break
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        a, b = best
        new_words: dict[tuple[str, ...], int] = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            t = tuple(out)
            new_words[t] = new_words.get(t, 0) + c
        words = new_words
    return merges


def build_clip_tokenizer_files(out_dir: Path) -> None:
    """Train a byte-level BPE on the corpus and write vocab.json + merges.txt in
    the exact layout of openai/clip-vit-large-patch14's tokenizer:

      ids 0..255     the 256 byte characters (bytes_to_unicode order)
      ids 256..511   the same characters with the "</w>" end-of-word suffix
      ids 512..      one token per merge, in merge order
      last two ids   <|startoftext|>, <|endoftext|>
    """
    pre = clip_pre_tokenizer()
    words: dict[tuple[str, ...], int] = {}
    for line in corpus_lines():
        for word, _ in pre.pre_tokenizer.pre_tokenize_str(pre.normalizer.normalize_str(line)):
            sym = tuple(word[:-1]) + (word[-1] + "</w>",)
            words[sym] = words.get(sym, 0) + 1

    base = list(bytes_to_unicode().values())
    vocab_list = base + [b + "</w>" for b in base]
    n_merges = CLIP_VOCAB - len(vocab_list) - 2
    merges = train_bpe_merges(words, n_merges)
    assert len(merges) == n_merges, f"corpus only yields {len(merges)} merges, need {n_merges}"
    known = set(vocab_list)
    for a, b in merges:
        assert a in known and b in known, (a, b)
        assert a + b not in known, (a, b)
        vocab_list.append(a + b)
        known.add(a + b)
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab_list) == len(set(vocab_list)) == CLIP_VOCAB

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = {t: i for i, t in enumerate(vocab_list)}
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(out_dir / "merges.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


def build_t5_spiece(out_path: Path) -> None:
    """Train a SentencePiece unigram model with T5's id conventions
    (pad=0 <pad>, eos=1 </s>, unk=2 <unk>, no bos, no byte fallback, nmt_nfkc)."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_lines()),
        model_writer=buf,
        vocab_size=T5_VOCAB,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        byte_fallback=False,
        num_threads=1,
        minloglevel=2,
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(buf.getvalue())


def make_tokenizers(tmp: Path):
    from transformers import CLIPTokenizer, T5TokenizerFast

    clip_dir = tmp / "clip_tok_src"
    build_clip_tokenizer_files(clip_dir)
    # Load through the same path Kiln's users take: a folder with vocab.json + merges.txt.
    clip_tok = CLIPTokenizer.from_pretrained(str(clip_dir), model_max_length=77)
    assert len(clip_tok) == CLIP_VOCAB, len(clip_tok)

    t5_dir = tmp / "t5_tok_src"
    build_t5_spiece(t5_dir / "spiece.model")
    t5_tok = T5TokenizerFast.from_pretrained(str(t5_dir), extra_ids=0, model_max_length=512, legacy=True)
    assert len(t5_tok) == T5_VOCAB, len(t5_tok)
    return clip_tok, t5_tok, clip_dir, t5_dir


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------
def randomize_affine(model: torch.nn.Module, offset: int) -> None:
    """Give every bias and every 1-D (norm) scale a random non-trivial value.
    The libraries initialise LayerNorm/GroupNorm/T5LayerNorm scales to 1 and
    (in transformers) Linear/LayerNorm biases to 0; with those values a consumer that
    forgot to apply them would still match the goldens."""
    seed(offset)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith(".bias"):
                p.normal_(0.0, 0.05)
            elif p.ndim == 1:
                p.normal_(1.0, 0.1)


def make_models(clip_tok, t5_tok):
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    seed(1)
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=LATENT_CHANNELS * PATCH * PATCH,
        out_channels=None,
        num_layers=2,
        num_single_layers=2,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=T5_DMODEL,
        pooled_projection_dim=HIDDEN_TXT,
        guidance_embeds=True,
        axes_dims_rope=(4, 6, 6),
    )
    # diffusers builds every Linear with PyTorch's default (kaiming-uniform) init; none is
    # zero-initialised. Re-randomise everything anyway with a fixed-seed normal so the
    # goldens do not depend on torch's default-init code path and every weight
    # (incl. biases and norm scales) is exercised with a non-trivial value.
    seed(2)
    with torch.no_grad():
        for name, p in sorted(transformer.named_parameters()):
            if name.endswith(".bias"):
                p.normal_(0.0, 0.02)
            elif p.ndim == 1:  # RMSNorm / LayerNorm scales
                p.normal_(1.0, 0.1)
            else:
                p.normal_(0.0, 1.0 / np.sqrt(p.shape[1]))

    seed(3)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(VAE_BLOCKS),
        up_block_types=("UpDecoderBlock2D",) * len(VAE_BLOCKS),
        block_out_channels=VAE_BLOCKS,
        layers_per_block=1,
        act_fn="silu",
        latent_channels=LATENT_CHANNELS,
        norm_num_groups=4,
        sample_size=32,
        scaling_factor=VAE_SCALE,
        shift_factor=VAE_SHIFT,
        latents_mean=None,
        latents_std=None,
        force_upcast=True,
        use_quant_conv=False,
        use_post_quant_conv=False,
        mid_block_add_attention=True,
    )
    randomize_affine(vae, 30)

    seed(4)
    clip_cfg = CLIPTextConfig(
        vocab_size=CLIP_VOCAB,
        hidden_size=HIDDEN_TXT,
        intermediate_size=64,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        # Same ids as the real FLUX text_encoder config (openai/clip-vit-large-patch14):
        # eos_token_id == 2 selects transformers' legacy pooling rule
        # (pool at argmax(input_ids)), which equals "first <|endoftext|>" because
        # <|endoftext|> has the largest id in the vocab.
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    text_encoder = CLIPTextModel(clip_cfg)
    randomize_affine(text_encoder, 40)

    seed(5)
    t5_cfg = T5Config(
        vocab_size=T5_VOCAB,
        d_model=T5_DMODEL,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        dropout_rate=0.0,
        layer_norm_epsilon=1e-6,
        feed_forward_proj="gated-gelu",
        is_encoder_decoder=True,
        use_cache=False,
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    text_encoder_2 = T5EncoderModel(t5_cfg)
    randomize_affine(text_encoder_2, 50)

    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000,
        shift=3.0,
        use_dynamic_shifting=True,
        base_shift=0.5,
        max_shift=1.15,
        base_image_seq_len=256,
        max_image_seq_len=4096,
    )
    for m in (transformer, vae, text_encoder, text_encoder_2):
        m.to(torch.float32).eval()
    return dict(
        transformer=transformer,
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        scheduler=scheduler,
    )


def save_pipeline(models, clip_tok, t5_tok, clip_dir: Path, t5_dir: Path) -> None:
    from diffusers import FluxPipeline

    pipe = FluxPipeline(
        scheduler=models["scheduler"],
        vae=models["vae"],
        text_encoder=models["text_encoder"],
        tokenizer=clip_tok,
        text_encoder_2=models["text_encoder_2"],
        tokenizer_2=t5_tok,
        transformer=models["transformer"],
    )
    if MODEL_DIR.exists():
        shutil.rmtree(MODEL_DIR)
    pipe.save_pretrained(str(MODEL_DIR), safe_serialization=True)

    # Tokenizer files: make the on-disk layout match the real FLUX.1 checkpoints.
    #  tokenizer/   vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json
    #  tokenizer_2/ spiece.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json
    # The canonical vocab.json / merges.txt / spiece.model are the exact files built above
    # (save_pretrained of transformers v5 may re-serialise or omit them).
    tok1 = MODEL_DIR / "tokenizer"
    shutil.copyfile(clip_dir / "vocab.json", tok1 / "vocab.json")
    shutil.copyfile(clip_dir / "merges.txt", tok1 / "merges.txt")
    (tok1 / "tokenizer.json").unlink(missing_ok=True)
    tok2 = MODEL_DIR / "tokenizer_2"
    shutil.copyfile(t5_dir / "spiece.model", tok2 / "spiece.model")
    for d in (tok1, tok2):
        write_special_tokens_map(d)


def write_special_tokens_map(d: Path) -> None:
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    # Drop keys that only describe how *this* process loaded the files.
    for k in ("is_local", "local_files_only"):
        cfg.pop(k, None)
    (d / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    keys = ["bos_token", "eos_token", "unk_token", "pad_token"]
    stm = {k: cfg[k] for k in keys if cfg.get(k) is not None}
    (d / "special_tokens_map.json").write_text(json.dumps(stm, indent=2) + "\n")


def load_pipeline_components():
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel
    from transformers import CLIPTextModel, CLIPTokenizer, T5EncoderModel, T5TokenizerFast

    d = str(MODEL_DIR)
    return dict(
        transformer=FluxTransformer2DModel.from_pretrained(d, subfolder="transformer").eval(),
        vae=AutoencoderKL.from_pretrained(d, subfolder="vae").eval(),
        text_encoder=CLIPTextModel.from_pretrained(d, subfolder="text_encoder").eval(),
        text_encoder_2=T5EncoderModel.from_pretrained(d, subfolder="text_encoder_2").eval(),
        scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(d, subfolder="scheduler"),
        tokenizer=CLIPTokenizer.from_pretrained(d, subfolder="tokenizer"),
        tokenizer_2=T5TokenizerFast.from_pretrained(d, subfolder="tokenizer_2"),
    )


# ----------------------------------------------------------------------------
# Case computation
# ----------------------------------------------------------------------------
def pack_latents(latents: torch.Tensor) -> torch.Tensor:
    """diffusers FluxPipeline._pack_latents: [B,C,H,W] -> [B,(H/2)*(W/2),C*4],
    channel index c*4 + dy*2 + dx, tokens in row-major (H/2, W/2) order."""
    b, c, h, w = latents.shape
    x = latents.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack_latents(packed: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Inverse of pack_latents; h, w are the *latent* (unpacked) sizes."""
    b, s, ch = packed.shape
    c = ch // 4
    x = packed.view(b, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, h, w)


def image_ids(gh: int, gw: int, index: int) -> torch.Tensor:
    """diffusers _prepare_latent_image_ids(gh, gw) with ids[...,0] = index
    (0: target image, 1: FLUX Kontext reference, i: i-th Kiln reference)."""
    ids = torch.zeros(gh, gw, 3)
    ids[..., 0] = index
    ids[..., 1] = torch.arange(gh)[:, None].float()
    ids[..., 2] = torch.arange(gw)[None, :].float()
    return ids.reshape(gh * gw, 3)


TRANSFORMER_CASES = [
    # name, batch, target packed grid (rows, cols), reference grids, text len, timestep(s), guidance(s)
    dict(name="t2i_4x6", batch=1, grid=(4, 6), refs=[], txt=8, t=[1.0], g=[3.5]),
    dict(name="t2i_6x2", batch=1, grid=(6, 2), refs=[], txt=5, t=[0.35], g=[1.0]),
    dict(name="kontext_4x6_ref4x6", batch=1, grid=(4, 6), refs=[(4, 6)], txt=8, t=[0.8], g=[2.5]),
    dict(name="kontext_6x2_ref2x4", batch=1, grid=(6, 2), refs=[(2, 4)], txt=6, t=[0.5], g=[2.5]),
    dict(name="multiref_4x6_ref2x4_ref6x2", batch=1, grid=(4, 6), refs=[(2, 4), (6, 2)], txt=7,
         t=[0.6], g=[4.0]),
    dict(name="batch2_6x2", batch=2, grid=(6, 2), refs=[], txt=5, t=[0.9, 0.2], g=[3.5, 1.5]),
    dict(name="batch2_kontext_4x6_ref2x4", batch=2, grid=(4, 6), refs=[(2, 4)], txt=6,
         t=[0.7, 0.3], g=[3.5, 3.5]),
]


def transformer_case(model, spec: dict, k: int):
    g = gen(100 + k)
    B = spec["batch"]
    gh, gw = spec["grid"]
    C = LATENT_CHANNELS
    target = pack_latents(torch.randn(B, C, 2 * gh, 2 * gw, generator=g))
    parts, ids = [target], [image_ids(gh, gw, 0)]
    # Reference i (1-based) gets index i on RoPE axis 0. With one reference this is
    # exactly diffusers' FluxKontextPipeline (which always uses index 1).
    for i, (rh, rw) in enumerate(spec["refs"], start=1):
        parts.append(pack_latents(torch.randn(B, C, 2 * rh, 2 * rw, generator=g)))
        ids.append(image_ids(rh, rw, i))
    hidden_states = torch.cat(parts, dim=1)
    img_ids = torch.cat(ids, dim=0)
    S_txt = spec["txt"]
    enc = torch.randn(B, S_txt, T5_DMODEL, generator=g)
    pooled = torch.randn(B, HIDDEN_TXT, generator=g)
    txt_ids = torch.zeros(S_txt, 3)
    timestep = torch.tensor(spec["t"], dtype=torch.float32)
    guidance = torch.tensor(spec["g"], dtype=torch.float32)
    assert timestep.shape == (B,) and guidance.shape == (B,)
    with torch.no_grad():
        out = model(
            hidden_states=hidden_states,
            encoder_hidden_states=enc,
            pooled_projections=pooled,
            timestep=timestep,
            img_ids=img_ids,
            txt_ids=txt_ids,
            guidance=guidance,
            return_dict=False,
        )[0]
    n_target = gh * gw
    tensors = {
        "in.hidden_states": hidden_states,
        "in.encoder_hidden_states": enc,
        "in.pooled_projections": pooled,
        "in.timestep": timestep,
        "in.guidance": guidance,
        "in.img_ids": img_ids,
        "in.txt_ids": txt_ids,
        "meta.num_target_tokens": torch.tensor([n_target], dtype=torch.int64),
        "out.sample": out,
    }
    meta = {
        "target_grid": f"{gh}x{gw}",
        "reference_grids": ",".join(f"{h}x{w}" for h, w in spec["refs"]),
        "num_target_tokens": str(n_target),
        "num_image_tokens": str(hidden_states.shape[1]),
    }
    return tensors, meta


VAE_CASES = [
    dict(name="encode_32x48", kind="encode", hw=(32, 48)),
    dict(name="encode_48x16", kind="encode", hw=(48, 16)),
    dict(name="decode_8x12", kind="decode", hw=(8, 12)),
    dict(name="decode_12x4", kind="decode", hw=(12, 4)),
]


def check_batch_independence(model, results) -> None:
    """Each element of a batch-2 case must equal the same inputs run as batch 1."""
    for name, (t, _) in results.items():
        if t["in.hidden_states"].shape[0] < 2:
            continue
        for b in range(t["in.hidden_states"].shape[0]):
            with torch.no_grad():
                o = model(
                    hidden_states=t["in.hidden_states"][b : b + 1],
                    encoder_hidden_states=t["in.encoder_hidden_states"][b : b + 1],
                    pooled_projections=t["in.pooled_projections"][b : b + 1],
                    timestep=t["in.timestep"][b : b + 1],
                    img_ids=t["in.img_ids"],
                    txt_ids=t["in.txt_ids"],
                    guidance=t["in.guidance"][b : b + 1],
                    return_dict=False,
                )[0]
            d = (o - t["out.sample"][b : b + 1]).abs().max().item()
            assert d < 1e-4, (name, b, d)


def vae_case(vae, spec: dict, k: int):
    g = gen(200 + k)
    h, w = spec["hw"]
    shift, scale = vae.config.shift_factor, vae.config.scaling_factor
    with torch.no_grad():
        if spec["kind"] == "encode":
            # A smooth-ish image in [-1, 1] (what VaeImageProcessor.preprocess produces).
            img = torch.rand(1, 3, h // 4, w // 4, generator=g) * 2 - 1
            img = torch.nn.functional.interpolate(img, size=(h, w), mode="bilinear", align_corners=False)
            img = (img + 0.1 * torch.randn(1, 3, h, w, generator=g)).clamp(-1, 1)
            dist = vae.encode(img).latent_dist
            mean = dist.mean
            tensors = {
                "in.image": img,
                "out.latent_mean": mean,
                "out.latent_logvar": dist.logvar,
                "out.latent_normalized": (mean - shift) * scale,
            }
        else:
            z = torch.randn(1, LATENT_CHANNELS, h, w, generator=g)
            raw = z / scale + shift
            image = vae.decode(raw, return_dict=False)[0]
            tensors = {
                "in.latent_normalized": z,
                "out.latent_raw": raw,
                "out.image": image,
            }
    meta = {"shift_factor": repr(shift), "scaling_factor": repr(scale)}
    return tensors, meta


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

CLIP_CASES = [
    # name, prompt, padding
    dict(name="short", prompt=PROMPT_SHORT, pad=None),
    dict(name="long", prompt=PROMPT_LONG, pad=None),
    dict(name="oov", prompt=PROMPT_OOV, pad=None),
    dict(name="pad77", prompt=PROMPT_EDIT, pad=77),
    dict(name="truncate77", prompt=PROMPT_HUGE, pad=77),
]

T5_CASES = [
    dict(name="short", prompt=PROMPT_SHORT, pad=None),
    dict(name="long", prompt=PROMPT_LONG, pad=None),
    dict(name="oov", prompt=PROMPT_OOV, pad=None),
    dict(name="pad32", prompt=PROMPT_EDIT, pad=32),
]


def clip_case(model, tok, spec: dict, k: int):
    if spec["pad"]:
        # Exactly FluxPipeline._get_clip_prompt_embeds.
        ids = tok(spec["prompt"], padding="max_length", max_length=spec["pad"], truncation=True,
                  return_overflowing_tokens=False, return_length=False, return_tensors="pt").input_ids
    else:
        ids = tok(spec["prompt"], return_tensors="pt").input_ids
    ids = ids.to(torch.int64)
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
    meta = {"prompt": spec["prompt"], "padding": f"max_length={spec['pad']}" if spec["pad"] else "none",
            "pooled_position": str(eos_pos),
            "tokens": json.dumps(tok.convert_ids_to_tokens(ids[0].tolist()), ensure_ascii=False)}
    return tensors, meta


def t5_case(model, tok, spec: dict, k: int):
    if spec["pad"]:
        # Exactly FluxPipeline._get_t5_prompt_embeds (max_sequence_length = pad).
        ids = tok(spec["prompt"], padding="max_length", max_length=spec["pad"], truncation=True,
                  return_length=False, return_overflowing_tokens=False, return_tensors="pt").input_ids
    else:
        ids = tok(spec["prompt"], return_tensors="pt").input_ids
    ids = ids.to(torch.int64)
    with torch.no_grad():
        o = model(ids, output_hidden_states=False)  # no attention_mask, as in the pipeline
    tensors = {"in.input_ids": ids, "out.last_hidden_state": o.last_hidden_state}
    meta = {"prompt": spec["prompt"], "padding": f"max_length={spec['pad']}" if spec["pad"] else "none",
            "tokens": json.dumps(tok.convert_ids_to_tokens(ids[0].tolist()), ensure_ascii=False)}
    return tensors, meta


def pipeline_cases(scheduler):
    """Small non-model goldens: latent packing / ids and the scheduler's sigma schedule."""
    from diffusers.pipelines.flux.pipeline_flux import FluxPipeline, calculate_shift

    res = {}
    g = gen(400)
    lat = torch.randn(1, LATENT_CHANNELS, 8, 12, generator=g)
    packed = FluxPipeline._pack_latents(lat, 1, LATENT_CHANNELS, 8, 12)
    assert torch.equal(packed, pack_latents(lat))
    ids = FluxPipeline._prepare_latent_image_ids(1, 4, 6, "cpu", torch.float32)
    assert torch.equal(ids, image_ids(4, 6, 0))
    # _unpack_latents takes *pixel* height/width and the VAE scale factor.
    vsf = 2 ** (len(VAE_BLOCKS) - 1)
    unpacked = FluxPipeline._unpack_latents(packed, 8 * vsf, 12 * vsf, vsf)
    assert torch.equal(unpacked, lat) and torch.equal(unpack_latents(packed, 8, 12), lat)
    res["pack_8x12"] = ({"in.latents": lat, "out.packed": packed, "out.img_ids": ids},
                        {"latent_hw": "8x12", "packed_grid": "4x6"})

    for steps, seq in [(4, 24), (28, 4096), (50, 1024)]:
        sched = type(scheduler).from_config(scheduler.config)
        sigmas = np.linspace(1.0, 1 / steps, steps)
        mu = calculate_shift(seq, scheduler.config.base_image_seq_len, scheduler.config.max_image_seq_len,
                             scheduler.config.base_shift, scheduler.config.max_shift)
        sched.set_timesteps(sigmas=sigmas, mu=mu, device="cpu")
        res[f"sigmas_steps{steps}_seq{seq}"] = (
            {
                "in.num_inference_steps": torch.tensor([steps], dtype=torch.int64),
                "in.image_seq_len": torch.tensor([seq], dtype=torch.int64),
                "out.mu": torch.tensor([mu], dtype=torch.float32),
                "out.sigmas": sched.sigmas.to(torch.float32),
                "out.timesteps": sched.timesteps.to(torch.float32),
            },
            {"mu": repr(float(mu))},
        )
    return res


def compute_all(comp) -> dict[str, dict[str, tuple[dict, dict]]]:
    res: dict[str, dict[str, tuple[dict, dict]]] = {}
    res["transformer"] = {
        s["name"]: transformer_case(comp["transformer"], s, k) for k, s in enumerate(TRANSFORMER_CASES)
    }
    check_batch_independence(comp["transformer"], res["transformer"])
    res["vae"] = {s["name"]: vae_case(comp["vae"], s, k) for k, s in enumerate(VAE_CASES)}
    res["text_encoder"] = {
        s["name"]: clip_case(comp["text_encoder"], comp["tokenizer"], s, k) for k, s in enumerate(CLIP_CASES)
    }
    res["text_encoder_2"] = {
        s["name"]: t5_case(comp["text_encoder_2"], comp["tokenizer_2"], s, k) for k, s in enumerate(T5_CASES)
    }
    res["pipeline"] = pipeline_cases(comp["scheduler"])
    return res


# ----------------------------------------------------------------------------
# Writing and checking
# ----------------------------------------------------------------------------
_ST_DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write a .safetensors file byte-for-byte reproducibly (safetensors.torch.save_file
    emits the __metadata__ keys in hash order, so two runs differ). Layout per the
    safetensors spec: u64-LE header length, JSON header (sorted keys, space-padded to a
    multiple of 8), then the tensors' little-endian bytes, in name order, back to back."""
    header: dict = {"__metadata__": {k: str(v) for k, v in sorted(metadata.items())}}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_cases(results) -> dict:
    if CASES_DIR.exists():
        shutil.rmtree(CASES_DIR)
    manifest = {}
    for comp, cases in results.items():
        (CASES_DIR / comp).mkdir(parents=True, exist_ok=True)
        for name, (tensors, meta) in cases.items():
            tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
            for k, v in tensors.items():
                assert v.dtype in (torch.float32, torch.int64), (comp, name, k, v.dtype)
            md = {"component": comp, "case": name, **meta}
            path = CASES_DIR / comp / f"{name}.safetensors"
            save_safetensors(tensors, path, md)
            manifest[f"{comp}/{name}"] = {
                "file": f"cases/{comp}/{name}.safetensors",
                "metadata": md,
                "tensors": {
                    k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                    for k, v in sorted(tensors.items())
                },
            }
    (CASES_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


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


def sha256_tree(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(HERE))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_versions() -> None:
    import diffusers
    import google.protobuf
    import safetensors
    import sentencepiece
    import tokenizers
    import transformers

    v = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "sentencepiece": sentencepiece.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "protobuf": google.protobuf.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
        "torch_num_threads": torch.get_num_threads(),
        "seed_base": SEED_BASE,
    }
    (HERE / "versions.json").write_text(json.dumps(v, indent=2) + "\n")
    print("\nVersions:", json.dumps(v))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_grad_enabled(False)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    dlog.set_verbosity_error()
    tlog.set_verbosity_error()

    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        clip_tok, t5_tok, clip_dir, t5_dir = make_tokenizers(tmp)
        models = make_models(clip_tok, t5_tok)
        save_pipeline(models, clip_tok, t5_tok, clip_dir, t5_dir)

    # The goldens are computed from the *reloaded* checkpoint (what Kiln reads) ...
    comp = load_pipeline_components()
    check_tokenizers(comp)
    results = compute_all(comp)
    check_nondegenerate(results)

    # ... and must equal what the in-memory models (pre-save) produce.
    mem = dict(models)
    mem["tokenizer"], mem["tokenizer_2"] = comp["tokenizer"], comp["tokenizer_2"]
    compare(results, compute_all(mem), "in-memory vs reloaded models")

    # The whole pipeline must also load through FluxPipeline.from_pretrained (offline).
    from diffusers import FluxPipeline

    pipe = FluxPipeline.from_pretrained(str(MODEL_DIR), dtype=torch.float32)
    via_pipe = dict(
        transformer=pipe.transformer, vae=pipe.vae, text_encoder=pipe.text_encoder,
        text_encoder_2=pipe.text_encoder_2, scheduler=pipe.scheduler, tokenizer=pipe.tokenizer,
        tokenizer_2=pipe.tokenizer_2,
    )
    compare(results, compute_all(via_pipe), "FluxPipeline.from_pretrained")

    write_cases(results)
    # Round-trip the written files.
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
    write_versions()

    total = 0
    print("\nFiles:")
    for root in (MODEL_DIR, CASES_DIR):
        for p in sorted(root.rglob("*")):
            if p.is_file():
                total += p.stat().st_size
                print(f"  {p.stat().st_size:9d}  {p.relative_to(HERE)}")
    print(f"  total {total} bytes")
    sums = sha256_tree(MODEL_DIR) | sha256_tree(CASES_DIR)
    print("tree digest:", hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
