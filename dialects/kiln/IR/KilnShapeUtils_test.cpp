//===- KilnShapeUtils_test.cpp - Shape arithmetic with dynamic dims -------===//

#include "dialects/kiln/IR/KilnShapeUtils.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"

#include <gtest/gtest.h>

namespace mlir::kiln {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(BroadcastShapes, AlignsFromTheRightAndStretchesOnes) {
  auto result = broadcastShapes({2, 1, 64}, {7, 1});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, (llvm::SmallVector<int64_t>{2, 7, 64}));
}

TEST(BroadcastShapes, ScalarBroadcastsToAnything) {
  auto result = broadcastShapes({}, {3, kDyn});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, (llvm::SmallVector<int64_t>{3, kDyn}));
}

TEST(BroadcastShapes, DynamicAgainstStaticTakesTheStaticSize) {
  auto result = broadcastShapes({kDyn, 64}, {5, 64});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, (llvm::SmallVector<int64_t>{5, 64}));
}

TEST(BroadcastShapes, DynamicAgainstOneStaysDynamic) {
  auto result = broadcastShapes({kDyn, 64}, {1, 64});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, (llvm::SmallVector<int64_t>{kDyn, 64}));
}

TEST(BroadcastShapes, RejectsDifferentStaticSizes) {
  EXPECT_FALSE(broadcastShapes({2, 3}, {4, 3}).has_value());
}

TEST(WindowOutputDim, MatchesPyTorchConvolutionSizes) {
  // 3x3, stride 1, padding 1 keeps the size.
  EXPECT_EQ(windowOutputDim(32, 1, 1, 3, 1), 32);
  // The VAE downsampler: pad (0, 1), 3x3, stride 2 halves an even size.
  EXPECT_EQ(windowOutputDim(32, 0, 1, 3, 2), 16);
  EXPECT_EQ(windowOutputDim(kDyn, 0, 1, 3, 2), kDyn);
  // A kernel larger than the padded input does not fit.
  EXPECT_FALSE(windowOutputDim(2, 0, 0, 3, 1).has_value());
  EXPECT_FALSE(windowOutputDim(8, 0, 0, 3, 0).has_value());
}

TEST(DivDimsExact, RequiresExactDivisionOfStaticSizes) {
  EXPECT_EQ(divDimsExact(12, 4), 3);
  EXPECT_EQ(divDimsExact(kDyn, 4), kDyn);
  EXPECT_FALSE(divDimsExact(10, 4).has_value());
  EXPECT_FALSE(divDimsExact(8, 0).has_value());
}

TEST(MulDims, PropagatesDynamic) {
  EXPECT_EQ(mulDims(3, 4), 12);
  EXPECT_EQ(mulDims(kDyn, 4), kDyn);
}

TEST(StaticElementCount, CountsOnlyFullyStaticShapes) {
  EXPECT_EQ(staticElementCount({2, 3, 4}), 24);
  EXPECT_EQ(staticElementCount({}), 1);
  EXPECT_FALSE(staticElementCount({2, kDyn}).has_value());
}

TEST(IsPermutation, AcceptsOnlyPermutationsOfTheRank) {
  EXPECT_TRUE(isPermutation({0, 2, 1, 3}, 4));
  EXPECT_FALSE(isPermutation({0, 1, 1}, 3));
  EXPECT_FALSE(isPermutation({0, 1}, 3));
  EXPECT_FALSE(isPermutation({0, 3, 1}, 3));
}

TEST(DimsCompatible, DynamicMatchesAnything) {
  EXPECT_TRUE(dimsCompatible(kDyn, 5));
  EXPECT_TRUE(dimsCompatible(5, 5));
  EXPECT_FALSE(dimsCompatible(4, 5));
  EXPECT_EQ(mergeDims(kDyn, 5), 5);
  EXPECT_EQ(mergeDims(5, kDyn), 5);
}

} // namespace
} // namespace mlir::kiln
