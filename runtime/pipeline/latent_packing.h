// FLUX latent packing: the transformer sees a VAE latent [B, C, H, W] as
// (H/2)(W/2) tokens of 4C channels, one per 2x2 patch (diffusers'
// FluxPipeline._pack_latents / _unpack_latents).
#ifndef KILN_RUNTIME_PIPELINE_LATENT_PACKING_H_
#define KILN_RUNTIME_PIPELINE_LATENT_PACKING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::pipeline {

// The shape of an unpacked latent, [batch, channels, height, width].
struct LatentShape {
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;

  int64_t numel() const { return batch * channels * height * width; }
  // Tokens per image once packed: (height / 2) * (width / 2). This is the
  // image_seq_len that FluxPipeline computes mu from.
  int64_t tokens() const { return (height / 2) * (width / 2); }
  // "[1, 16, 128, 128]", for messages.
  std::string ToString() const;
};

// The latent height or width for an image side of `pixels`, as the
// pipelines round it: 2 * (pixels / (vae_scale_factor * 2)), so the latent
// is even and the image is cropped to a multiple of 2 * vae_scale_factor.
int64_t LatentSizeForImage(int64_t pixels, int64_t vae_scale_factor);

// Errors: InvalidArgument unless every dimension is positive and height and
// width are even (FLUX packs 2x2 patches), naming the shape.
absl::Status ValidateLatentShape(const LatentShape& shape);

// [B, C, H, W] -> [B, (H/2)(W/2), 4C]: token (y, x) holds channel c's patch
// at 4c + 2 dy + dx. Errors: those of ValidateLatentShape, and
// InvalidArgument when the sizes do not match the shape.
absl::Status PackLatents(absl::Span<const float> latents,
                         const LatentShape& shape, absl::Span<float> packed);
absl::StatusOr<std::vector<float>> PackLatents(absl::Span<const float> latents,
                                               const LatentShape& shape);

// The inverse, [B, (H/2)(W/2), 4C] -> [B, C, H, W], with the same errors.
// diffusers' _unpack_latents takes pixel sizes; pass
// LatentSizeForImage(pixels, vae_scale_factor) for the same result.
absl::Status UnpackLatents(absl::Span<const float> packed,
                           const LatentShape& shape, absl::Span<float> latents);
absl::StatusOr<std::vector<float>> UnpackLatents(absl::Span<const float> packed,
                                                 const LatentShape& shape);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_LATENT_PACKING_H_
