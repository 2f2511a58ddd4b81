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

/// out[..., n] = bias[n] + sum_k x[..., k] * w[n, k]. With an FP8 weight
/// (w = kiln.dequantize(q, s)): out[..., n] = s[n] * sum_k x[..., k] *
/// f32(q[n, k]) + bias[n], the contraction reading q itself (widened where
/// it is loaded) and the scale and bias applied to its sums by an
/// elementwise op that dispatch formation fuses into it as its epilogue:
/// the f32 weight never exists.
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
    auto dequantize = op.getWeight().getDefiningOp<DequantizeOp>();
    Value weight = dequantize ? dequantize.getData() : op.getWeight();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel = selectDims(ctx, rank, {rank - 1});

    Value init;
    if (Value bias = op.getBias(); bias && !dequantize) {
      init = generic(rewriter, loc, bias, emptyTensor(rewriter, loc, sizes, elem),
                     {channel, id}, iterators(rank),
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
        rewriter, loc, {op.getInput(), weight}, init,
        {selectDims(ctx, numLoops, xDims), selectDims(ctx, numLoops, {n, k}),
         selectDims(ctx, numLoops, outDims)},
        iterators(rank, 1), [&](OpBuilder &b, Location l, ValueRange args) {
          if (!dequantize)
            return yieldMulAdd(b, l, args);
          Value wide = arith::ExtFOp::create(b, l, elem, args[1]);
          yieldMulAdd(b, l, {args[0], wide, args[2]});
        });
    if (dequantize) {
      SmallVector<Value> inputs{result, dequantize.getScale()};
      SmallVector<AffineMap> maps{id, channel};
      if (Value bias = op.getBias()) {
        inputs.push_back(bias);
        maps.push_back(channel);
      }
      maps.push_back(id);
      result = generic(
          rewriter, loc, inputs, emptyTensor(rewriter, loc, sizes, elem), maps,
          iterators(rank), [&](OpBuilder &b, Location l, ValueRange args) {
            Value scaled = arith::MulFOp::create(b, l, args[0], args[1]);
            yieldValue(b, l,
                       op.getBias() ? arith::AddFOp::create(b, l, scaled, args[2])
                                          .getResult()
                                    : scaled);
          });
    }
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// f32(data[n, ...]) * scale[n], where a dequantized weight is used other
/// than as a linear's weight (a linear reads the FP8 data itself).
struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    unsigned rank = type.getRank();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    Value result = generic(
        rewriter, loc, {op.getData(), op.getScale()},
        emptyTensor(rewriter, loc, sizesOf(rewriter, loc, op.getData()),
                    type.getElementType()),
        {id, selectDims(rewriter.getContext(), rank, {0}), id}, iterators(rank),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value wide = arith::ExtFOp::create(b, l, type.getElementType(), args[0]);
          yieldValue(b, l, arith::MulFOp::create(b, l, wide, args[1]));
        });
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
    for (Value operand : op->getOperands())
      if (!cast<RankedTensorType>(operand.getType()).getElementType().isF32())
        return rewriter.notifyMatchFailure(
            op, "kiln.flash_attention computes in f32 (operand not f32)");
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
  patterns.add<LowerLinear, LowerDequantize, LowerAttention>(
      patterns.getContext());
}

} // namespace mlir::kiln
