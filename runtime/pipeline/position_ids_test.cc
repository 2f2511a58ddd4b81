#include "runtime/pipeline/position_ids.h"

#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;

// Tests FluxPipeline._prepare_latent_image_ids for a 4x6 grid.
TEST(PositionIdsTest, TargetIdsMatchDiffusers) {
  auto file = testing::OpenCase("pipeline", "pack_8x12");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(LatentImageIds({4, 6}, 0.0f), F32(*file, "out.img_ids"));
  auto ids = FluxImageIds({4, 6}, {});
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, F32(*file, "out.img_ids"));
}

// Tests FluxKontextPipeline's ids for a 64x96 target and a 6x10-latent
// reference: cat(target ids, reference ids with index 1).
TEST(PositionIdsTest, KontextSingleReferenceMatchesDiffusers) {
  auto file = testing::OpenCase("sampler", "kontext_ids_8x12_ref6x10");
  ASSERT_NE(file, nullptr);
  const TokenGrid reference{3, 5};
  auto ids = FluxImageIds({4, 6}, {&reference, 1});
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, F32(*file, "out.latent_ids"));
  EXPECT_EQ(testing::Shape(*file, "out.latent_ids"),
            (std::vector<int64_t>{24 + 15, 3}));
}

// Tests Kiln's convention for several references: reference k has index
// k + 1 and its own grid from (0, 0).
TEST(PositionIdsTest, SeveralReferencesGetIncreasingIndices) {
  const std::vector<TokenGrid> references = {{1, 2}, {2, 1}};
  auto ids = FluxImageIds({1, 1}, references);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<float>{0, 0, 0,              // target
                                      1, 0, 0, 1, 0, 1,     // reference 0
                                      2, 0, 0, 2, 1, 0}));  // reference 1
}

TEST(PositionIdsTest, TextIdsAreZeros) {
  EXPECT_EQ(TextIds(2), std::vector<float>(6, 0.0f));
  EXPECT_TRUE(TextIds(0).empty());
}

TEST(PositionIdsTest, RejectsEmptyGrids) {
  EXPECT_TRUE(IsErrorWith(FluxImageIds({0, 4}, {}),
                          "image ids: the target has a token grid of 0x4, "
                          "expected at least 1x1"));
  const std::vector<TokenGrid> references = {{2, 2}, {3, 0}};
  EXPECT_TRUE(IsErrorWith(FluxImageIds({2, 2}, references),
                          "image ids: reference 1 has a token grid of 3x0"));
}

}  // namespace
}  // namespace kiln::pipeline
