#include "runtime/pipeline/vae_scaling.h"

#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;
using testing::MaxUlpDistance;

// Tests both directions against diffusers with the tiny checkpoint's VAE
// config, bit-identical.
TEST(VaeScalingTest, MatchesDiffusers) {
  auto scaling =
      ReadVaeLatentScaling(testing::GoldenPath("tiny-flux/vae/config.json"));
  ASSERT_TRUE(scaling.ok()) << scaling.status();
  EXPECT_EQ(scaling->shift_factor, 0.1159);
  EXPECT_EQ(scaling->scaling_factor, 0.3611);
  auto file = testing::OpenCase("sampler", "vae_scaling");
  ASSERT_NE(file, nullptr);
  std::vector<float> x = F32(*file, "in.latents");
  NormalizeLatents(*scaling, absl::MakeSpan(x));
  EXPECT_EQ(MaxUlpDistance(x, F32(*file, "out.normalized")), 0);
  x = F32(*file, "in.latents");
  DenormalizeLatents(*scaling, absl::MakeSpan(x));
  EXPECT_EQ(MaxUlpDistance(x, F32(*file, "out.denormalized")), 0);
}

TEST(VaeScalingTest, RejectsMissingOrBadFactors) {
  auto parse = [](const char* text) {
    return ParseVaeLatentScaling(
        io::JsonConfig("vae/config.json", nlohmann::json::parse(text)));
  };
  EXPECT_TRUE(
      IsErrorWith(parse(R"({"scaling_factor": 0.3611})"), "vae/config.json"));
  EXPECT_TRUE(
      IsErrorWith(parse(R"({"scaling_factor": 0.3611})"), "shift_factor"));
  EXPECT_TRUE(
      IsErrorWith(parse(R"({"shift_factor": null, "scaling_factor": 0.3611})"),
                  "shift_factor"));
  EXPECT_TRUE(
      IsErrorWith(parse(R"({"shift_factor": 0.1, "scaling_factor": 0})"),
                  "key 'scaling_factor' has unsupported value 0"));
}

}  // namespace
}  // namespace kiln::pipeline
