"""Environment, paths, tiny hyper-parameters and seeding shared by every module.

Imported first by every other module: it sets the offline/deterministic
environment variables before torch, diffusers or transformers are imported."""

from __future__ import annotations

import os
from pathlib import Path

# Offline, quiet, deterministic.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import torch  # noqa: E402

GOLDENS_DIR = Path(__file__).resolve().parent.parent  # test/goldens
CORPUS = GOLDENS_DIR / "corpus.txt"
MODEL_DIR = GOLDENS_DIR / "tiny-flux"
CASES_DIR = GOLDENS_DIR / "cases"

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
