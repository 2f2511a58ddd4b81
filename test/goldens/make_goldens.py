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


# The code lives in the generator/ package next to this file (see README.md); this
# script is the driver. generator.common sets the offline/deterministic environment
# variables before torch, diffusers or transformers are imported.

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from generator.common import MODEL_DIR
from generator.cases_pipeline import pipeline_cases
from generator.cases_text import CLIP_CASES, T5_CASES, clip_case, t5_case
from generator.cases_transformer import TRANSFORMER_CASES, check_batch_independence, transformer_case
from generator.cases_vae import VAE_CASES, vae_case
from generator.checks import check_nondegenerate, check_roundtrip, check_tokenizers, compare
from generator.models_tiny import load_pipeline_components, make_models, save_pipeline
from generator.outputs import print_summary, write_cases, write_versions
from generator.tokenizers_tiny import make_tokenizers

import torch  # after generator.common, which sets the environment first


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
    check_roundtrip(results)  # the written files load back unchanged
    write_versions()
    print_summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
