#include "runtime/pipeline/euler_step.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;
using testing::I64;
using testing::MaxUlpDistance;

// Tests scheduler.step at the first, a middle and the last step (sigma_next
// the appended 0), with the schedule computed here rather than read, and
// the transformer's timestep input; bit-identical.
TEST(EulerStepTest, MatchesDiffusersStep) {
  for (const char* name :
       {"euler_steps4_seq24_index1", "euler_steps4_seq24_index3",
        "euler_steps28_seq4096_index0"}) {
    SCOPED_TRACE(name);
    auto file = testing::OpenCase("sampler", name);
    ASSERT_NE(file, nullptr);
    auto config = ParseSchedulerConfigText(
        name, testing::Metadata(*file, "scheduler_config"));
    ASSERT_TRUE(config.ok()) << config.status();
    const int64_t index = I64(*file, "in.step_index").at(0);
    const std::vector<float> sample = F32(*file, "in.sample");
    const std::vector<float> model_output = F32(*file, "in.model_output");
    auto schedule =
        FluxSigmaSchedule(*config, I64(*file, "in.num_inference_steps").at(0),
                          I64(*file, "in.image_seq_len").at(0));
    ASSERT_TRUE(schedule.ok()) << schedule.status();
    EXPECT_EQ(schedule->sigmas[index], F32(*file, "in.sigma").at(0));
    EXPECT_EQ(schedule->sigmas[index + 1], F32(*file, "in.sigma_next").at(0));

    std::vector<float> prev(sample.size());
    ASSERT_TRUE(
        EulerStep(*schedule, index, sample, model_output, absl::MakeSpan(prev))
            .ok());
    EXPECT_EQ(MaxUlpDistance(prev, F32(*file, "out.prev_sample")), 0);

    const float timestep = schedule->timesteps[index];
    EXPECT_EQ(timestep, F32(*file, "in.timestep").at(0));
    for (float expected : F32(*file, "out.timestep_input")) {
      EXPECT_EQ(TransformerTimestep(timestep), expected);
    }
  }
}

// Tests that the output may overwrite the sample.
TEST(EulerStepTest, StepsInPlace) {
  std::vector<float> sample = {1.0f, -2.0f, 0.5f};
  const std::vector<float> velocity = {4.0f, 8.0f, -2.0f};
  ASSERT_TRUE(
      EulerStep(sample, velocity, 0.75f, 0.5f, absl::MakeSpan(sample)).ok());
  EXPECT_EQ(sample, (std::vector<float>{0.0f, -4.0f, 1.0f}));
}

// Tests size mismatches and step indices outside the schedule.
TEST(EulerStepTest, RejectsBadArguments) {
  std::vector<float> a(4), b(3), out(4);
  EXPECT_TRUE(IsErrorWith(EulerStep(a, b, 1.0f, 0.5f, absl::MakeSpan(out)),
                          "same size, found 4, 3 and 4"));
  SigmaSchedule schedule{{1.0f, 0.5f, 0.0f}, {1000.0f, 500.0f}, 0.0};
  EXPECT_TRUE(IsErrorWith(EulerStep(schedule, 2, a, a, absl::MakeSpan(out)),
                          "step 2 is outside the schedule's 2 steps"));
  EXPECT_TRUE(IsErrorWith(EulerStep(schedule, -1, a, a, absl::MakeSpan(out)),
                          "step -1 is outside"));
}

}  // namespace
}  // namespace kiln::pipeline
