"""The golden-data generator behind ../make_goldens.py, split by concern.

    common.py             offline env vars, paths, tiny hyper-parameters, seeding
    tokenizers_tiny.py    CLIP byte-level BPE and T5 SentencePiece training
    models_tiny.py        building, saving and reloading the tiny FLUX pipeline
    packing.py            FLUX latent packing and RoPE position ids
    cases_transformer.py  FluxTransformer2DModel cases
    cases_vae.py          AutoencoderKL encode/decode cases
    cases_text.py         prompts, CLIP and T5 text-encoder cases
    cases_pipeline.py     packing and scheduler-sigma cases
    st_writer.py          the deterministic safetensors writer
    checks.py             sanity checks on the computed cases
    outputs.py            writing cases/, manifest.json and versions.json

Importing any module sets the HF offline environment variables first (common.py).
bench/make_medium_flux.py reuses common, packing, models_tiny and st_writer.
"""
