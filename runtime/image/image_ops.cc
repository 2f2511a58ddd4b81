#include "runtime/image/image_ops.h"

#include <cmath>
#include <cstddef>

#include "absl/strings/str_cat.h"

namespace kiln::image {

std::vector<float> ToNormalizedChw(const RgbImage& image) {
  const size_t plane = static_cast<size_t>(image.height) * image.width;
  std::vector<float> chw(3 * plane);
  for (size_t i = 0; i < plane; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      // Three float32 roundings, as numpy and torch do them: the division
      // is not replaced by a multiplication by 1/255, which rounds
      // differently for some values.
      const float unit = static_cast<float>(image.pixels[3 * i + c]) / 255.0f;
      chw[c * plane + i] = 2.0f * unit - 1.0f;
    }
  }
  return chw;
}

absl::StatusOr<RgbImage> FromNormalizedChw(absl::Span<const float> chw,
                                           int height, int width) {
  if (height < 1 || width < 1 || height > kMaxImageDimension ||
      width > kMaxImageDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat("image tensor: height ", height, " and width ", width,
                     " must each be 1 to ", kMaxImageDimension));
  }
  const size_t plane = static_cast<size_t>(height) * width;
  if (chw.size() != 3 * plane) {
    return absl::InvalidArgumentError(
        absl::StrCat("image tensor: has ", chw.size(), " values, expected 3 x ",
                     height, " x ", width, " = ", 3 * plane));
  }
  RgbImage image = RgbImage::Black(height, width);
  for (size_t c = 0; c < 3; ++c) {
    for (size_t i = 0; i < plane; ++i) {
      const float x = chw[c * plane + i];
      if (std::isnan(x)) {
        return absl::InvalidArgumentError(absl::StrCat("image tensor: value [",
                                                       c, ", ", i / width, ", ",
                                                       i % width, "] is NaN"));
      }
      float unit = x * 0.5f + 0.5f;
      unit = unit < 0.0f ? 0.0f : (unit > 1.0f ? 1.0f : unit);
      // nearbyint in the default rounding mode: half to even, as numpy's
      // round.
      image.pixels[3 * i + c] =
          static_cast<uint8_t>(std::nearbyint(unit * 255.0f));
    }
  }
  return image;
}

}  // namespace kiln::image
