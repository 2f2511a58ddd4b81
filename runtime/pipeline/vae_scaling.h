// The FLUX VAE's latent normalization: the transformer works on
// (latent - shift_factor) * scaling_factor, the decoder takes the inverse.
// Both factors come from vae/config.json (0.1159 and 0.3611 for FLUX.1).
#ifndef KILN_RUNTIME_PIPELINE_VAE_SCALING_H_
#define KILN_RUNTIME_PIPELINE_VAE_SCALING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/io/json_config.h"

namespace kiln::pipeline {

struct VaeLatentScaling {
  double shift_factor = 0;
  double scaling_factor = 1;
};

// Reads shift_factor and scaling_factor. Both are required: the FLUX
// pipelines do arithmetic on them, so null fails there too. Errors:
// InvalidArgument naming the file and key for a missing or non-numeric
// value, a non-finite one, or a zero scaling_factor.
absl::StatusOr<VaeLatentScaling> ParseVaeLatentScaling(
    const io::JsonConfig& vae_config);
absl::StatusOr<VaeLatentScaling> ReadVaeLatentScaling(const std::string& path);

// Encoder output -> transformer space, in place: (x - shift) * scale, in
// float32 with both factors rounded to float32 (as torch applies a Python
// float to a float32 tensor), as FluxKontextPipeline._encode_vae_image.
void NormalizeLatents(const VaeLatentScaling& scaling, absl::Span<float> x);

// Transformer space -> decoder input, in place: x / scale + shift, as
// FluxPipeline does before vae.decode.
void DenormalizeLatents(const VaeLatentScaling& scaling, absl::Span<float> x);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_VAE_SCALING_H_
