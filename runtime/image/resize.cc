#include "runtime/image/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::image {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLanczosSupport = 3.0;
// Fixed-point taps as PIL's 8-bit path has them: 32 bits less 8 for the
// pixel and 2 of headroom for the sum of negative and positive lobes.
constexpr int kPrecisionBits = 22;

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= kPi;
  return std::sin(x) / x;
}

double Lanczos3(double x) {
  if (x < -kLanczosSupport || x >= kLanczosSupport) return 0.0;
  return Sinc(x) * Sinc(x / kLanczosSupport);
}

// The taps of one pass: output i reads inputs first[i] .. first[i] +
// count[i] - 1 with weights[i * stride + j].
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
  int stride = 0;
};

Taps ComputeTaps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = kLanczosSupport * filter_scale;
  // Multiplying by the reciprocal rather than dividing keeps the taps equal
  // to PIL's to the last bit, which the fixed-point rounding can expose.
  const double inverse_filter_scale = 1.0 / filter_scale;
  Taps taps;
  taps.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size) * taps.stride, 0);
  std::vector<double> w(taps.stride);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // int() truncates toward zero, as PIL's cast does; the clamps follow.
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = std::min(hi - lo, taps.stride);
    double sum = 0.0;
    for (int j = 0; j < n; ++j) {
      w[j] = Lanczos3((j + lo - center + 0.5) * inverse_filter_scale);
      sum += w[j];
    }
    int32_t* fixed = &taps.weights[static_cast<size_t>(i) * taps.stride];
    for (int j = 0; j < n; ++j) {
      const double normalized = sum != 0.0 ? w[j] / sum : w[j];
      const double scaled = normalized * (1 << kPrecisionBits);
      fixed[j] = static_cast<int32_t>(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
    }
    taps.first[i] = lo;
    taps.count[i] = n;
  }
  return taps;
}

// A weighted sum back to a pixel: round half up, then clamp (Lanczos
// overshoots at sharp edges).
uint8_t ToPixel(int64_t sum) {
  if (sum < 0) return 0;
  return static_cast<uint8_t>(std::min<int64_t>(sum >> kPrecisionBits, 255));
}

constexpr int64_t kHalf = int64_t{1} << (kPrecisionBits - 1);

RgbImage ResizeRows(const RgbImage& in, int width) {
  const Taps taps = ComputeTaps(in.width, width);
  RgbImage out = RgbImage::Black(in.height, width);
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* src = in.row(y);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < width; ++x) {
      const int32_t* w = &taps.weights[static_cast<size_t>(x) * taps.stride];
      const uint8_t* p = src + static_cast<size_t>(taps.first[x]) * 3;
      for (int c = 0; c < 3; ++c) {
        int64_t sum = kHalf;
        for (int j = 0; j < taps.count[x]; ++j)
          sum += int64_t{p[3 * j + c]} * w[j];
        dst[3 * x + c] = ToPixel(sum);
      }
    }
  }
  return out;
}

RgbImage ResizeColumns(const RgbImage& in, int height) {
  const Taps taps = ComputeTaps(in.height, height);
  RgbImage out = RgbImage::Black(height, in.width);
  const size_t row_bytes = in.row_bytes();
  std::vector<int64_t> sums(row_bytes);
  for (int y = 0; y < height; ++y) {
    // Row by row over the taps, so that memory is read in order.
    std::fill(sums.begin(), sums.end(), kHalf);
    const int32_t* w = &taps.weights[static_cast<size_t>(y) * taps.stride];
    for (int j = 0; j < taps.count[y]; ++j) {
      const uint8_t* src = in.row(taps.first[y] + j);
      for (size_t b = 0; b < row_bytes; ++b) sums[b] += int64_t{src[b]} * w[j];
    }
    uint8_t* dst = out.row(y);
    for (size_t b = 0; b < row_bytes; ++b) dst[b] = ToPixel(sums[b]);
  }
  return out;
}

absl::Status CheckSource(const RgbImage& image) {
  if (image.height < 1 || image.width < 1 ||
      image.pixels.size() !=
          static_cast<size_t>(image.height) * image.width * 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resize a ", image.width, "x", image.height,
        " image (width x height) holding ", image.pixels.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckTarget(int64_t height, int64_t width) {
  if (height < 1 || width < 1 || height > kMaxImageDimension ||
      width > kMaxImageDimension) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resize to ", width, "x", height,
        " (width x height): each side must be 1 to ", kMaxImageDimension));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RgbImage> ResizeLanczos(const RgbImage& image, int height,
                                       int width) {
  KILN_RETURN_IF_ERROR(CheckSource(image));
  KILN_RETURN_IF_ERROR(CheckTarget(height, width));
  if (width == image.width && height == image.height) return image;
  if (height == image.height) return ResizeRows(image, width);
  if (width == image.width) return ResizeColumns(image, height);
  // PIL's pass order (see resize.h): the 8-bit intermediate makes it visible.
  const int rows_removed = image.height - height;
  const int columns_removed = image.width - width;
  if (rows_removed > 0 && rows_removed > 2 * columns_removed) {
    return ResizeRows(ResizeColumns(image, height), width);
  }
  return ResizeColumns(ResizeRows(image, width), height);
}

absl::StatusOr<RgbImage> ResizeAndCenterCrop(const RgbImage& image, int height,
                                             int width) {
  KILN_RETURN_IF_ERROR(CheckSource(image));
  KILN_RETURN_IF_ERROR(CheckTarget(height, width));
  // Python's `/` (doubles) and `//` (integers), as diffusers writes them.
  const double ratio = static_cast<double>(width) / height;
  const double source_ratio = static_cast<double>(image.width) / image.height;
  const int64_t scaled_width =
      ratio > source_ratio ? width
                           : int64_t{image.width} * height / image.height;
  const int64_t scaled_height =
      ratio <= source_ratio ? height
                            : int64_t{image.height} * width / image.width;
  if (absl::Status status = CheckTarget(scaled_height, scaled_width);
      !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot crop a ", image.width, "x", image.height, " image to ", width,
        "x", height, " (width x height): ", status.message()));
  }
  KILN_ASSIGN_OR_RETURN(RgbImage scaled,
                        ResizeLanczos(image, static_cast<int>(scaled_height),
                                      static_cast<int>(scaled_width)));
  const int x0 = static_cast<int>(scaled_width / 2 - width / 2);
  const int y0 = static_cast<int>(scaled_height / 2 - height / 2);
  RgbImage out = RgbImage::Black(height, width);
  for (int y = 0; y < height; ++y) {
    std::memcpy(out.row(y), scaled.row(y0 + y) + static_cast<size_t>(x0) * 3,
                out.row_bytes());
  }
  return out;
}

}  // namespace kiln::image
