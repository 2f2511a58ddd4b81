//===- NormToLinalg.cpp - layer_norm, rms_norm, group_norm to linalg ------===//
//
// Two-pass statistics (mean, then the mean of squared deviations) in the
// tensor's element type: the reference, not the fast path.
//
//===----------------------------------------------------------------------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::kiln {
namespace {

/// y * scale[c] + bias[c] (each optional), c being dimension `channelDim`.
Value applyAffine(OpBuilder &b, Location loc, Value y, Value scale, Value bias,
                  unsigned channelDim) {
  if (!scale && !bias)
    return y;
  auto type = cast<RankedTensorType>(y.getType());
  unsigned rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap channel = selectDims(b.getContext(), rank, {channelDim});
  SmallVector<Value> inputs{y};
  SmallVector<AffineMap> maps{id};
  for (Value v : {scale, bias})
    if (v) {
      inputs.push_back(v);
      maps.push_back(channel);
    }
  maps.push_back(id);
  Value init = emptyTensor(b, loc, sizesOf(b, loc, y), type.getElementType());
  return generic(b, loc, inputs, init, maps, iterators(rank),
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value r = args[0];
                   unsigned next = 1;
                   if (scale)
                     r = arith::MulFOp::create(nb, l, r, args[next++]);
                   if (bias)
                     r = arith::AddFOp::create(nb, l, r, args[next++]);
                   yieldValue(nb, l, r);
                 });
}

/// (x - center) * rsqrt(meanSquare + eps) over the last dim, where `center`
/// (optional) and `meanSquare` have rank r-1.
Value normalizeRows(OpBuilder &b, Location loc, Value x, Value center,
                    Value meanSquare, double epsilon) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  Type elem = type.getElementType();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  SmallVector<unsigned> leading;
  for (unsigned i = 0; i + 1 < rank; ++i)
    leading.push_back(i);
  AffineMap row = selectDims(b.getContext(), rank, leading);
  SmallVector<Value> inputs{x, meanSquare};
  SmallVector<AffineMap> maps{id, row};
  if (center) {
    inputs.push_back(center);
    maps.push_back(row);
  }
  maps.push_back(id);
  Value init = emptyTensor(b, loc, sizesOf(b, loc, x), elem);
  return generic(b, loc, inputs, init, maps, iterators(rank),
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value v = args[0];
                   if (center)
                     v = arith::SubFOp::create(nb, l, v, args[2]);
                   Value inv = rsqrtPlus(nb, l, args[1],
                                         floatConstant(nb, l, elem, epsilon));
                   yieldValue(nb, l,
                                           arith::MulFOp::create(nb, l, v, inv));
                 });
}

/// sum / n for a rank-(r-1) tensor of sums, n = the last dim of `x`.
Value divideByLastDim(OpBuilder &b, Location loc, Value sums, Value x) {
  auto xType = cast<RankedTensorType>(x.getType());
  Type elem = xType.getElementType();
  Value n = indexToFloat(b, loc, dimIndex(b, loc, x, xType.getRank() - 1),
                         elem);
  return mapElements(b, loc, sums, [&](OpBuilder &nb, Location l, Value s) {
    return arith::DivFOp::create(nb, l, s, n);
  });
}

/// mean and mean of squared deviations over the last dim of `x`.
std::pair<Value, Value> meanAndVariance(OpBuilder &b, Location loc, Value x) {
  Value mean = divideByLastDim(
      b, loc,
      sumLastDim(b, loc, x, Value(),
                 [](OpBuilder &, Location, Value v, Value) { return v; }),
      x);
  Value var = divideByLastDim(
      b, loc,
      sumLastDim(b, loc, x, mean,
                 [](OpBuilder &nb, Location l, Value v, Value m) {
                   Value d = arith::SubFOp::create(nb, l, v, m);
                   return Value(arith::MulFOp::create(nb, l, d, d));
                 }),
      x);
  return {mean, var};
}

struct LowerLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto [mean, var] = meanAndVariance(rewriter, loc, op.getInput());
    Value y = normalizeRows(rewriter, loc, op.getInput(), mean, var,
                            op.getEpsilon().convertToDouble());
    replaceWithCast(rewriter, op, applyAffine(rewriter, loc, y, op.getScale(), op.getBias(),
                        op.getType().getRank() - 1));
    return success();
  }
};

struct LowerRmsNorm : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    Value meanSquare = divideByLastDim(
        rewriter, loc,
        sumLastDim(rewriter, loc, x, Value(),
                   [](OpBuilder &nb, Location l, Value v, Value) {
                     return Value(arith::MulFOp::create(nb, l, v, v));
                   }),
        x);
    Value y = normalizeRows(rewriter, loc, x, Value(), meanSquare,
                            op.getEpsilon().convertToDouble());
    replaceWithCast(rewriter, op, applyAffine(rewriter, loc, y, op.getScale(), op.getBias(),
                        op.getType().getRank() - 1));
    return success();
  }
};

/// Group norm as a layer norm: [N, C, spatial...] is viewed as
/// [N, G, (C/G) * spatial] (a row-major reshape), normalized per row, viewed
/// back, then the per-channel affine is applied.
struct LowerGroupNorm : OpRewritePattern<GroupNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GroupNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    RankedTensorType type = op.getType();
    int64_t channels = type.getDimSize(1);
    int64_t groups = op.getNumGroups();
    if (ShapedType::isDynamic(channels))
      return rewriter.notifyMatchFailure(op, "needs static channels");
    Type elem = type.getElementType();
    unsigned rank = type.getRank();

    // rows = (C/G) * prod(spatial); batch may be dynamic.
    Value rowLen = indexConstant(rewriter, loc, channels / groups);
    for (unsigned d = 2; d < rank; ++d)
      rowLen = arith::MulIOp::create(rewriter, loc, rowLen,
                                     dimIndex(rewriter, loc, x, d));
    Value batch = dimIndex(rewriter, loc, x, 0);
    Value shape3 = tensor::FromElementsOp::create(
        rewriter, loc, ValueRange{batch, indexConstant(rewriter, loc, groups),
                                  rowLen});
    auto rowsType = RankedTensorType::get(
        {type.getDimSize(0), groups, ShapedType::kDynamic}, elem);
    Value rows = tensor::ReshapeOp::create(rewriter, loc, rowsType, x, shape3);
    auto [mean, var] = meanAndVariance(rewriter, loc, rows);
    Value normalized = normalizeRows(rewriter, loc, rows, mean, var,
                                     op.getEpsilon().convertToDouble());

    SmallVector<Value> dims;
    for (unsigned d = 0; d < rank; ++d)
      dims.push_back(dimIndex(rewriter, loc, x, d));
    Value shapeN = tensor::FromElementsOp::create(rewriter, loc, dims);
    Value y = tensor::ReshapeOp::create(rewriter, loc, x.getType(), normalized,
                                        shapeN);
    replaceWithCast(rewriter, op, applyAffine(rewriter, loc, y, op.getScale(), op.getBias(), 1));
    return success();
  }

};

} // namespace

void populateNormToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLayerNorm, LowerRmsNorm, LowerGroupNorm>(
      patterns.getContext());
}

} // namespace mlir::kiln
