"""Golden data for runtime/image/: PNG fixtures and what PIL + diffusers make of them.

    ~/.venvs/kiln-ref/bin/python test/goldens/make_image_goldens.py

Offline, deterministic (fixed seeds, a hand-rolled PNG encoder and safetensors
writer, both byte-reproducible), a few seconds. Rewrites cases/images/ only:

  <fixture>.png         one per PNG colour type / bit depth / interlace / tRNS form;
                        PIL cannot write most of them (16-bit colour, Adam7,
                        2-bit grey), hence the encoder below. Rows cycle through
                        the five PNG filter types so every unfilter path runs.
  expected.safetensors  decode.<fixture>  U8 [H,W,3] the RGB bytes Kiln must read;
                        resize.src        U8 [H,W,3] the source of every resize;
                        resize.<H>x<W>    U8 PIL's Image.resize(LANCZOS) of it;
                        crop.<H>x<W>      U8 VaeImageProcessor._resize_and_crop;
                        preprocess.<H>x<W> F32 [3,H,W] resize + preprocess, as
                                          FluxKontextPipeline does to an image;
                        postprocess.in/out F32 [3,H,W] -> U8 [H,W,3], postprocess.
  kontext_sizes.json    the sizes FluxKontextPipeline picks, recorded from a real
                        pipeline call (tiny-flux) that is stopped at its resize.

Where Kiln deliberately differs from `diffusers.utils.load_image` (= PIL's
`convert("RGB")`), the expected decode bytes are computed here instead:
  * alpha (RGBA, grey+alpha, palette tRNS, colour-key tRNS) is composited on
    white, at the file's precision, rounding half up:
    out = (c*a + M*(M-a) + M//2) // M with M = 2**depth - 1. PIL drops alpha,
    which turns transparent pixels into whatever colour they happen to hold.
  * 16-bit grey keeps the high byte (v >> 8), as PIL does for 16-bit RGB; PIL
    clips 16-bit grey to 255 instead (nearly white images).
Everything else (sub-byte grey scaled by 255/(2**d-1), palette lookup, 16-bit
colour's high byte, interlacing) is checked equal to PIL here.

The resize goldens depend on the Pillow version: Pillow 13 chose a new order
for the two resampling passes (runtime/image/resize.h), which changes the last
bit of some sizes; expected.safetensors records the versions used.
make_goldens.py deletes the whole cases/ folder, images/ included: run this
script again after it.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generator import common  # noqa: E402  (offline environment first)

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import diffusers  # noqa: E402
from diffusers import FluxKontextPipeline  # noqa: E402
from diffusers.image_processor import VaeImageProcessor  # noqa: E402

OUT = common.CASES_DIR / "images"
SEED = 20240917

# --------------------------------------------------------------------------
# A minimal PNG encoder: every colour type, bit depth, Adam7 and filter type.
# --------------------------------------------------------------------------
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_row(row: np.ndarray, depth: int) -> bytes:
    """One scanline's samples (flattened) at `depth` bits, MSB first, big-endian."""
    if depth == 16:
        return row.astype(">u2").tobytes()
    if depth == 8:
        return row.astype(np.uint8).tobytes()
    bits = np.unpackbits(row.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:]
    return np.packbits(bits.reshape(-1)).tobytes()


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(kind: int, raw: bytes, prior: bytes, bpp: int) -> bytes:
    out = bytearray([kind])
    for i, x in enumerate(raw):
        a = raw[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((x - pred) & 0xFF)
    return bytes(out)


def encode_png(samples: np.ndarray, color_type: int, depth: int, interlace: bool = False,
               palette: np.ndarray | None = None, trns: bytes | None = None) -> bytes:
    """samples: [H, W, channels] integers in [0, 2**depth)."""
    h, w, ch = samples.shape
    assert ch == CHANNELS[color_type]
    bpp = max(1, ch * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    filtered, row_number = bytearray(), 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue  # empty Adam7 passes have no scanlines at all
        prior = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for row in sub:
            raw = pack_row(row.reshape(-1), depth)
            filtered += filter_row(row_number % 5, raw, prior, bpp)
            prior, row_number = raw, row_number + 1
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        png += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if trns is not None:
        png += chunk(b"tRNS", trns)
    return png + chunk(b"IDAT", zlib.compress(bytes(filtered), 9)) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------
# Fixtures and the RGB bytes Kiln must decode from them.
# --------------------------------------------------------------------------
H, W = 7, 9  # odd sizes: partial bytes at low depths, every Adam7 pass non-trivial


def to8(v: np.ndarray, depth: int) -> np.ndarray:
    if depth == 16:
        return v >> 8
    return v * 255 // ((1 << depth) - 1)  # exact: 255 is a multiple of 1, 3, 15


def over_white(c: np.ndarray, a: np.ndarray, depth: int) -> np.ndarray:
    m = (1 << depth) - 1
    return (c * a[..., None] + m * (m - a[..., None]) + m // 2) // m


def fixture(rng, name, color_type, depth, interlace=False, trns_key=False, palette_size=0):
    """Returns (png bytes, expected [H,W,3] uint8, the pixels where PIL's
    convert('RGB') must agree: all, the opaque ones, or none for 16-bit grey)."""
    ch = CHANNELS[color_type]
    maxv = (1 << depth) - 1
    s = rng.integers(0, maxv + 1, size=(H, W, ch), dtype=np.int64)
    palette = trns = None
    if color_type == 3:
        s = rng.integers(0, palette_size, size=(H, W, 1), dtype=np.int64)
        s[0, : min(W, palette_size), 0] = np.arange(min(W, palette_size))  # use every low entry
        palette = rng.integers(0, 256, size=(palette_size, 3), dtype=np.int64)
    if ch in (2, 4):  # alpha channel: make sure 0, max and partial values all occur
        s[0, :3, -1] = [0, maxv, maxv // 3]
    alpha = None
    if color_type == 3:
        rgb = palette[s[..., 0]]
        if trns_key:  # tRNS for the first half of the palette (shorter than PLTE, as allowed)
            pal_alpha = rng.integers(0, 256, size=palette_size // 2 + 1, dtype=np.int64)
            pal_alpha[:3] = [0, 255, 128]
            trns = pal_alpha.astype(np.uint8).tobytes()
            full = np.concatenate([pal_alpha, np.full(palette_size - len(pal_alpha), 255)])
            alpha = full[s[..., 0]]
        expected = over_white(rgb, alpha, 8) if alpha is not None else rgb
    else:
        colour = s[..., :3] if ch >= 3 else np.repeat(s[..., :1], 3, axis=2)
        if ch in (2, 4):
            alpha = s[..., -1]
        elif trns_key:  # colour key: copy one pixel's value to a few others, then key it
            key = s[1, 1].copy()
            s[2, 2] = s[4, 5] = key
            colour = s[..., :3] if ch >= 3 else np.repeat(s[..., :1], 3, axis=2)
            trns = b"".join(struct.pack(">H", int(k)) for k in key)
            alpha = np.where(np.all(s == key, axis=2), 0, maxv)
        if alpha is not None and depth < 8:
            alpha = to8(alpha, depth)  # a keyed sub-byte pixel is all-or-nothing anyway
            colour = to8(colour, depth)
            depth_c = 8
        else:
            depth_c = depth
        expected = to8(over_white(colour, alpha, depth_c) if alpha is not None else colour, depth_c)
    png = encode_png(s, color_type, depth, interlace, palette, trns)
    if color_type == 0 and depth == 16:
        agree = np.zeros((H, W), bool)
    else:
        agree = np.ones((H, W), bool) if alpha is None else alpha == alpha.max()
    return png, expected.astype(np.uint8), agree


FIXTURES = [  # name, colour type, depth, keyword arguments
    ("gray1", 0, 1, {}), ("gray2", 0, 2, {}), ("gray4", 0, 4, {}), ("gray8", 0, 8, {}),
    ("gray16", 0, 16, {}), ("gray2_trns", 0, 2, {"trns_key": True}),
    ("gray_alpha8", 4, 8, {}), ("gray_alpha16", 4, 16, {}),
    ("rgb8", 2, 8, {}), ("rgb16", 2, 16, {}), ("rgb8_trns", 2, 8, {"trns_key": True}),
    ("rgba8", 6, 8, {}), ("rgba16", 6, 16, {}),
    ("palette1", 3, 1, {"palette_size": 2}), ("palette2", 3, 2, {"palette_size": 4}),
    ("palette4", 3, 4, {"palette_size": 11}), ("palette8_trns", 3, 8, {"palette_size": 40, "trns_key": True}),
    ("rgb8_interlaced", 2, 8, {"interlace": True}), ("rgba16_interlaced", 6, 16, {"interlace": True}),
    ("palette4_trns_interlaced", 3, 4, {"palette_size": 16, "trns_key": True, "interlace": True}),
]


def pil_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def write_fixtures(rng, tensors):
    for name, color_type, depth, kw in FIXTURES:
        png, expected, agree = fixture(rng, name, color_type, depth, **kw)
        path = OUT / f"{name}.png"
        path.write_bytes(png)
        assert np.array_equal(pil_rgb(path)[agree], expected[agree]), name
        tensors[f"decode.{name}"] = expected


# --------------------------------------------------------------------------
# Resizing, preprocess and postprocess, computed by PIL and diffusers.
# --------------------------------------------------------------------------
def resize_source(rng) -> np.ndarray:
    """13x19 RGB: gradients, noise and a hard edge (Lanczos overshoot gets clipped)."""
    y, x = np.mgrid[0:13, 0:19]
    img = np.stack([x * 255 // 18, y * 255 // 12, (x * y * 7) % 256], axis=2).astype(np.int64)
    img += rng.integers(-20, 21, size=img.shape)
    img[:, 9:12] = [255, 255, 255]
    img[:, 12:14] = [0, 0, 0]
    return np.clip(img, 0, 255).astype(np.uint8)


# (H, W) from 13x19: both down (horizontal pass first), height down far more
# than width (vertical first in Pillow >= 13), up, mixed both ways, same size.
RESIZES = [(6, 8), (3, 4), (3, 16), (20, 29), (17, 12), (8, 16), (13, 19), (1, 1), (2, 40)]
CROPS = [(8, 8), (6, 16), (12, 6)]


def write_resizes(rng, tensors):
    src = resize_source(rng)
    tensors["resize.src"] = src
    pil = Image.fromarray(src, "RGB")
    for h, w in RESIZES:
        tensors[f"resize.{h}x{w}"] = np.asarray(pil.resize((w, h), resample=Image.Resampling.LANCZOS))
    proc = VaeImageProcessor(vae_scale_factor=8)  # what FluxKontextPipeline has (tiny VAE: 4 * 2)
    for h, w in CROPS:
        tensors[f"crop.{h}x{w}"] = np.asarray(proc._resize_and_crop(pil, w, h))
    # The pipeline: image_processor.resize, then preprocess to the same size.
    h, w = 8, 16
    t = proc.preprocess(proc.resize(pil, h, w), h, w)
    tensors[f"preprocess.{h}x{w}"] = t[0].numpy().astype(np.float32)


def half_way_inputs() -> list[float]:
    """Inputs x with (x*0.5+0.5)*255 exactly k+0.5 in float32, k even and odd, so
    the test sees numpy's round-half-to-even rather than half-up."""
    found = []
    for k in (2, 3, 100, 101, 200, 253):
        v = np.float32((k + 0.5) / 255)
        for v in (v, np.nextafter(v, np.float32(1)), np.nextafter(v, np.float32(0))):
            x = np.float32((v - np.float32(0.5)) * np.float32(2))
            if np.float32(np.float32(x * np.float32(0.5)) + np.float32(0.5)) * np.float32(255) == k + 0.5:
                found.append(float(x))
                break
    return found


def write_postprocess(tensors):
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(1, 3, 6, 9, generator=g) * 0.8
    specials = [-1.0, 1.0, 0.0, -1.5, 1.5, -0.999, 0.999] + half_way_inputs()
    x.view(-1)[: len(specials)] = torch.tensor(specials)
    out = VaeImageProcessor(vae_scale_factor=8).postprocess(x, output_type="np")
    tensors["postprocess.in"] = x[0].numpy()
    tensors["postprocess.out"] = (out[0] * 255).round().astype(np.uint8)  # numpy_to_pil's bytes
    pil = VaeImageProcessor.numpy_to_pil(out)[0]
    assert np.array_equal(np.asarray(pil), tensors["postprocess.out"])


# --------------------------------------------------------------------------
# FluxKontextPipeline's size choices, recorded from the pipeline itself.
# --------------------------------------------------------------------------
class _Stop(Exception):
    pass


def kontext_sizes() -> list[dict]:
    pipe = FluxKontextPipeline.from_pretrained(common.MODEL_DIR)
    pipe.set_progress_bar_config(disable=True)
    seen = {}

    def record_output(prompt, prompt_2, height, width, *args, **kwargs):
        seen["output"] = [height, width]

    def record_resize(image, height, width, **kwargs):
        seen["reference"] = [height, width]
        raise _Stop  # everything we need is known; skip the denoising

    pipe.check_inputs = record_output
    cases = []
    for vae_scale in (4, 8):  # tiny-flux's VAE, and the real FLUX VAE (multiple of 16)
        pipe.vae_scale_factor = vae_scale
        pipe.image_processor = VaeImageProcessor(vae_scale_factor=vae_scale * 2)
        pipe.image_processor.resize = record_resize
        for (ih, iw), (oh, ow), auto, max_area in [
            ((512, 512), (None, None), True, 1024**2), ((600, 800), (None, None), True, 1024**2),
            ((1080, 1920), (768, 1360), True, 1024**2), ((1000, 333), (500, 700), True, 512**2),
            ((333, 1000), (1024, 1024), False, 1024**2), ((719, 1283), (721, 1279), False, 1024**2),
            ((1024, 1024), (1000, 1000), True, 1000 * 700), ((95, 2000), (64, 64), True, 1024**2),
            ((1456, 720), (1568, 672), True, 1024**2), ((37, 50), (100, 200), False, 64 * 64),
        ]:
            seen.clear()
            image = Image.new("RGB", (iw, ih))
            try:
                pipe(image=image, prompt="a cat", height=oh, width=ow, num_inference_steps=1,
                     max_area=max_area, _auto_resize=auto)
            except _Stop:
                pass
            cases.append({"vae_scale_factor": vae_scale, "image": [ih, iw], "requested": [oh, ow],
                          "auto_resize": auto, "max_area": max_area, "default_sample_size": pipe.default_sample_size,
                          "reference": seen["reference"], "output": seen["output"]})
    return cases


# --------------------------------------------------------------------------
def save_safetensors(tensors: dict[str, np.ndarray], path: Path, metadata: dict[str, str]) -> None:
    """Sorted keys, little-endian, header space-padded to 8: byte-reproducible."""
    dtypes = {np.dtype(np.uint8): "U8", np.dtype(np.float32): "F32"}
    header, blobs, off = {"__metadata__": dict(sorted(metadata.items()))}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    rng = np.random.default_rng(SEED)
    tensors: dict[str, np.ndarray] = {}
    write_fixtures(rng, tensors)
    write_resizes(rng, tensors)
    write_postprocess(tensors)
    save_safetensors(tensors, OUT / "expected.safetensors",
                     {"pillow": PIL.__version__, "numpy": np.__version__, "diffusers": diffusers.__version__})
    sizes = kontext_sizes()
    (OUT / "kontext_sizes.json").write_text("[\n" + ",\n".join(json.dumps(c) for c in sizes) + "\n]\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
