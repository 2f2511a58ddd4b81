//===- ExpandFp8.cpp - e4m3 to f32 as integer operations -----------------===//
//
// LLVM has no FP8 type: MLIR's LLVM lowering stores f8E4M3FN as i8 and has
// no pattern for arith.extf from it. This pass rewrites each such extf
// (scalar or vector, as the vectorizer emits them while packing an FP8
// weight) into the bit operations of the conversion, which vectorize:
//   sign << 24 | (exponent + 120) << 23 | mantissa << 20   for normals,
//   mantissa * 2^-9 with the sign                           for subnormals,
//   a quiet NaN with the sign                               for S.1111.111.
// Used by the CPU and CUDA kernel pipelines and the JIT host lowering.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_EXPANDFP8PASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

/// `type` (a scalar or vector type) with element type `element`.
Type withElement(Type type, Type element) {
  if (auto vec = dyn_cast<VectorType>(type))
    return vec.clone(element);
  return element;
}

/// `scalar` as a constant of `type`: itself, or splat when `type` is a vector.
Value constant(OpBuilder &b, Location loc, Type type, TypedAttr scalar) {
  if (auto vec = dyn_cast<VectorType>(type))
    scalar = SplatElementsAttr::get(vec, scalar);
  return arith::ConstantOp::create(b, loc, scalar);
}

/// f32 of the e4m3 values `in` (any shape).
Value expandE4M3(OpBuilder &b, Location loc, Value in) {
  Type type = in.getType();
  Type i8 = withElement(type, b.getI8Type());
  Type i32 = withElement(type, b.getI32Type());
  Type f32 = withElement(type, b.getF32Type());
  Value bits = arith::ExtUIOp::create(
      b, loc, i32, arith::BitcastOp::create(b, loc, i8, in));
  auto c = [&](int64_t v) {
    return constant(b, loc, i32, b.getI32IntegerAttr(v));
  };
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, bits, c(0x80)), c(24));
  Value exponent = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, bits, c(3)), c(0xf));
  Value mantissa = arith::AndIOp::create(b, loc, bits, c(7));
  Value normal = arith::OrIOp::create(
      b, loc,
      arith::ShLIOp::create(
          b, loc, arith::AddIOp::create(b, loc, exponent, c(120)), c(23)),
      arith::ShLIOp::create(b, loc, mantissa, c(20)));
  Value subnormal = arith::BitcastOp::create(
      b, loc, i32,
      arith::MulFOp::create(b, loc, arith::UIToFPOp::create(b, loc, f32, mantissa),
                            constant(b, loc, f32, b.getF32FloatAttr(1.0 / 512))));
  Value isSubnormal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            exponent, c(0));
  Value isNan = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::AndIOp::create(b, loc, bits, c(0x7f)), c(0x7f));
  Value magnitude = arith::SelectOp::create(
      b, loc, isNan, c(0x7fc00000),
      arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal));
  return arith::BitcastOp::create(
      b, loc, f32, arith::OrIOp::create(b, loc, magnitude, sign));
}

struct ExpandE4M3Extension : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<Float8E4M3FNType>(getElementTypeOrSelf(op.getIn().getType())))
      return failure();
    Value f32 = expandE4M3(rewriter, op.getLoc(), op.getIn());
    // f16 and bf16 hold every e4m3 value exactly: truncating is exact.
    Type element = getElementTypeOrSelf(op.getType());
    if (element.getIntOrFloatBitWidth() > 32)
      f32 = arith::ExtFOp::create(rewriter, op.getLoc(), op.getType(), f32);
    else if (element.getIntOrFloatBitWidth() < 32)
      f32 = arith::TruncFOp::create(rewriter, op.getLoc(), op.getType(), f32);
    rewriter.replaceOp(op, f32);
    return success();
  }
};

struct ExpandFp8Pass : impl::ExpandFp8PassBase<ExpandFp8Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandE4M3Extension>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
