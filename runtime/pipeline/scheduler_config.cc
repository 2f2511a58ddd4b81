#include "runtime/pipeline/scheduler_config.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::pipeline {
namespace {

constexpr char kSchedulerClass[] = "FlowMatchEulerDiscreteScheduler";

// Options that select another sigma schedule or sampler. They are off in
// every FLUX.1 / Kontext config; refusing them beats sampling with the
// wrong sigmas. use_flow_sigmas is not a FlowMatchEuler option, but
// FluxPipeline drops its own sigmas when a config sets it.
constexpr const char* kUnsupportedFlags[] = {
    "use_karras_sigmas",   "use_exponential_sigmas", "use_beta_sigmas",
    "stochastic_sampling", "invert_sigmas",          "use_flow_sigmas"};

// A double that may be absent (default) but not null: FluxPipeline passes
// config.get(key, default) to arithmetic, which fails on None.
absl::StatusOr<double> GetNonNullDouble(const io::JsonConfig& config,
                                        const std::string& key,
                                        double default_value) {
  auto it = config.json().find(key);
  if (it != config.json().end() && it->is_null()) {
    return config.UnsupportedValue(
        key, "expected a number (FluxPipeline computes mu from it)");
  }
  return config.GetDoubleOr(key, default_value);
}

}  // namespace

absl::StatusOr<SchedulerConfig> ParseSchedulerConfig(
    const io::JsonConfig& config) {
  KILN_ASSIGN_OR_RETURN(std::string class_name,
                        config.GetStringOr("_class_name", kSchedulerClass));
  if (class_name != kSchedulerClass) {
    return config.UnsupportedValue("_class_name",
                                   absl::StrCat("expected ", kSchedulerClass));
  }
  for (const char* flag : kUnsupportedFlags) {
    KILN_ASSIGN_OR_RETURN(bool on, config.GetBoolOr(flag, false));
    if (on) {
      return config.UnsupportedValue(
          flag,
          "expected false (Kiln implements only the default "
          "flow-matching sigmas and the deterministic Euler step)");
    }
  }

  SchedulerConfig out;
  KILN_ASSIGN_OR_RETURN(out.num_train_timesteps,
                        config.GetIntOr("num_train_timesteps", 1000));
  KILN_ASSIGN_OR_RETURN(out.shift, config.GetDoubleOr("shift", 1.0));
  KILN_ASSIGN_OR_RETURN(out.use_dynamic_shifting,
                        config.GetBoolOr("use_dynamic_shifting", false));
  KILN_ASSIGN_OR_RETURN(out.base_shift,
                        GetNonNullDouble(config, "base_shift", 0.5));
  KILN_ASSIGN_OR_RETURN(out.max_shift,
                        GetNonNullDouble(config, "max_shift", 1.15));
  KILN_ASSIGN_OR_RETURN(out.base_image_seq_len,
                        config.GetIntOr("base_image_seq_len", 256));
  KILN_ASSIGN_OR_RETURN(out.max_image_seq_len,
                        config.GetIntOr("max_image_seq_len", 4096));
  KILN_ASSIGN_OR_RETURN(std::string shift_type,
                        config.GetStringOr("time_shift_type", "exponential"));
  KILN_ASSIGN_OR_RETURN(double shift_terminal,
                        config.GetDoubleOr("shift_terminal", 0.0));

  if (shift_type == "exponential") {
    out.time_shift_type = TimeShiftType::kExponential;
  } else if (shift_type == "linear") {
    out.time_shift_type = TimeShiftType::kLinear;
  } else {
    return config.UnsupportedValue("time_shift_type",
                                   "expected \"exponential\" or \"linear\"");
  }
  if (out.num_train_timesteps < 1) {
    return config.UnsupportedValue("num_train_timesteps",
                                   "expected a positive integer");
  }
  if (!(out.shift > 0) || !std::isfinite(out.shift)) {
    return config.UnsupportedValue("shift", "expected a positive number");
  }
  if (out.base_image_seq_len == out.max_image_seq_len) {
    return config.UnsupportedValue(
        "max_image_seq_len",
        absl::StrCat("expected a value other than base_image_seq_len (",
                     out.base_image_seq_len,
                     "): the shift is interpolated between the two"));
  }
  if (shift_terminal != 0.0) {
    if (!(shift_terminal < 1.0) || !std::isfinite(shift_terminal)) {
      return config.UnsupportedValue(
          "shift_terminal", "expected a number below 1 (or null for none)");
    }
    out.shift_terminal = shift_terminal;
  }
  return out;
}

absl::StatusOr<SchedulerConfig> ParseSchedulerConfigText(
    const std::string& source, const std::string& text) {
  KILN_ASSIGN_OR_RETURN(nlohmann::json json,
                        io::ParseJson(source, text.data(), text.size()));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": expected a JSON object, found ", io::DescribeJson(json)));
  }
  return ParseSchedulerConfig(io::JsonConfig(source, std::move(json)));
}

absl::StatusOr<SchedulerConfig> ReadSchedulerConfig(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(io::JsonConfig config, io::JsonConfig::Read(path));
  return ParseSchedulerConfig(config);
}

}  // namespace kiln::pipeline
