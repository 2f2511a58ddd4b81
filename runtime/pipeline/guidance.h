// The two guidance mechanisms of FluxPipeline: the guidance embedding's input
// (guidance-distilled models such as FLUX.1-dev and Kontext) and true
// classifier-free guidance (a second transformer call on a negative prompt).
#ifndef KILN_RUNTIME_PIPELINE_GUIDANCE_H_
#define KILN_RUNTIME_PIPELINE_GUIDANCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace kiln::pipeline {

// The transformer's `guidance` input when its config has guidance_embeds:
// torch.full([1], guidance_scale, float32).expand(batch). The transformer
// itself multiplies it by 1000; models without guidance_embeds take none.
std::vector<float> GuidanceInput(double guidance_scale, int64_t batch);

// FluxPipeline runs true CFG only when `true_cfg_scale > 1` and a negative
// prompt (or negative embeddings) is given; otherwise one transformer call.
bool UsesTrueCfg(double true_cfg_scale, bool has_negative_prompt);

// noise_pred = neg + true_cfg_scale * (pos - neg), in float32 with the
// scale rounded to float32, one rounding per operation as torch computes it.
// `out` may alias either input. Errors: InvalidArgument when the sizes
// differ.
absl::Status CombineTrueCfg(absl::Span<const float> noise_pred,
                            absl::Span<const float> neg_noise_pred,
                            double true_cfg_scale, absl::Span<float> out);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_GUIDANCE_H_
