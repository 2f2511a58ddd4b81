#include "runtime/pipeline/guidance.h"

#include "absl/strings/str_cat.h"

namespace kiln::pipeline {

std::vector<float> GuidanceInput(double guidance_scale, int64_t batch) {
  return std::vector<float>(batch > 0 ? batch : 0,
                            static_cast<float>(guidance_scale));
}

bool UsesTrueCfg(double true_cfg_scale, bool has_negative_prompt) {
  return true_cfg_scale > 1.0 && has_negative_prompt;
}

absl::Status CombineTrueCfg(absl::Span<const float> noise_pred,
                            absl::Span<const float> neg_noise_pred,
                            double true_cfg_scale, absl::Span<float> out) {
  if (neg_noise_pred.size() != noise_pred.size() ||
      out.size() != noise_pred.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "true CFG: noise_pred, neg_noise_pred and out must have the same "
        "size, found ",
        noise_pred.size(), ", ", neg_noise_pred.size(), " and ", out.size()));
  }
  const float scale = static_cast<float>(true_cfg_scale);
  for (size_t i = 0; i < noise_pred.size(); ++i) {
    const float neg = neg_noise_pred[i];
    out[i] = neg + scale * (noise_pred[i] - neg);
  }
  return absl::OkStatus();
}

}  // namespace kiln::pipeline
