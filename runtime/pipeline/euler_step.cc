#include "runtime/pipeline/euler_step.h"

#include "absl/strings/str_cat.h"

namespace kiln::pipeline {

absl::Status EulerStep(absl::Span<const float> sample,
                       absl::Span<const float> model_output, float sigma,
                       float sigma_next, absl::Span<float> prev) {
  if (model_output.size() != sample.size() || prev.size() != sample.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Euler step: sample, model_output and prev must have the same size, "
        "found ",
        sample.size(), ", ", model_output.size(), " and ", prev.size()));
  }
  const float dt = sigma_next - sigma;
  for (size_t i = 0; i < sample.size(); ++i) {
    prev[i] = sample[i] + dt * model_output[i];
  }
  return absl::OkStatus();
}

absl::Status EulerStep(const SigmaSchedule& schedule, int64_t step_index,
                       absl::Span<const float> sample,
                       absl::Span<const float> model_output,
                       absl::Span<float> prev) {
  if (step_index < 0 || step_index >= schedule.num_steps() ||
      schedule.sigmas.size() != schedule.timesteps.size() + 1) {
    return absl::OutOfRangeError(absl::StrCat("Euler step: step ", step_index,
                                              " is outside the schedule's ",
                                              schedule.num_steps(), " steps"));
  }
  return EulerStep(sample, model_output, schedule.sigmas[step_index],
                   schedule.sigmas[step_index + 1], prev);
}

float TransformerTimestep(float timestep) { return timestep / 1000.0f; }

}  // namespace kiln::pipeline
