// The sigmas and timesteps FluxPipeline / FluxKontextPipeline denoise with
// (diffusers 0.42.1, step 5 of __call__):
//
//   sigmas = np.linspace(1.0, 1 / num_inference_steps, num_inference_steps)
//   mu = calculate_shift(image_seq_len, <scheduler config>)
//   scheduler.set_timesteps(sigmas=sigmas, mu=mu)
//
// reproduced bit for bit, including where Python computes in float64 and
// where numpy/torch compute in float32 (see sigma_schedule.cc).
#ifndef KILN_RUNTIME_PIPELINE_SIGMA_SCHEDULE_H_
#define KILN_RUNTIME_PIPELINE_SIGMA_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/pipeline/scheduler_config.h"

namespace kiln::pipeline {

struct SigmaSchedule {
  // num_inference_steps + 1 values, the last one the appended terminal 0.
  // Step i goes from sigmas[i] to sigmas[i + 1].
  std::vector<float> sigmas;
  // num_inference_steps values: sigmas[i] * num_train_timesteps in float32.
  std::vector<float> timesteps;
  // The mu the schedule was shifted with (ignored without dynamic shifting).
  double mu = 0;

  int64_t num_steps() const { return static_cast<int64_t>(timesteps.size()); }
};

// FluxPipeline's calculate_shift, in float64 as Python computes it. For
// Kontext, image_seq_len counts the target's tokens only, not the
// references' (FluxKontextPipeline passes latents.shape[1]).
double CalculateShift(int64_t image_seq_len, const SchedulerConfig& config);

// np.linspace(1.0, 1 / n, n) in float64, bit for bit: numpy's
// start + i * step with the last value set to the stop. n >= 1.
std::vector<double> FluxDefaultSigmas(int64_t num_inference_steps);

// FlowMatchEulerDiscreteScheduler.set_timesteps(sigmas=sigmas, mu=mu) for
// the settings ParseSchedulerConfig accepts. Errors: InvalidArgument for no
// sigmas, or when the shifted schedule is not finite (a linear time shift
// with mu <= 0, say), naming mu.
absl::StatusOr<SigmaSchedule> SetTimesteps(const SchedulerConfig& config,
                                           absl::Span<const double> sigmas,
                                           double mu);

// The whole of step 5 above. Errors: InvalidArgument for
// num_inference_steps or image_seq_len < 1, and those of SetTimesteps.
absl::StatusOr<SigmaSchedule> FluxSigmaSchedule(const SchedulerConfig& config,
                                                int64_t num_inference_steps,
                                                int64_t image_seq_len);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_SIGMA_SCHEDULE_H_
