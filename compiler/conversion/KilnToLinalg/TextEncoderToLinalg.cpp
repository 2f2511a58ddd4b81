//===- TextEncoderToLinalg.cpp - T5 buckets, argmax, token gather ---------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

namespace mlir::kiln {
namespace {

/// transformers' T5Attention._relative_position_bucket, step for step and
/// in float32 where it uses float32, so bucket boundaries agree exactly.
struct LowerRelativePositionBuckets
    : OpRewritePattern<RelativePositionBucketsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RelativePositionBucketsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool bidirectional = op.getBidirectional();
    int64_t buckets = bidirectional ? op.getNumBuckets() / 2 : op.getNumBuckets();
    int64_t maxExact = buckets / 2;
    float logRange = static_cast<float>(
        std::log(double(op.getMaxDistance()) / double(maxExact)));
    Type i64 = rewriter.getI64Type();
    Value init = emptyTensor(rewriter, loc, {op.getQueryLen(), op.getKeyLen()},
                             i64);
    Value result = generic(
        rewriter, loc, ValueRange{}, init, {rewriter.getMultiDimIdentityMap(2)},
        iterators(2), [&](OpBuilder &b, Location l, ValueRange) {
          auto c = [&](int64_t v) {
            return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(v));
          };
          auto f = [&](float v) { return floatConstant(b, l, b.getF32Type(), v); };
          auto asI64 = [&](Value index) {
            return arith::IndexCastOp::create(b, l, i64, index);
          };
          Value i = asI64(linalg::IndexOp::create(b, l, 0));
          Value j = asI64(linalg::IndexOp::create(b, l, 1));
          Value rel = arith::SubIOp::create(b, l, j, i);
          Value base = c(0);
          if (bidirectional) {
            Value after = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt,
                                                rel, c(0));
            base = arith::SelectOp::create(b, l, after, c(buckets), c(0));
            rel = arith::SelectOp::create(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, rel,
                                            c(0)),
                arith::SubIOp::create(b, l, c(0), rel), rel);
          } else {
            rel = arith::SubIOp::create(b, l, c(0),
                                        arith::MinSIOp::create(b, l, rel, c(0)));
          }
          Value small = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                              rel, c(maxExact));
          Value ratio = arith::DivFOp::create(
              b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), rel),
              f(float(maxExact)));
          Value scaled = arith::MulFOp::create(
              b, l,
              arith::DivFOp::create(b, l, math::LogOp::create(b, l, ratio),
                                    f(logRange)),
              f(float(buckets - maxExact)));
          // Positions below max_exact make log() -inf or NaN here; the
          // select below discards them, but the conversion must not trap.
          Value clampedF = arith::MaximumFOp::create(b, l, scaled, f(0.0f));
          Value large = arith::AddIOp::create(
              b, l, c(maxExact), arith::FPToSIOp::create(b, l, i64, clampedF));
          large = arith::MinSIOp::create(b, l, large, c(buckets - 1));
          Value bucket = arith::SelectOp::create(b, l, small, rel, large);
          yieldValue(b, l, arith::AddIOp::create(b, l, base, bucket));
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// First index of the maximum along the last dimension (compared as f64,
/// exact for token ids).
struct LowerArgmax : OpRewritePattern<ArgmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ArgmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    unsigned rank = cast<RankedTensorType>(x.getType()).getRank();
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, x);
    sizes.pop_back();
    Type f64 = rewriter.getF64Type(), i64 = rewriter.getI64Type();
    Value best = filledTensor(rewriter, loc, sizes, f64,
                              -std::numeric_limits<double>::infinity());
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getI64IntegerAttr(0));
    Value index = linalg::FillOp::create(
                      rewriter, loc, zero, emptyTensor(rewriter, loc, sizes, i64))
                      .getResult(0);
    SmallVector<unsigned> leading;
    for (unsigned d = 0; d + 1 < rank; ++d)
      leading.push_back(d);
    AffineMap row = selectDims(rewriter.getContext(), rank, leading);
    auto argmax = linalg::GenericOp::create(
        rewriter, loc, TypeRange{best.getType(), index.getType()}, x,
        ValueRange{best, index},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank), row, row},
        iterators(rank - 1, 1), [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = args[0];
          if (isa<IntegerType>(v.getType()))
            v = arith::SIToFPOp::create(b, l, f64, v);
          else if (v.getType() != f64)
            v = arith::ExtFOp::create(b, l, f64, v);
          Value position = arith::IndexCastOp::create(
              b, l, i64, linalg::IndexOp::create(b, l, rank - 1));
          Value better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               v, args[1]);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, better, v, args[1]),
                         arith::SelectOp::create(b, l, better, position,
                                                 args[2])});
        });
    replaceWithCast(rewriter, op, argmax.getResult(1));
    return success();
  }
};

/// out[b, d] = input[b, clamp(positions[b]), d].
struct LowerGatherTokens : OpRewritePattern<GatherTokensOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherTokensOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    SmallVector<OpFoldResult> inSizes = sizesOf(rewriter, loc, input);
    Value last = arith::SubIOp::create(rewriter, loc,
                                       dimIndex(rewriter, loc, input, 1),
                                       indexConstant(rewriter, loc, 1));
    Value init = emptyTensor(rewriter, loc, {inSizes[0], inSizes[2]},
                             op.getType().getElementType());
    Value result = generic(
        rewriter, loc, op.getPositions(), init,
        {selectDims(rewriter.getContext(), 2, {0}),
         rewriter.getMultiDimIdentityMap(2)},
        iterators(2), [&](OpBuilder &b, Location l, ValueRange args) {
          Value p = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          p = arith::MinSIOp::create(
              b, l, arith::MaxSIOp::create(b, l, p, indexConstant(b, l, 0)),
              last);
          Value row = linalg::IndexOp::create(b, l, 0);
          Value d = linalg::IndexOp::create(b, l, 1);
          yieldValue(b, l,
                     tensor::ExtractOp::create(b, l, input,
                                               ValueRange{row, p, d}));
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

} // namespace

void populateTextEncoderToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRelativePositionBuckets, LowerArgmax, LowerGatherTokens>(
      patterns.getContext());
}

} // namespace mlir::kiln
