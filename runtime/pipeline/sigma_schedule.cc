// Precision: diffusers' set_timesteps first casts the float64 sigmas to a
// float32 numpy array; under numpy 2's promotion rules (NEP 50) every later
// expression with a Python float (shift, exp(mu), 1 - shift_terminal) rounds
// that float to float32 and computes in float32, one rounding per
// operation. The Python floats themselves (mu, exp(mu), shift - 1,
// 1 - shift_terminal) are float64. This file mirrors each rounding; the
// library builds with -ffp-contract=off so no multiply-add gets fused.
#include "runtime/pipeline/sigma_schedule.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace kiln::pipeline {
namespace {

float F32(double value) { return static_cast<float>(value); }

// Step 2 of set_timesteps for one float32 sigma t. The dynamic shifts are
// time_shift(mu, 1.0, t): the power (1/t - 1) ** 1.0 is exact, so it is
// left out.
float ShiftSigma(const SchedulerConfig& config, float exp_mu, float mu,
                 float t) {
  if (config.use_dynamic_shifting) {
    float odds = 1.0f / t - 1.0f;
    if (config.time_shift_type == TimeShiftType::kExponential) {
      return exp_mu / (exp_mu + odds);
    }
    return mu / (mu + odds);
  }
  // shift * sigmas / (1 + (shift - 1) * sigmas), evaluated left to right.
  float shift = F32(config.shift);
  float shift_minus_one = F32(config.shift - 1.0);
  return shift * t / (1.0f + shift_minus_one * t);
}

}  // namespace

double CalculateShift(int64_t image_seq_len, const SchedulerConfig& config) {
  double m =
      (config.max_shift - config.base_shift) /
      static_cast<double>(config.max_image_seq_len - config.base_image_seq_len);
  double b =
      config.base_shift - m * static_cast<double>(config.base_image_seq_len);
  return static_cast<double>(image_seq_len) * m + b;
}

std::vector<double> FluxDefaultSigmas(int64_t num_inference_steps) {
  const int64_t n = num_inference_steps;
  const double start = 1.0;
  const double stop = 1.0 / static_cast<double>(n);
  std::vector<double> sigmas(n > 0 ? n : 0);
  if (n == 1) sigmas[0] = start;  // numpy: 0 * delta + start
  if (n < 2) return sigmas;
  const double step = (stop - start) / static_cast<double>(n - 1);
  for (int64_t i = 0; i < n; ++i) {
    sigmas[i] = static_cast<double>(i) * step + start;
  }
  sigmas[n - 1] = stop;
  return sigmas;
}

absl::StatusOr<SigmaSchedule> SetTimesteps(const SchedulerConfig& config,
                                           absl::Span<const double> sigmas,
                                           double mu) {
  if (sigmas.empty()) {
    return absl::InvalidArgumentError(
        "set_timesteps: expected at least one sigma, found none");
  }
  SigmaSchedule out;
  out.mu = mu;
  out.sigmas.reserve(sigmas.size() + 1);
  const float exp_mu = F32(std::exp(mu));
  for (double sigma : sigmas) {
    out.sigmas.push_back(ShiftSigma(config, exp_mu, F32(mu), F32(sigma)));
  }
  if (config.shift_terminal.has_value()) {
    // stretch_shift_to_terminal: 1 - (1 - t) / ((1 - t[-1]) / (1 - terminal)).
    const float scale =
        (1.0f - out.sigmas.back()) / F32(1.0 - *config.shift_terminal);
    for (float& t : out.sigmas) t = 1.0f - (1.0f - t) / scale;
  }
  const float train_steps =
      F32(static_cast<double>(config.num_train_timesteps));
  for (size_t i = 0; i < out.sigmas.size(); ++i) {
    if (!std::isfinite(out.sigmas[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "set_timesteps: sigma ", i, " of ", out.sigmas.size(),
          " is not finite (", out.sigmas[i], ") with mu = ", mu,
          "; expected a finite schedule (a linear time shift needs mu > 0)"));
    }
    out.timesteps.push_back(out.sigmas[i] * train_steps);
  }
  out.sigmas.push_back(0.0f);
  return out;
}

absl::StatusOr<SigmaSchedule> FluxSigmaSchedule(const SchedulerConfig& config,
                                                int64_t num_inference_steps,
                                                int64_t image_seq_len) {
  if (num_inference_steps < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_inference_steps is ", num_inference_steps, ", expected >= 1"));
  }
  if (image_seq_len < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("image_seq_len is ", image_seq_len, ", expected >= 1"));
  }
  return SetTimesteps(config, FluxDefaultSigmas(num_inference_steps),
                      CalculateShift(image_seq_len, config));
}

}  // namespace kiln::pipeline
