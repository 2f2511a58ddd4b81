//===- KilnOps_test.cpp - Building kiln ops from C++ ----------------------===//
//
// Frontends build kiln IR through the C++ builders, which infer result types;
// these tests pin that behaviour (dynamic dims, refinement) and check that
// the verifier's messages reach a diagnostic handler.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

namespace mlir::kiln {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

class KilnOpsTest : public ::testing::Test {
protected:
  KilnOpsTest() : builder(&context) {
    context.loadDialect<KilnDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToStart(module->getBody());
  }

  /// A value of the given f32 tensor type (possibly dynamic), as an entry
  /// point's argument would be; an operand-less cast stands in for it.
  Value input(ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, builder.getF32Type());
    return UnrealizedConversionCastOp::create(builder, builder.getUnknownLoc(),
                                              TypeRange{type}, ValueRange{})
        .getResult(0);
  }

  /// A named parameter; weights always have static shapes.
  Value weight(ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, builder.getF32Type());
    std::string name = "w" + std::to_string(counter++);
    return WeightOp::create(builder, builder.getUnknownLoc(), type, name);
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  int counter = 0;
};

TEST_F(KilnOpsTest, LinearKeepsDynamicLeadingDims) {
  auto op = LinearOp::create(builder, builder.getUnknownLoc(),
                             input({1, kDyn, 64}), weight({128, 64}),
                             weight({128}));
  EXPECT_EQ(op.getType().getShape(), (ArrayRef<int64_t>{1, kDyn, 128}));
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(KilnOpsTest, AttentionTakesHeadDimFromValue) {
  Value q = input({2, kDyn, 4, 16});
  Value v = input({2, kDyn, 4, 8});
  auto op = AttentionOp::create(builder, builder.getUnknownLoc(), q, q, v,
                                Value(), FloatAttr(), false);
  EXPECT_EQ(op.getType().getShape(), (ArrayRef<int64_t>{2, kDyn, 4, 8}));
}

TEST_F(KilnOpsTest, PatchifyOfDynamicLatentHasDynamicSequence) {
  auto op = PatchifyOp::create(builder, builder.getUnknownLoc(),
                               input({1, 16, kDyn, 24}), 2);
  EXPECT_EQ(op.getType().getShape(), (ArrayRef<int64_t>{1, kDyn, 64}));
}

TEST_F(KilnOpsTest, RopeFrequenciesSumTheAxes) {
  auto op = RopeFrequenciesOp::create(
      builder, builder.getUnknownLoc(), input({kDyn, 3}),
      builder.getDenseI64ArrayAttr({16, 56, 56}),
      builder.getF64FloatAttr(10000.0));
  EXPECT_EQ(op.getCos().getType(),
            RankedTensorType::get({kDyn, 128}, builder.getF32Type()));
  EXPECT_EQ(op.getSin().getType(), op.getCos().getType());
}

TEST_F(KilnOpsTest, BroadcastingMulTakesStaticSizes) {
  auto op = MulOp::create(builder, builder.getUnknownLoc(),
                          input({1, kDyn, 64}), input({1, 1, 64}));
  EXPECT_EQ(op.getType().getShape(), (ArrayRef<int64_t>{1, kDyn, 64}));
}

TEST_F(KilnOpsTest, VerifierReportsMismatchedLinearWithItsReason) {
  // Build an inconsistent op through the generic path (the typed builder
  // would refuse to infer) and check what the verifier says about it.
  OperationState state(builder.getUnknownLoc(), LinearOp::getOperationName());
  state.addOperands({input({2, 5}), weight({8, 4})});
  state.addTypes(RankedTensorType::get({2, 8}, builder.getF32Type()));
  Operation *op = builder.create(state);
  ASSERT_TRUE(op);

  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (message.empty())
      message = diag.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(op)));
  EXPECT_NE(message.find("expects weight in_features (4) to equal the "
                         "input's last dimension (5)"),
            std::string::npos)
      << message;
}

TEST_F(KilnOpsTest, CompatibleTypesAllowRefinementButNotDisagreement) {
  Type f32 = builder.getF32Type();
  Type dynamic = RankedTensorType::get({1, kDyn}, f32);
  Type fixed = RankedTensorType::get({1, 24}, f32);
  Type other = RankedTensorType::get({1, 25}, f32);
  EXPECT_TRUE(areCompatibleTensorTypes(TypeRange{dynamic}, TypeRange{fixed}));
  EXPECT_FALSE(areCompatibleTensorTypes(TypeRange{fixed}, TypeRange{other}));
  EXPECT_FALSE(areCompatibleTensorTypes(
      TypeRange{fixed}, TypeRange{RankedTensorType::get({1, 24}, builder.getF16Type())}));
}

} // namespace
} // namespace mlir::kiln
