"""The tiny FLUX pipeline: building the models from fixed seeds, saving them in the
diffusers layout (with the exact tokenizer files) and loading them back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from .common import (CLIP_VOCAB, HIDDEN_TXT, LATENT_CHANNELS, MODEL_DIR, PATCH, T5_DMODEL, T5_VOCAB,
                     VAE_BLOCKS, VAE_SCALE, VAE_SHIFT, seed)


def _redraw(model: torch.nn.Module, offset: int, bias_std: float, matrices: bool) -> None:
    """Redraw, from seed `offset` and in parameter-name order: every bias ~ N(0, bias_std),
    every other 1-D parameter (norm scale) ~ N(1, 0.1) and, with `matrices`, every
    other parameter ~ N(0, 1/fan_in)."""
    seed(offset)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith(".bias"):
                p.normal_(0.0, bias_std)
            elif p.ndim == 1:  # RMSNorm / LayerNorm / GroupNorm scales
                p.normal_(1.0, 0.1)
            elif matrices:
                p.normal_(0.0, 1.0 / np.sqrt(p.shape[1]))


def redraw_transformer_weights(model: torch.nn.Module, offset: int) -> None:
    """Re-randomise every FLUX transformer parameter: matrices N(0, 1/fan_in), biases
    N(0, 0.02), norm scales N(1, 0.1). diffusers builds every Linear with PyTorch's
    default (kaiming-uniform) init; none is zero-initialised. The redraw makes the
    goldens independent of torch's default-init code path and exercises every weight
    (incl. biases and norm scales) with a non-trivial value. Also used by
    bench/make_medium_flux.py."""
    _redraw(model, offset, 0.02, matrices=True)


def randomize_affine(model: torch.nn.Module, offset: int) -> None:
    """Give every bias and every 1-D (norm) scale a random non-trivial value.
    The libraries initialise LayerNorm/GroupNorm/T5LayerNorm scales to 1 and
    (in transformers) Linear/LayerNorm biases to 0; with those values a consumer that
    forgot to apply them would still match the goldens."""
    _redraw(model, offset, 0.05, matrices=False)


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
    redraw_transformer_weights(transformer, 2)

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
