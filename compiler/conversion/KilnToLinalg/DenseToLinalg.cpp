//===- DenseToLinalg.cpp - linear and attention to linalg -----------------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

namespace mlir::kiln {
namespace {

/// out[..., n] = bias[n] + sum_k x[..., k] * w[n, k].
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type elem = type.getElementType();
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    // Loops: the leading dims, n, then the reduction k.
    unsigned numLoops = rank + 1;
    unsigned n = rank - 1, k = rank;
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getInput());
    sizes.back() = rewriter.getIndexAttr(type.getShape().back());

    Value init;
    if (Value bias = op.getBias()) {
      AffineMap id = rewriter.getMultiDimIdentityMap(rank);
      init = generic(rewriter, loc, bias, emptyTensor(rewriter, loc, sizes, elem),
                     {selectDims(ctx, rank, {rank - 1}), id}, iterators(rank),
                     [](OpBuilder &b, Location l, ValueRange args) {
                       yieldValue(b, l, args[0]);
                     });
    } else {
      init = filledTensor(rewriter, loc, sizes, elem, 0.0);
    }
    SmallVector<unsigned> xDims, outDims;
    for (unsigned i = 0; i + 1 < rank; ++i) {
      xDims.push_back(i);
      outDims.push_back(i);
    }
    xDims.push_back(k);
    outDims.push_back(n);
    Value result = generic(
        rewriter, loc, {op.getInput(), op.getWeight()}, init,
        {selectDims(ctx, numLoops, xDims), selectDims(ctx, numLoops, {n, k}),
         selectDims(ctx, numLoops, outDims)},
        iterators(rank, 1), yieldMulAdd);
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// softmax(q k^T * scale + mask) v, spelled out: scores, row max, the
/// exponentials and their row sums, the weighted sum of values, then its
/// division by the row sums.
struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    auto qType = cast<RankedTensorType>(q.getType());
    Type elem = qType.getElementType();
    int64_t headDim = qType.getDimSize(3);
    if (ShapedType::isDynamic(headDim) && !op.getScale())
      return rewriter.notifyMatchFailure(op, "dynamic head_dim needs a scale");
    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(double(headDim));

    // scores[b, h, i, j] = scale * sum_d q[b, i, h, d] k[b, j, h, d] (+ mask).
    SmallVector<OpFoldResult> qSizes = sizesOf(rewriter, loc, q);
    SmallVector<OpFoldResult> kSizes = sizesOf(rewriter, loc, k);
    // Without a mask or causality the scale goes on q instead: a pass over
    // q (tokens x hidden, and fused into q's producer by
    // kiln-fuse-elementwise) rather than one over the scores (heads x
    // tokens^2, 78 MB per block of the benchmark's model).
    bool scaleQuery = !op.getMask() && !op.getCausal();
    if (scaleQuery) {
      AffineMap id4 = rewriter.getMultiDimIdentityMap(4);
      q = generic(rewriter, loc, q, emptyTensor(rewriter, loc, qSizes, elem),
                  {id4, id4}, iterators(4),
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    yieldValue(b, l,
                               arith::MulFOp::create(
                                   b, l, args[0],
                                   floatConstant(b, l, elem, scale)));
                  });
    }
    SmallVector<OpFoldResult> scoreSizes{qSizes[0], qSizes[2], qSizes[1],
                                         kSizes[1]};
    // Loops (b, h, i, j, d).
    Value dot = generic(
        rewriter, loc, {q, k}, filledTensor(rewriter, loc, scoreSizes, elem, 0),
        {selectDims(ctx, 5, {0, 2, 1, 4}), selectDims(ctx, 5, {0, 3, 1, 4}),
         selectDims(ctx, 5, {0, 1, 2, 3})},
        iterators(4, 1), yieldMulAdd);
    Value scores =
        scaleQuery ? dot : scaleMaskAndCausal(rewriter, loc, op, dot, scale);

    // Row maximum and the softmax normalizer over j.
    SmallVector<OpFoldResult> rowSizes(scoreSizes.begin(),
                                       scoreSizes.end() - 1);
    AffineMap id4 = rewriter.getMultiDimIdentityMap(4);
    AffineMap row = selectDims(ctx, 4, {0, 1, 2});
    Value rowMax = generic(
        rewriter, loc, scores,
        filledTensor(rewriter, loc, rowSizes, elem,
                     -std::numeric_limits<double>::infinity()),
        {id4, row}, iterators(3, 1),
        [](OpBuilder &b, Location l, ValueRange args) {
          yieldValue(
              b, l, arith::MaximumFOp::create(b, l, args[0], args[1]));
        });
    // The exponentials once, then their row sums: the normalization
    // goes on the output (heads x tokens x head_dim) instead of on the
    // probabilities (heads x tokens^2), which saves the second exp of every
    // score and a pass over them. They overwrite the scores (the scores
    // are the output operand, read in the body): each cache line is read and
    // written back, with no second heads x tokens^2 stream to fetch for
    // writing (the probe model's exp dispatches: 35.1 -> 31.4 ms per step).
    Value exps = generic(
        rewriter, loc, rowMax, scores, {row, id4}, iterators(4),
        [](OpBuilder &b, Location l, ValueRange args) {
          yieldValue(b, l,
                     math::ExpOp::create(
                         b, l, arith::SubFOp::create(b, l, args[1], args[0])));
        });
    Value rowSum = generic(
        rewriter, loc, exps, filledTensor(rewriter, loc, rowSizes, elem, 0.0),
        {id4, row}, iterators(3, 1),
        [](OpBuilder &b, Location l, ValueRange args) {
          yieldValue(b, l, arith::AddFOp::create(b, l, args[1], args[0]));
        });
    // One division per row, a multiplication per output element: vdivps
    // has 1/7 of vmulps' throughput.
    Value rowScale = generic(
        rewriter, loc, rowSum, emptyTensor(rewriter, loc, rowSizes, elem),
        {selectDims(ctx, 3, {0, 1, 2}), selectDims(ctx, 3, {0, 1, 2})},
        iterators(3), [&](OpBuilder &b, Location l, ValueRange args) {
          yieldValue(b, l,
                     arith::DivFOp::create(b, l, floatConstant(b, l, elem, 1.0),
                                           args[0]));
        });

    // out[b, i, h, e] = (sum_j exps[b, h, i, j] v[b, j, h, e]) / rowSum[b,
    // h, i]; loops (b, i, h, e, j).
    SmallVector<OpFoldResult> vSizes = sizesOf(rewriter, loc, v);
    SmallVector<OpFoldResult> outSizes{qSizes[0], qSizes[1], qSizes[2],
                                       vSizes[3]};
    Value weighted = generic(
        rewriter, loc, {exps, v},
        filledTensor(rewriter, loc, outSizes, elem, 0.0),
        {selectDims(ctx, 5, {0, 2, 1, 4}), selectDims(ctx, 5, {0, 4, 2, 3}),
         selectDims(ctx, 5, {0, 1, 2, 3})},
        iterators(4, 1), yieldMulAdd);
    Value out = generic(
        rewriter, loc, {weighted, rowScale},
        emptyTensor(rewriter, loc, outSizes, elem),
        {id4, selectDims(ctx, 4, {0, 2, 1}), id4}, iterators(4),
        [](OpBuilder &b, Location l, ValueRange args) {
          yieldValue(b, l, arith::MulFOp::create(b, l, args[0], args[1]));
        });
    replaceWithCast(rewriter, op, out);
    return success();
  }

  /// scores * scale, plus the broadcast additive mask, with keys after the
  /// query position set to -inf when causal.
  static Value scaleMaskAndCausal(PatternRewriter &rewriter, Location loc,
                                  AttentionOp op, Value scores, double scale) {
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(scores.getType());
    Type elem = type.getElementType();
    AffineMap id4 = rewriter.getMultiDimIdentityMap(4);
    SmallVector<Value> inputs{scores};
    SmallVector<AffineMap> maps{id4};
    Value mask = op.getMask();
    if (mask) {
      // Static size-1 mask dimensions broadcast.
      auto maskType = cast<RankedTensorType>(mask.getType());
      SmallVector<AffineExpr> exprs;
      for (unsigned d = 0; d < 4; ++d)
        exprs.push_back(maskType.getDimSize(d) == 1 && d < 3
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d, ctx));
      inputs.push_back(mask);
      maps.push_back(AffineMap::get(4, 0, exprs, ctx));
    }
    maps.push_back(id4);
    bool causal = op.getCausal();
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, scores), elem);
    return generic(
        rewriter, loc, inputs, init, maps, iterators(4),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value s = arith::MulFOp::create(b, l, args[0],
                                          floatConstant(b, l, elem, scale));
          if (mask)
            s = arith::AddFOp::create(b, l, s, args[1]);
          if (causal) {
            Value i = linalg::IndexOp::create(b, l, 2);
            Value j = linalg::IndexOp::create(b, l, 3);
            Value future = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::ugt, j, i);
            Value negInf = floatConstant(
                b, l, elem, -std::numeric_limits<double>::infinity());
            s = arith::SelectOp::create(b, l, future, negInf, s);
          }
          yieldValue(b, l, s);
        });
  }
};

} // namespace

void populateDenseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLinear, LowerAttention>(patterns.getContext());
}

} // namespace mlir::kiln
