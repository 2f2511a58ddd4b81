// Decoding a latent (and encoding an image) tile by tile, so that the VAE's
// memory (the decoder's
// activations at full image resolution, and its mid-block attention, whose
// scores grow with the square of the latent's pixels) is that of one tile:
// a 2048 x 2048 image decodes in the memory of a 1024 x 1024 one. Encoding
// references tiles the same way (diffusers' _tiled_encode): image tiles of
// S pixels every 3S/4, the latent tiles blended over S/(4 scale) latent
// pixels and cropped to 3S/(4 scale).
//
// The algorithm is diffusers' AutoencoderKL.tiled_decode, so that Kiln's
// tiled images equal diffusers' (test/goldens/make_vae_tiling_goldens.py):
// square tiles of T latent pixels start every 3T/4 pixels; each decoded tile
// is blended with the tile above it over its first T*s/4 image rows and with
// the tile to its left over its first T*s/4 columns (linear ramps, in tile
// order, each tile blended in place before its neighbours read it), then
// cropped to its first 3T*s/4 rows and columns. The decoder sees each tile
// alone: its group norms and attention take their statistics over the tile,
// so a tiled image differs from the untiled one (docs/DECISIONS.md, session
// 6, has the measured difference and the bound the tests use).
#ifndef KILN_RUNTIME_GENERATE_TILED_VAE_H_
#define KILN_RUNTIME_GENERATE_TILED_VAE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::generate {

struct DecodeTiling {
  // A tile's side in latent pixels: a positive multiple of 4 (so that the
  // tiles' stride, overlap and blend are whole pixels, as diffusers' are for
  // its default sizes).
  int64_t tile_latent = 0;
  // Image pixels per latent pixel (the VAE's scale factor: 8 for FLUX).
  int64_t scale = 8;
};

// Decodes one tile: `latent` [batch, channels, height, width] to the image
// [batch, 3, height * scale, width * scale].
using DecodeTileFn = std::function<absl::StatusOr<std::vector<float>>(
    const std::vector<float>& latent, int64_t height, int64_t width)>;

// Decodes `latents` [batch, channels, height, width] tile by tile with
// `decode` and returns the image [batch, 3, height * scale, width * scale].
// A latent no larger than one tile is decoded whole. Errors: a tiling or
// shape that is not positive or not a multiple of 4 (InvalidArgument), a
// tile whose decode fails or returns the wrong size.
absl::StatusOr<std::vector<float>> TiledDecode(absl::Span<const float> latents,
                                               int64_t batch, int64_t channels,
                                               int64_t height, int64_t width,
                                               const DecodeTiling& tiling,
                                               const DecodeTileFn& decode);

// Encodes one tile: `image` [batch, 3, height, width] to the normalized
// latent [batch, channels, height / scale, width / scale].
using EncodeTileFn = std::function<absl::StatusOr<std::vector<float>>(
    const std::vector<float>& image, int64_t height, int64_t width)>;

struct EncodeTiling {
  // A tile's side in image pixels: a positive multiple of 4 * scale.
  int64_t tile_image = 0;
  int64_t scale = 8;
  int64_t latent_channels = 16;
};

// Encodes `images` [batch, 3, height, width] (sides multiples of `scale`)
// tile by tile and returns the normalized latent [batch, channels,
// height / scale, width / scale]: the blend of the tiles' latents, as
// diffusers blends the encoder's moments (normalizing is affine, so the two
// orders agree up to rounding). An image no larger than one tile is encoded
// whole. Errors as TiledDecode's.
absl::StatusOr<std::vector<float>> TiledEncode(absl::Span<const float> images,
                                               int64_t batch, int64_t height,
                                               int64_t width,
                                               const EncodeTiling& tiling,
                                               const EncodeTileFn& encode);

}  // namespace kiln::generate

#endif  // KILN_RUNTIME_GENERATE_TILED_VAE_H_
