#include "runtime/generate/tiled_vae.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::generate {
namespace {

constexpr int64_t kImageChannels = 3;

// A tile's result: [batch * channels planes, height, width].
struct Tile {
  std::vector<float> values;
  int64_t height = 0;
  int64_t width = 0;

  float& at(int64_t plane, int64_t y, int64_t x) {
    return values[(plane * height + y) * width + x];
  }
};

// The weights diffusers' blend_v / blend_h use at offset `i` of `extent`:
// (1 - i / extent) for the earlier tile and i / extent for this one,
// computed in double and applied in float as PyTorch does with a Python
// scalar.
std::pair<float, float> BlendWeights(int64_t i, int64_t extent) {
  const double t = static_cast<double>(i) / static_cast<double>(extent);
  return {static_cast<float>(1.0 - t), static_cast<float>(t)};
}

// blend_v: `tile`'s first rows fade in from the last rows of `above`.
void BlendVertical(Tile& above, Tile& tile, int64_t planes, int64_t blend) {
  const int64_t extent = std::min({above.height, tile.height, blend});
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < extent; ++y) {
      auto [old_w, new_w] = BlendWeights(y, extent);
      for (int64_t x = 0; x < tile.width; ++x)
        tile.at(p, y, x) = above.at(p, above.height - extent + y, x) * old_w +
                           tile.at(p, y, x) * new_w;
    }
}

// blend_h: `tile`'s first columns fade in from the last ones of `left`.
void BlendHorizontal(Tile& left, Tile& tile, int64_t planes, int64_t blend) {
  const int64_t extent = std::min({left.width, tile.width, blend});
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < tile.height; ++y)
      for (int64_t x = 0; x < extent; ++x) {
        auto [old_w, new_w] = BlendWeights(x, extent);
        tile.at(p, y, x) = left.at(p, y, left.width - extent + x) * old_w +
                           tile.at(p, y, x) * new_w;
      }
}

// How one side of a tile maps from input to output pixels.
struct Resampling {
  int64_t scale;
  bool up;  // decode: output = input * scale; encode: input / scale
  int64_t Out(int64_t in) const { return up ? in * scale : in / scale; }
};

// The tiled_decode / _tiled_encode loop: tiles of `tile` input pixels every
// 3 * tile / 4, each mapped by `fn` to `out_channels` planes per item,
// blended over a quarter of an output tile and cropped to three quarters.
absl::StatusOr<std::vector<float>> TiledMap(
    absl::Span<const float> input, int64_t batch, int64_t in_channels,
    int64_t height, int64_t width, int64_t out_channels, int64_t tile,
    Resampling resampling,
    const std::function<absl::StatusOr<std::vector<float>>(
        const std::vector<float>&, int64_t, int64_t)>& fn) {
  const int64_t stride = tile * 3 / 4;                  // overlap_size
  const int64_t out_tile = resampling.Out(tile);
  const int64_t blend = out_tile / 4;                   // blend_extent
  const int64_t limit = out_tile - blend;               // row_limit
  const int64_t planes = batch * out_channels;
  const int64_t out_h = resampling.Out(height), out_w = resampling.Out(width);

  std::vector<std::vector<Tile>> rows;
  for (int64_t i = 0; i < height; i += stride) {
    rows.emplace_back();
    for (int64_t j = 0; j < width; j += stride) {
      const int64_t th = std::min(tile, height - i);
      const int64_t tw = std::min(tile, width - j);
      std::vector<float> part(batch * in_channels * th * tw);
      for (int64_t bc = 0; bc < batch * in_channels; ++bc)
        for (int64_t y = 0; y < th; ++y)
          std::copy_n(input.begin() + (bc * height + i + y) * width + j, tw,
                      part.begin() + (bc * th + y) * tw);
      KILN_ASSIGN_OR_RETURN(std::vector<float> values, fn(part, th, tw));
      const int64_t oh = resampling.Out(th), ow = resampling.Out(tw);
      if (static_cast<int64_t>(values.size()) != planes * oh * ow) {
        return absl::InternalError(absl::StrCat(
            "tiled VAE: a ", th, "x", tw, " tile mapped to ", values.size(),
            " values, expected ", planes * oh * ow));
      }
      rows.back().push_back({std::move(values), oh, ow});
    }
  }

  std::vector<float> output(planes * out_h * out_w);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      Tile& current = rows[r][c];
      if (r > 0) BlendVertical(rows[r - 1][c], current, planes, blend);
      if (c > 0) BlendHorizontal(rows[r][c - 1], current, planes, blend);
      const int64_t y0 = static_cast<int64_t>(r) * limit;
      const int64_t x0 = static_cast<int64_t>(c) * limit;
      const int64_t keep_h = std::min(limit, current.height);
      const int64_t keep_w = std::min(limit, current.width);
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t y = 0; y < keep_h && y0 + y < out_h; ++y)
          std::copy_n(&current.at(p, y, 0), std::min(keep_w, out_w - x0),
                      output.begin() + (p * out_h + y0 + y) * out_w + x0);
    }
  }
  return output;
}

absl::Status CheckShape(const char* what, absl::Span<const float> values,
                        int64_t batch, int64_t channels, int64_t height,
                        int64_t width) {
  if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0 ||
      static_cast<int64_t>(values.size()) != batch * channels * height * width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tiled VAE: expected ", what, " [", batch, ", ", channels, ", ",
        height, ", ", width, "], got ", values.size(), " values"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<float>> TiledDecode(absl::Span<const float> latents,
                                               int64_t batch, int64_t channels,
                                               int64_t height, int64_t width,
                                               const DecodeTiling& tiling,
                                               const DecodeTileFn& decode) {
  const int64_t tile = tiling.tile_latent, scale = tiling.scale;
  if (tile <= 0 || tile % 4 != 0 || scale <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VAE tiles must be a positive multiple of 4 latent pixels (",
        4 * std::max<int64_t>(scale, 1), " image pixels), got ", tile,
        " latent pixels at scale ", scale));
  }
  KILN_RETURN_IF_ERROR(
      CheckShape("latents", latents, batch, channels, height, width));
  if (height <= tile && width <= tile) {
    return decode(std::vector<float>(latents.begin(), latents.end()), height,
                  width);
  }
  return TiledMap(latents, batch, channels, height, width, kImageChannels,
                  tile, {scale, /*up=*/true}, decode);
}

absl::StatusOr<std::vector<float>> TiledEncode(absl::Span<const float> images,
                                               int64_t batch, int64_t height,
                                               int64_t width,
                                               const EncodeTiling& tiling,
                                               const EncodeTileFn& encode) {
  const int64_t tile = tiling.tile_image, scale = tiling.scale;
  if (scale <= 0 || tile <= 0 || tile % (4 * scale) != 0 ||
      height % scale != 0 || width % scale != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VAE encode tiles must be a positive multiple of ", 4 * scale,
        " pixels and the image's sides multiples of ", scale, ", got tiles of ",
        tile, " and a ", width, "x", height, " image"));
  }
  KILN_RETURN_IF_ERROR(
      CheckShape("images", images, batch, kImageChannels, height, width));
  if (height <= tile && width <= tile) {
    return encode(std::vector<float>(images.begin(), images.end()), height,
                  width);
  }
  return TiledMap(images, batch, kImageChannels, height, width,
                  tiling.latent_channels, tile, {scale, /*up=*/false}, encode);
}

}  // namespace kiln::generate
