#include "runtime/pipeline/sigma_schedule.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;
using testing::I64;
using testing::MaxUlpDistance;

// The sigmas_* cases of one folder of test/goldens/cases/, sorted.
std::vector<std::string> SigmaCases(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(
           testing::GoldenPath("cases/" + dir))) {
    std::string name = entry.path().stem().string();
    if (absl::StartsWith(name, "sigmas_")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Compares FluxSigmaSchedule with one case; returns the worst ulp distance
// over sigmas and timesteps.
int64_t CheckCase(const std::string& dir, const std::string& name,
                  const SchedulerConfig& config) {
  SCOPED_TRACE(dir + "/" + name);
  auto file = testing::OpenCase(dir, name);
  if (file == nullptr) return INT64_MAX;
  const int64_t steps = I64(*file, "in.num_inference_steps").at(0);
  const int64_t seq = I64(*file, "in.image_seq_len").at(0);
  auto schedule = FluxSigmaSchedule(config, steps, seq);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  if (!schedule.ok()) return INT64_MAX;
  // mu is a Python float in both: it must agree to the bit.
  EXPECT_EQ(schedule->mu, testing::MetadataDouble(*file, "mu"));
  EXPECT_EQ(schedule->num_steps(), steps);
  EXPECT_EQ(schedule->sigmas.back(), 0.0f);
  return std::max(
      MaxUlpDistance(schedule->sigmas, F32(*file, "out.sigmas")),
      MaxUlpDistance(schedule->timesteps, F32(*file, "out.timesteps")));
}

// Tests the schedules diffusers' FluxPipeline + FlowMatchEulerDiscrete-
// Scheduler computed for several settings (each file carries its config):
// dynamic exponential and linear shifts, static shifts, shift_terminal,
// other shift ranges, 1 to 50 steps, sequence lengths inside and outside
// [base_image_seq_len, max_image_seq_len]. Bit-identical in float32.
TEST(SigmaScheduleTest, MatchesDiffusersForEverySetting) {
  const std::vector<std::string> cases = SigmaCases("sampler");
  EXPECT_GE(cases.size(), 15u);
  int64_t worst = 0;
  for (const std::string& name : cases) {
    auto file = testing::OpenCase("sampler", name);
    ASSERT_NE(file, nullptr);
    auto config = ParseSchedulerConfigText(
        name, testing::Metadata(*file, "scheduler_config"));
    ASSERT_TRUE(config.ok()) << config.status();
    worst = std::max(worst, CheckCase("sampler", name, *config));
  }
  EXPECT_EQ(worst, 0) << "max ulp distance over " << cases.size() << " cases";
}

// Tests the older pipeline/ cases, made with the tiny checkpoint's config.
TEST(SigmaScheduleTest, MatchesPipelineGoldens) {
  auto config = ReadSchedulerConfig(
      testing::GoldenPath("tiny-flux/scheduler/scheduler_config.json"));
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<std::string> cases = SigmaCases("pipeline");
  EXPECT_EQ(cases.size(), 3u);
  for (const std::string& name : cases) {
    EXPECT_EQ(CheckCase("pipeline", name, *config), 0);
    auto file = testing::OpenCase("pipeline", name);
    ASSERT_NE(file, nullptr);
    const int64_t seq = I64(*file, "in.image_seq_len").at(0);
    EXPECT_EQ(static_cast<float>(CalculateShift(seq, *config)),
              F32(*file, "out.mu").at(0));
  }
}

// Tests np.linspace(1.0, 1/7, 7) to the bit (values printed by numpy 2.4.6,
// whose i * step + start rounds differently from start + i * (stop -
// start) / (n - 1) in some places), and the one-step case.
TEST(SigmaScheduleTest, DefaultSigmasAreNumpyLinspace) {
  EXPECT_EQ(FluxDefaultSigmas(7),
            (std::vector<double>{0x1.0000000000000p+0, 0x1.b6db6db6db6dbp-1,
                                 0x1.6db6db6db6db6p-1, 0x1.2492492492492p-1,
                                 0x1.b6db6db6db6dap-2, 0x1.2492492492490p-2,
                                 0x1.2492492492492p-3}));
  EXPECT_EQ(FluxDefaultSigmas(1), std::vector<double>{1.0});
  EXPECT_EQ(FluxDefaultSigmas(2), (std::vector<double>{1.0, 0.5}));
}

// Tests calculate_shift's end points with FLUX.1's settings.
TEST(SigmaScheduleTest, CalculateShiftInterpolatesTheShiftRange) {
  SchedulerConfig config;
  EXPECT_DOUBLE_EQ(CalculateShift(256, config), 0.5);
  EXPECT_DOUBLE_EQ(CalculateShift(4096, config), 1.15);
  EXPECT_DOUBLE_EQ(CalculateShift(2176, config), 0.825);
}

// Tests the argument errors and a schedule that is not finite.
TEST(SigmaScheduleTest, RejectsBadArguments) {
  SchedulerConfig config;
  EXPECT_TRUE(IsErrorWith(FluxSigmaSchedule(config, 0, 1024),
                          "num_inference_steps is 0, expected >= 1"));
  EXPECT_TRUE(IsErrorWith(FluxSigmaSchedule(config, 4, 0),
                          "image_seq_len is 0, expected >= 1"));
  EXPECT_TRUE(IsErrorWith(SetTimesteps(config, {}, 0.5),
                          "expected at least one sigma"));
  config.use_dynamic_shifting = true;
  config.time_shift_type = TimeShiftType::kLinear;
  EXPECT_TRUE(IsErrorWith(SetTimesteps(config, {1.0, 0.5}, 0.0),
                          "sigma 0 of 2 is not finite (nan) with mu = 0"));
}

}  // namespace
}  // namespace kiln::pipeline
