// The settings of diffusers' FlowMatchEulerDiscreteScheduler that change the
// sigmas FluxPipeline and FluxKontextPipeline denoise with, read from a
// scheduler/scheduler_config.json.
#ifndef KILN_RUNTIME_PIPELINE_SCHEDULER_CONFIG_H_
#define KILN_RUNTIME_PIPELINE_SCHEDULER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/io/json_config.h"

namespace kiln::pipeline {

// How `mu` shifts the sigmas under use_dynamic_shifting.
enum class TimeShiftType {
  kExponential,  // e^mu / (e^mu + (1/t - 1))
  kLinear,       // mu / (mu + (1/t - 1))
};

// The defaults are FlowMatchEulerDiscreteScheduler.__init__'s, used for keys
// the file lacks (diffusers does the same when it loads an older config).
struct SchedulerConfig {
  int64_t num_train_timesteps = 1000;
  // The static shift, used only when use_dynamic_shifting is false.
  double shift = 1.0;
  bool use_dynamic_shifting = false;
  // FluxPipeline's calculate_shift maps image_seq_len linearly from
  // (base_image_seq_len, base_shift) to (max_image_seq_len, max_shift); it
  // computes mu even when the scheduler then ignores it.
  double base_shift = 0.5;
  double max_shift = 1.15;
  int64_t base_image_seq_len = 256;
  int64_t max_image_seq_len = 4096;
  TimeShiftType time_shift_type = TimeShiftType::kExponential;
  // Stretch the shifted sigmas so the last one equals this. diffusers tests
  // the value's truthiness, so 0.0 means "off" like null does.
  std::optional<double> shift_terminal;
};

// Reads the settings from a parsed config. Errors (InvalidArgument, naming
// the file and the key): a `_class_name` other than
// FlowMatchEulerDiscreteScheduler; any of use_karras_sigmas,
// use_exponential_sigmas, use_beta_sigmas, stochastic_sampling,
// invert_sigmas, use_flow_sigmas set to true (other schedules Kiln does not
// implement); a time_shift_type other than "exponential" or "linear"; a
// wrong JSON type; null base_shift or max_shift (FluxPipeline would fail on
// them); num_train_timesteps < 1; a shift that is not positive;
// base_image_seq_len == max_image_seq_len (calculate_shift divides by their
// difference); shift_terminal >= 1.
absl::StatusOr<SchedulerConfig> ParseSchedulerConfig(
    const io::JsonConfig& config);

// The same from JSON text; `source` names it in errors.
absl::StatusOr<SchedulerConfig> ParseSchedulerConfigText(
    const std::string& source, const std::string& text);

// The same from a file.
absl::StatusOr<SchedulerConfig> ReadSchedulerConfig(const std::string& path);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_SCHEDULER_CONFIG_H_
