// Between RgbImage and the float tensors the VAE takes and gives, with
// diffusers' VaeImageProcessor arithmetic, in float32, operation for
// operation, so that the results are bit-identical to the reference.
#ifndef KILN_RUNTIME_IMAGE_IMAGE_OPS_H_
#define KILN_RUNTIME_IMAGE_IMAGE_OPS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/image/image.h"

namespace kiln::image {

// The VAE encoder's input: [3, height, width], channel-major, each value
// x / 255 * 2 - 1 in [-1, 1]. VaeImageProcessor.preprocess (pil_to_numpy's
// `/ 255.0`, then normalize's `2.0 * x - 1.0`), without the batch axis.
std::vector<float> ToNormalizedChw(const RgbImage& image);

// The VAE decoder's output [3, height, width] back to 8-bit: per value
// clamp(x * 0.5 + 0.5, 0, 1) * 255 rounded half to even, which is
// VaeImageProcessor.postprocess followed by numpy_to_pil's
// `(images * 255).round().astype("uint8")`. Errors: a tensor whose size is
// not 3 * height * width, a size outside 1..kMaxImageDimension, or a NaN
// (diffusers would turn it into an arbitrary byte; a NaN means the model
// failed, and that should be visible).
absl::StatusOr<RgbImage> FromNormalizedChw(absl::Span<const float> chw,
                                           int height, int width);

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_IMAGE_OPS_H_
