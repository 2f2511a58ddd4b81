#include "runtime/pipeline/vae_scaling.h"

#include <cmath>

#include "runtime/base/status_macros.h"

namespace kiln::pipeline {

absl::StatusOr<VaeLatentScaling> ParseVaeLatentScaling(
    const io::JsonConfig& vae_config) {
  VaeLatentScaling out;
  KILN_ASSIGN_OR_RETURN(out.shift_factor, vae_config.GetDouble("shift_factor"));
  KILN_ASSIGN_OR_RETURN(out.scaling_factor,
                        vae_config.GetDouble("scaling_factor"));
  if (!std::isfinite(out.shift_factor)) {
    return vae_config.UnsupportedValue("shift_factor",
                                       "expected a finite number");
  }
  if (!std::isfinite(out.scaling_factor) || out.scaling_factor == 0.0) {
    return vae_config.UnsupportedValue("scaling_factor",
                                       "expected a finite non-zero number");
  }
  return out;
}

absl::StatusOr<VaeLatentScaling> ReadVaeLatentScaling(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(io::JsonConfig config, io::JsonConfig::Read(path));
  return ParseVaeLatentScaling(config);
}

void NormalizeLatents(const VaeLatentScaling& scaling, absl::Span<float> x) {
  const float shift = static_cast<float>(scaling.shift_factor);
  const float scale = static_cast<float>(scaling.scaling_factor);
  for (float& v : x) v = (v - shift) * scale;
}

void DenormalizeLatents(const VaeLatentScaling& scaling, absl::Span<float> x) {
  const float shift = static_cast<float>(scaling.shift_factor);
  const float scale = static_cast<float>(scaling.scaling_factor);
  for (float& v : x) v = v / scale + shift;
}

}  // namespace kiln::pipeline
