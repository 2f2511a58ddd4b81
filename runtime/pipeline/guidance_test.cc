#include "runtime/pipeline/guidance.h"

#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;
using testing::MaxUlpDistance;

// Tests FluxPipeline's `neg + true_cfg_scale * (pos - neg)` for three scales
// and its guidance input, bit-identical.
TEST(GuidanceTest, MatchesDiffusersTrueCfgAndGuidance) {
  for (const char* name : {"true_cfg_1p5", "true_cfg_4p0", "true_cfg_7p25"}) {
    SCOPED_TRACE(name);
    auto file = testing::OpenCase("sampler", name);
    ASSERT_NE(file, nullptr);
    const std::vector<float> pos = F32(*file, "in.noise_pred");
    const std::vector<float> neg = F32(*file, "in.neg_noise_pred");
    std::vector<float> out(pos.size());
    ASSERT_TRUE(CombineTrueCfg(pos, neg,
                               testing::MetadataDouble(*file, "true_cfg_scale"),
                               absl::MakeSpan(out))
                    .ok());
    EXPECT_EQ(MaxUlpDistance(out, F32(*file, "out.noise_pred")), 0);
    EXPECT_EQ(
        GuidanceInput(testing::MetadataDouble(*file, "guidance_scale"), 2),
        F32(*file, "out.guidance"));
  }
}

// Tests when FluxPipeline makes the second (negative) transformer call.
TEST(GuidanceTest, TrueCfgNeedsScaleAboveOneAndANegativePrompt) {
  EXPECT_TRUE(UsesTrueCfg(4.0, true));
  EXPECT_FALSE(UsesTrueCfg(1.0, true));
  EXPECT_FALSE(UsesTrueCfg(4.0, false));
}

// Tests that the result may overwrite an input, and size mismatches.
TEST(GuidanceTest, CombinesInPlaceAndRejectsSizeMismatch) {
  std::vector<float> pos = {2.0f, 1.0f}, neg = {1.0f, 3.0f};
  ASSERT_TRUE(CombineTrueCfg(pos, neg, 3.0, absl::MakeSpan(pos)).ok());
  EXPECT_EQ(pos, (std::vector<float>{4.0f, -3.0f}));
  std::vector<float> short_neg(1), out(2);
  EXPECT_TRUE(IsErrorWith(
      CombineTrueCfg(pos, short_neg, 3.0, absl::MakeSpan(out)),
      "true CFG: noise_pred, neg_noise_pred and out must have the same size, "
      "found 2, 1 and 2"));
}

}  // namespace
}  // namespace kiln::pipeline
