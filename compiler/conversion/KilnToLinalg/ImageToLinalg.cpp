//===- ImageToLinalg.cpp - conv2d, upsample and latent packing ------------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::kiln {
namespace {

/// (in + padBegin + padEnd - k) / stride + 1 on index values.
Value convOutputSize(OpBuilder &b, Location loc, Value in, int64_t padTotal,
                     int64_t kernel, int64_t stride) {
  Value span = arith::AddIOp::create(b, loc, in,
                                     indexConstant(b, loc, padTotal - kernel));
  Value steps =
      arith::DivUIOp::create(b, loc, span, indexConstant(b, loc, stride));
  return arith::AddIOp::create(b, loc, steps, indexConstant(b, loc, 1));
}

/// Zero padding with tensor.pad, then out[n, f, y, x] = bias[f] +
/// sum_{c, i, j} in[n, c, y*sh + i, x*sw + j] w[f, c, i, j].
struct LowerConv2d : OpRewritePattern<Conv2dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2dOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType type = op.getType();
    Type elem = type.getElementType();
    auto wType = cast<RankedTensorType>(op.getWeight().getType());
    ArrayRef<int64_t> pad = op.getPadding();
    ArrayRef<int64_t> strides = op.getStrides();
    Value input = op.getInput();
    if (llvm::any_of(pad, [](int64_t p) { return p != 0; })) {
      SmallVector<OpFoldResult> low{rewriter.getIndexAttr(0),
                                    rewriter.getIndexAttr(0),
                                    rewriter.getIndexAttr(pad[0]),
                                    rewriter.getIndexAttr(pad[1])};
      SmallVector<OpFoldResult> high{rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(pad[2]),
                                     rewriter.getIndexAttr(pad[3])};
      input = tensor::PadOp::create(rewriter, loc, Type(), input, low, high,
                                    floatConstant(rewriter, loc, elem, 0.0));
    }
    Value x = op.getInput();
    SmallVector<OpFoldResult> sizes{
        sizesOf(rewriter, loc, x)[0], rewriter.getIndexAttr(wType.getDimSize(0)),
        convOutputSize(rewriter, loc, dimIndex(rewriter, loc, x, 2),
                       pad[0] + pad[2], wType.getDimSize(2), strides[0]),
        convOutputSize(rewriter, loc, dimIndex(rewriter, loc, x, 3),
                       pad[1] + pad[3], wType.getDimSize(3), strides[1])};
    Value init;
    if (Value bias = op.getBias()) {
      init = generic(rewriter, loc, bias, emptyTensor(rewriter, loc, sizes, elem),
                     {selectDims(ctx, 4, {1}), rewriter.getMultiDimIdentityMap(4)},
                     iterators(4), [](OpBuilder &b, Location l, ValueRange args) {
                       yieldValue(b, l, args[0]);
                     });
    } else {
      init = filledTensor(rewriter, loc, sizes, elem, 0.0);
    }
    // Loops (n, f, y, c, i, j, x): an output row is the innermost loop, so
    // that the kernels' loops accumulate tap by tap into a row that stays in
    // L1 with contiguous, vectorizable loads; with the taps innermost (n, f,
    // y, x, c, i, j) each output element's 3-long j loop was all there was
    // to vectorize (5 GFLOP/s for the FLUX VAE decoder). Each element still
    // sums over c, then i, then j: the same order, the same result.
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    AffineMap inMap = AffineMap::get(
        7, 0, {d(0), d(3), d(2) * strides[0] + d(4), d(6) * strides[1] + d(5)},
        ctx);
    using utils::IteratorType;
    SmallVector<IteratorType> loops = {
        IteratorType::parallel,  IteratorType::parallel,
        IteratorType::parallel,  IteratorType::reduction,
        IteratorType::reduction, IteratorType::reduction,
        IteratorType::parallel};
    Value result = generic(
        rewriter, loc, {input, op.getWeight()}, init,
        {inMap, selectDims(ctx, 7, {1, 3, 4, 5}), selectDims(ctx, 7, {0, 1, 2, 6})},
        loops, yieldMulAdd);
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// Builds a tensor of `sizes` whose element at output indices is
/// input[indexFn(output indices)]: the gathers of the packing ops.
Value gather(OpBuilder &b, Location loc, Value input,
             ArrayRef<OpFoldResult> sizes,
             function_ref<SmallVector<Value>(OpBuilder &, Location,
                                             ArrayRef<Value>)>
                 indexFn) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = sizes.size();
  Value init = emptyTensor(b, loc, sizes, type.getElementType());
  return generic(b, loc, ValueRange{}, init,
                 {b.getMultiDimIdentityMap(rank)}, iterators(rank),
                 [&](OpBuilder &nb, Location l, ValueRange) {
                   SmallVector<Value> out;
                   for (unsigned i = 0; i < rank; ++i)
                     out.push_back(linalg::IndexOp::create(nb, l, i));
                   Value v = tensor::ExtractOp::create(nb, l, input,
                                                       indexFn(nb, l, out));
                   yieldValue(nb, l, v);
                 });
}

struct LowerUpsample : OpRewritePattern<UpsampleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UpsampleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t s = op.getScaleFactor();
    Value factor = indexConstant(rewriter, loc, s);
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getInput());
    for (unsigned d : {2u, 3u})
      sizes[d] = Value(arith::MulIOp::create(
          rewriter, loc, dimIndex(rewriter, loc, op.getInput(), d), factor));
    Value result = gather(
        rewriter, loc, op.getInput(), sizes,
        [&](OpBuilder &b, Location l, ArrayRef<Value> o) {
          return SmallVector<Value>{o[0], o[1],
                                    arith::DivUIOp::create(b, l, o[2], factor),
                                    arith::DivUIOp::create(b, l, o[3], factor)};
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// out[b, r*(W/p) + q, c*p*p + dy*p + dx] = in[b, c, r*p + dy, q*p + dx].
struct LowerPatchify : OpRewritePattern<PatchifyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PatchifyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t p = op.getPatchSize();
    Value pv = indexConstant(rewriter, loc, p);
    Value cols = arith::DivUIOp::create(rewriter, loc,
                                        dimIndex(rewriter, loc, x, 3), pv);
    Value rows = arith::DivUIOp::create(rewriter, loc,
                                        dimIndex(rewriter, loc, x, 2), pv);
    SmallVector<OpFoldResult> sizes{
        sizesOf(rewriter, loc, x)[0],
        Value(arith::MulIOp::create(rewriter, loc, rows, cols)),
        rewriter.getIndexAttr(op.getType().getDimSize(2))};
    Value pp = indexConstant(rewriter, loc, p * p);
    Value result = gather(
        rewriter, loc, x, sizes,
        [&](OpBuilder &b, Location l, ArrayRef<Value> o) {
          Value r = arith::DivUIOp::create(b, l, o[1], cols);
          Value q = arith::RemUIOp::create(b, l, o[1], cols);
          Value c = arith::DivUIOp::create(b, l, o[2], pp);
          Value within = arith::RemUIOp::create(b, l, o[2], pp);
          Value dy = arith::DivUIOp::create(b, l, within, pv);
          Value dx = arith::RemUIOp::create(b, l, within, pv);
          Value y = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, r, pv), dy);
          Value xx = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, q, pv), dx);
          return SmallVector<Value>{o[0], c, y, xx};
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// out[b, c, y, x] = in[b, (y/p)*(W/p) + x/p, c*p*p + (y%p)*p + x%p].
struct LowerUnpatchify : OpRewritePattern<UnpatchifyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnpatchifyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value t = op.getInput();
    int64_t p = op.getPatchSize();
    Value pv = indexConstant(rewriter, loc, p);
    Value pp = indexConstant(rewriter, loc, p * p);
    Value cols = arith::DivUIOp::create(rewriter, loc, op.getWidth(), pv);
    SmallVector<OpFoldResult> sizes{
        sizesOf(rewriter, loc, t)[0],
        rewriter.getIndexAttr(op.getType().getDimSize(1)), op.getHeight(),
        op.getWidth()};
    Value result = gather(
        rewriter, loc, t, sizes,
        [&](OpBuilder &b, Location l, ArrayRef<Value> o) {
          Value token = arith::AddIOp::create(
              b, l,
              arith::MulIOp::create(b, l, arith::DivUIOp::create(b, l, o[2], pv),
                                    cols),
              arith::DivUIOp::create(b, l, o[3], pv));
          Value channel = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, o[1], pp),
              arith::AddIOp::create(
                  b, l,
                  arith::MulIOp::create(
                      b, l, arith::RemUIOp::create(b, l, o[2], pv), pv),
                  arith::RemUIOp::create(b, l, o[3], pv)));
          return SmallVector<Value>{o[0], token, channel};
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

} // namespace

void populateImageToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerConv2d, LowerUpsample, LowerPatchify, LowerUnpatchify>(
      patterns.getContext());
}

} // namespace mlir::kiln
