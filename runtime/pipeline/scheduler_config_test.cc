#include "runtime/pipeline/scheduler_config.h"

#include <string>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;

absl::StatusOr<SchedulerConfig> Parse(const std::string& text) {
  return ParseSchedulerConfigText("scheduler_config.json", text);
}

// Tests the tiny checkpoint's file (FLUX.1-dev's settings).
TEST(SchedulerConfigTest, ReadsTinyFluxConfig) {
  auto config = ReadSchedulerConfig(
      testing::GoldenPath("tiny-flux/scheduler/scheduler_config.json"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->num_train_timesteps, 1000);
  EXPECT_EQ(config->shift, 3.0);
  EXPECT_TRUE(config->use_dynamic_shifting);
  EXPECT_EQ(config->base_shift, 0.5);
  EXPECT_EQ(config->max_shift, 1.15);
  EXPECT_EQ(config->base_image_seq_len, 256);
  EXPECT_EQ(config->max_image_seq_len, 4096);
  EXPECT_EQ(config->time_shift_type, TimeShiftType::kExponential);
  EXPECT_FALSE(config->shift_terminal.has_value());
}

// Tests that absent keys take FlowMatchEulerDiscreteScheduler's defaults.
TEST(SchedulerConfigTest, EmptyObjectGivesDiffusersDefaults) {
  auto config = Parse("{}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->num_train_timesteps, 1000);
  EXPECT_EQ(config->shift, 1.0);
  EXPECT_FALSE(config->use_dynamic_shifting);
  EXPECT_EQ(config->base_shift, 0.5);
  EXPECT_EQ(config->max_shift, 1.15);
  EXPECT_EQ(config->base_image_seq_len, 256);
  EXPECT_EQ(config->max_image_seq_len, 4096);
  EXPECT_EQ(config->time_shift_type, TimeShiftType::kExponential);
  EXPECT_FALSE(config->shift_terminal.has_value());
}

// Tests the values that change the schedule: linear shift, a terminal.
TEST(SchedulerConfigTest, ReadsLinearShiftAndTerminal) {
  auto config = Parse(
      R"({"time_shift_type": "linear", "shift_terminal": 0.02, "shift": 2,)"
      R"( "num_train_timesteps": 500, "use_karras_sigmas": false})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->time_shift_type, TimeShiftType::kLinear);
  ASSERT_TRUE(config->shift_terminal.has_value());
  EXPECT_EQ(*config->shift_terminal, 0.02);
  EXPECT_EQ(config->shift, 2.0);
  EXPECT_EQ(config->num_train_timesteps, 500);
}

// Tests that diffusers' truthiness test is kept: 0.0 and null mean no
// terminal stretch.
TEST(SchedulerConfigTest, ZeroOrNullShiftTerminalIsOff) {
  for (const char* text :
       {R"({"shift_terminal": 0.0})", R"({"shift_terminal": null})"}) {
    auto config = Parse(text);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_FALSE(config->shift_terminal.has_value()) << text;
  }
}

// Tests that every option selecting another schedule or sampler is refused
// by name when on.
TEST(SchedulerConfigTest, RejectsOtherSchedules) {
  for (const char* flag :
       {"use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
        "stochastic_sampling", "invert_sigmas", "use_flow_sigmas"}) {
    auto config = Parse(std::string(R"({")") + flag + R"(": true})");
    EXPECT_TRUE(
        IsErrorWith(config, std::string("scheduler_config.json: key '") + flag +
                                "' has unsupported value true"))
        << flag;
    EXPECT_TRUE(IsErrorWith(config, "expected false")) << flag;
  }
}

// Tests the remaining bad values, each named in the message.
TEST(SchedulerConfigTest, RejectsBadValues) {
  EXPECT_TRUE(IsErrorWith(Parse(R"({"_class_name": "EulerDiscreteScheduler"})"),
                          "key '_class_name' has unsupported value "
                          "\"EulerDiscreteScheduler\""));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"time_shift_type": "cosine"})"),
                          "key 'time_shift_type' has unsupported value "
                          "\"cosine\" (a string), expected \"exponential\" "
                          "or \"linear\""));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"base_shift": null})"),
                          "key 'base_shift' has unsupported value null"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"max_shift": null})"),
                          "key 'max_shift' has unsupported value null"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"shift_terminal": 1.0})"),
                          "key 'shift_terminal' has unsupported value 1.0"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"num_train_timesteps": 0})"),
                          "key 'num_train_timesteps' has unsupported value 0"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"shift": 0})"),
                          "key 'shift' has unsupported value 0"));
  EXPECT_TRUE(IsErrorWith(
      Parse(R"({"base_image_seq_len": 512, "max_image_seq_len": 512})"),
      "key 'max_image_seq_len' has unsupported value 512"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"shift": "3.0"})"), "key 'shift'"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"use_dynamic_shifting": 1})"),
                          "key 'use_dynamic_shifting'"));
  EXPECT_TRUE(IsErrorWith(Parse(R"({"base_image_seq_len": 256.5})"),
                          "key 'base_image_seq_len'"));
}

// Tests text that is not a JSON object, and a missing file.
TEST(SchedulerConfigTest, RejectsNonObjectsAndMissingFiles) {
  EXPECT_TRUE(IsErrorWith(Parse("[1, 2]"),
                          "scheduler_config.json: expected a JSON object"));
  EXPECT_TRUE(IsErrorWith(Parse("{"), "scheduler_config.json"));
  EXPECT_TRUE(IsErrorWith(ReadSchedulerConfig("/nonexistent/config.json"),
                          "/nonexistent/config.json"));
}

}  // namespace
}  // namespace kiln::pipeline
