// One step of FlowMatchEulerDiscreteScheduler.step as FluxPipeline calls it
// (deterministic sampling), and the timestep the transformer receives.
#ifndef KILN_RUNTIME_PIPELINE_EULER_STEP_H_
#define KILN_RUNTIME_PIPELINE_EULER_STEP_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/pipeline/sigma_schedule.h"

namespace kiln::pipeline {

// prev = sample + (sigma_next - sigma) * model_output, elementwise in
// float32: diffusers upcasts the sample to float32, takes dt as a float32
// difference of two schedule entries, then multiplies and adds with one
// rounding each. (With a bfloat16 model_output torch would form
// dt * model_output in bfloat16; Kiln's predictions are float32.)
// `prev` may alias `sample`. Errors: InvalidArgument when the three sizes
// differ.
absl::Status EulerStep(absl::Span<const float> sample,
                       absl::Span<const float> model_output, float sigma,
                       float sigma_next, absl::Span<float> prev);

// The same for step `step_index` of `schedule` (FluxPipeline sets the begin
// index to 0, so iteration i uses sigmas[i] and sigmas[i + 1]). Errors:
// also OutOfRange for a step outside [0, num_steps).
absl::Status EulerStep(const SigmaSchedule& schedule, int64_t step_index,
                       absl::Span<const float> sample,
                       absl::Span<const float> model_output,
                       absl::Span<float> prev);

// The transformer's `timestep` input for schedule timestep t:
// `t.expand(B).to(latents.dtype) / 1000` in float32. The divisor is a
// literal 1000 in the pipeline, not num_train_timesteps, and t / 1000 need
// not round back to the sigma t came from.
float TransformerTimestep(float timestep);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_EULER_STEP_H_
