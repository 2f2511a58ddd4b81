//===- ElementwiseToLinalg.cpp - Activations, broadcasts, modulate --------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

namespace mlir::kiln {
namespace {

/// x * sigmoid(a * x), written as x / (1 + exp(-a x)).
Value timesSigmoid(OpBuilder &b, Location l, Value x, double a) {
  Type t = x.getType();
  Value ax = arith::MulFOp::create(b, l, x, floatConstant(b, l, t, -a));
  Value denom = arith::AddFOp::create(b, l, floatConstant(b, l, t, 1.0),
                                      math::ExpOp::create(b, l, ax));
  return arith::DivFOp::create(b, l, x, denom);
}

struct LowerSilu : OpRewritePattern<SiluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SiluOp op,
                                PatternRewriter &rewriter) const override {
    replaceWithCast(rewriter, op, mapElements(rewriter, op.getLoc(), op.getInput(),
                                       [](OpBuilder &b, Location l, Value x) {
                                         return timesSigmoid(b, l, x, 1.0);
                                       }));
    return success();
  }
};

struct LowerGelu : OpRewritePattern<GeluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GeluOp op,
                                PatternRewriter &rewriter) const override {
    GeluApproximation form = op.getApproximation();
    auto fn = [form](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      auto c = [&](double v) { return floatConstant(b, l, t, v); };
      if (form == GeluApproximation::Quick)
        return timesSigmoid(b, l, x, 1.702);
      Value inner;
      if (form == GeluApproximation::None) {
        // 0.5 x (1 + erf(x / sqrt(2)))
        inner = math::ErfOp::create(
            b, l, arith::MulFOp::create(b, l, x, c(M_SQRT1_2)));
      } else {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        Value x3 = arith::MulFOp::create(
            b, l, x, arith::MulFOp::create(b, l, x, x));
        Value poly = arith::AddFOp::create(
            b, l, x, arith::MulFOp::create(b, l, x3, c(0.044715)));
        inner = math::TanhOp::create(
            b, l, arith::MulFOp::create(b, l, poly, c(std::sqrt(2.0 / M_PI))));
      }
      Value half = arith::MulFOp::create(b, l, x, c(0.5));
      return arith::MulFOp::create(b, l, half,
                                   arith::AddFOp::create(b, l, c(1.0), inner));
    };
    replaceWithCast(rewriter, op, mapElements(rewriter, op.getLoc(), op.getInput(), fn));
    return success();
  }
};

/// NumPy broadcasting: operand dims that are a static 1 (or missing) read
/// index 0; dynamic result dims take their size from an operand that has
/// the dimension for real.
template <typename KilnOp, typename ArithOp>
struct LowerBroadcastBinary : OpRewritePattern<KilnOp> {
  using OpRewritePattern<KilnOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(KilnOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType type = op.getType();
    unsigned rank = type.getRank();
    Value operands[2] = {op.getLhs(), op.getRhs()};
    SmallVector<AffineMap> maps;
    SmallVector<OpFoldResult> sizes(rank);
    for (Value operand : operands) {
      auto t = cast<RankedTensorType>(operand.getType());
      unsigned offset = rank - t.getRank();
      SmallVector<AffineExpr> exprs;
      for (unsigned d = 0; d < t.getRank(); ++d) {
        bool broadcast = t.getDimSize(d) == 1 && type.getDimSize(d + offset) != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(d + offset, ctx));
        if (!broadcast && !sizes[d + offset])
          sizes[d + offset] = t.isDynamicDim(d)
                                  ? OpFoldResult(dimIndex(rewriter, loc,
                                                          operand, d))
                                  : rewriter.getIndexAttr(t.getDimSize(d));
      }
      maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
    }
    for (unsigned d = 0; d < rank; ++d)
      if (!sizes[d])
        sizes[d] = rewriter.getIndexAttr(type.getDimSize(d));
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    Value init = emptyTensor(rewriter, loc, sizes, type.getElementType());
    Value result = generic(rewriter, loc, ValueRange(operands), init, maps,
                           iterators(rank),
                           [](OpBuilder &b, Location l, ValueRange args) {
                             yieldValue(
                                 b, l, ArithOp::create(b, l, args[0], args[1]));
                           });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// x * (1 + scale[b, c]) + shift[b, c].
struct LowerModulate : OpRewritePattern<ModulateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ModulateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    unsigned rank = type.getRank();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap perRow = selectDims(rewriter.getContext(), rank, {0, rank - 1});
    Value init = emptyTensor(rewriter, loc,
                             sizesOf(rewriter, loc, op.getInput()),
                             type.getElementType());
    Value result = generic(
        rewriter, loc, {op.getInput(), op.getShift(), op.getScale()}, init,
        {id, perRow, perRow, id}, iterators(rank),
        [](OpBuilder &b, Location l, ValueRange args) {
          Value one = floatConstant(b, l, args[0].getType(), 1.0);
          Value factor = arith::AddFOp::create(b, l, one, args[2]);
          Value scaled = arith::MulFOp::create(b, l, args[0], factor);
          yieldValue(b, l,
                                  arith::AddFOp::create(b, l, scaled, args[1]));
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

} // namespace

void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerSilu, LowerGelu, LowerModulate,
               LowerBroadcastBinary<AddOp, arith::AddFOp>,
               LowerBroadcastBinary<SubOp, arith::SubFOp>,
               LowerBroadcastBinary<MulOp, arith::MulFOp>,
               LowerBroadcastBinary<DivOp, arith::DivFOp>>(
      patterns.getContext());
}

} // namespace mlir::kiln
