#include "runtime/pipeline/noise.h"

#include <array>
#include <cmath>

#include "runtime/base/status_macros.h"
#include "runtime/pipeline/philox.h"

namespace kiln::pipeline {
namespace {

constexpr double kTwoPi = 2.0 * 3.14159265358979323846;

// The top 53 bits, centred in their interval: never 0, so log is finite.
double ToOpenUnit(uint64_t word) {
  return (static_cast<double>(word >> 11) + 0.5) * 0x1p-53;
}

// The four normals of counter block `block`.
std::array<float, 4> NormalBlock(uint64_t seed, uint64_t stream,
                                 uint64_t block) {
  const std::array<uint64_t, 4> w =
      Philox4x64({block, 0, 0, 0}, {seed, stream});
  std::array<float, 4> out;
  for (int pair = 0; pair < 2; ++pair) {
    const double r = std::sqrt(-2.0 * std::log(ToOpenUnit(w[2 * pair])));
    const double theta = kTwoPi * ToOpenUnit(w[2 * pair + 1]);
    out[2 * pair] = static_cast<float>(r * std::cos(theta));
    out[2 * pair + 1] = static_cast<float>(r * std::sin(theta));
  }
  return out;
}

}  // namespace

void FillGaussianNoise(uint64_t seed, uint64_t stream, uint64_t first,
                       absl::Span<float> out) {
  uint64_t block = first / 4;
  std::array<float, 4> normals = NormalBlock(seed, stream, block);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint64_t element = first + i;
    if (element / 4 != block) {
      block = element / 4;
      normals = NormalBlock(seed, stream, block);
    }
    out[i] = normals[element % 4];
  }
}

absl::StatusOr<std::vector<float>> InitialLatentNoise(
    uint64_t seed, const LatentShape& shape) {
  KILN_RETURN_IF_ERROR(ValidateLatentShape(shape));
  std::vector<float> noise(static_cast<size_t>(shape.numel()));
  const size_t per_image = noise.size() / static_cast<size_t>(shape.batch);
  for (int64_t b = 0; b < shape.batch; ++b) {
    FillGaussianNoise(seed, static_cast<uint64_t>(b), 0,
                      absl::MakeSpan(noise).subspan(b * per_image, per_image));
  }
  return noise;
}

}  // namespace kiln::pipeline
