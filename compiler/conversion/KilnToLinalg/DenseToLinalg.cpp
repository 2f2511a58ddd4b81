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

/// softmax(q k^T * scale + mask) v as one kiln.flash_attention: no linalg
/// op can carry a softmax between two contractions, and spelled out as
/// linalg ops the scores would be a heads x tokens^2 buffer (226.9 GiB at
/// FLUX.1's 2048^2 with two references). Each target lowers the op itself.
struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = op.getQuery(), v = op.getValue();
    auto qType = cast<RankedTensorType>(q.getType());
    int64_t headDim = qType.getDimSize(3);
    if (ShapedType::isDynamic(headDim) && !op.getScale())
      return rewriter.notifyMatchFailure(op, "dynamic head_dim needs a scale");
    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(double(headDim));
    SmallVector<OpFoldResult> qSizes = sizesOf(rewriter, loc, q);
    SmallVector<OpFoldResult> vSizes = sizesOf(rewriter, loc, v);
    SmallVector<OpFoldResult> outSizes{qSizes[0], qSizes[1], qSizes[2],
                                       vSizes[3]};
    Value init =
        emptyTensor(rewriter, loc, outSizes, qType.getElementType());
    auto attention = FlashAttentionOp::create(
        rewriter, loc, TypeRange{init.getType()}, q, op.getKey(), v, init,
        op.getMask(), rewriter.getF64FloatAttr(scale), op.getCausalAttr());
    replaceWithCast(rewriter, op, attention.getResult().front());
    return success();
  }
};

} // namespace

void populateDenseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLinear, LowerAttention>(patterns.getContext());
}

} // namespace mlir::kiln
