//===- PositionToLinalg.cpp - Embeddings and position encodings -----------===//
//
// Frequency tables are computed here, at compile time, the way diffusers
// computes them (RoPE in float64, timestep frequencies in float32), and
// become constants of the IR.
//
//===----------------------------------------------------------------------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

namespace mlir::kiln {
namespace {

Value constantVector(OpBuilder &b, Location loc, ArrayRef<double> values,
                     FloatType type) {
  auto tensorType = RankedTensorType::get(
      {static_cast<int64_t>(values.size())}, type);
  SmallVector<APFloat> floats;
  for (double v : values) {
    APFloat f(v);
    bool lost;
    f.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    floats.push_back(f);
  }
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(tensorType, floats));
}

/// Any int or float scalar to f64.
Value toF64(OpBuilder &b, Location l, Value v) {
  Type f64 = b.getF64Type();
  if (isa<IntegerType>(v.getType()))
    return arith::SIToFPOp::create(b, l, f64, v);
  if (v.getType() == f64)
    return v;
  return arith::ExtFOp::create(b, l, f64, v);
}

/// Per axis a: cos/sin(ids[:, a] * theta^(-2i/d_a)), each frequency used
/// for two adjacent channels; axes concatenated.
struct LowerRopeFrequencies : OpRewritePattern<RopeFrequenciesOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeFrequenciesOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value ids = op.getIds();
    Type f32 = rewriter.getF32Type();
    double theta = op.getTheta().convertToDouble();
    OpFoldResult seq = sizesOf(rewriter, loc, ids)[0];
    SmallVector<Value> cosParts, sinParts;
    for (auto [axis, dim] : llvm::enumerate(op.getAxesDim())) {
      SmallVector<double> freqs;
      for (int64_t c = 0; c < dim; ++c)
        freqs.push_back(1.0 / std::pow(theta, double(2 * (c / 2)) / dim));
      Value table = constantVector(rewriter, loc, freqs, rewriter.getF64Type());
      AffineMap idsMap = AffineMap::get(
          2, 0, {getAffineDimExpr(0, ctx), getAffineConstantExpr(axis, ctx)},
          ctx);
      AffineMap id = rewriter.getMultiDimIdentityMap(2);
      SmallVector<OpFoldResult> sizes{seq, rewriter.getIndexAttr(dim)};
      Value init = emptyTensor(rewriter, loc, sizes, f32);
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{init.getType(), init.getType()},
          ValueRange{ids, table}, ValueRange{init, init},
          ArrayRef<AffineMap>{idsMap, selectDims(ctx, 2, {1}), id, id},
          iterators(2), [&](OpBuilder &b, Location l, ValueRange args) {
            Value angle =
                arith::MulFOp::create(b, l, toF64(b, l, args[0]), args[1]);
            Value c = arith::TruncFOp::create(
                b, l, b.getF32Type(), math::CosOp::create(b, l, angle));
            Value s = arith::TruncFOp::create(
                b, l, b.getF32Type(), math::SinOp::create(b, l, angle));
            linalg::YieldOp::create(b, l, ValueRange{c, s});
          });
      cosParts.push_back(generic.getResult(0));
      sinParts.push_back(generic.getResult(1));
    }
    auto concat = [&](ArrayRef<Value> parts, Type type) -> Value {
      if (parts.size() == 1)
        return parts.front();
      return tensor::ConcatOp::create(rewriter, loc, type, 1, parts);
    };
    rewriter.replaceOp(op, ValueRange{concat(cosParts, op.getCos().getType()),
                                      concat(sinParts, op.getSin().getType())});
    return success();
  }
};

/// out = x * cos + rotate(x) * sin, rotate mapping a pair (a, b) to (-b, a).
struct LowerRope : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    if (cast<RankedTensorType>(op.getCos().getType()).getElementType() !=
        type.getElementType())
      return rewriter.notifyMatchFailure(
          op, "reference lowering needs tables of the input's element type");
    bool interleaved = op.getStyle() == RopeStyle::Interleaved;
    Value headDim = dimIndex(rewriter, loc, x, 3);
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    AffineMap table = selectDims(ctx, 4, {1, 3});
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, x),
                             type.getElementType());
    Value result = generic(
        rewriter, loc, {x, op.getCos(), op.getSin()}, init,
        {id, table, table, id}, iterators(4),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value d = linalg::IndexOp::create(b, l, 3);
          Value one = indexConstant(b, l, 1);
          Value first, partner;
          if (interleaved) {
            // Pairs (2i, 2i+1): the first of a pair is the even channel.
            Value bit = arith::AndIOp::create(b, l, d, one);
            first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, bit,
                                          indexConstant(b, l, 0));
            partner = arith::XOrIOp::create(b, l, d, one);
          } else {
            // Pairs (i, i + D/2).
            Value half = arith::DivUIOp::create(b, l, headDim,
                                                indexConstant(b, l, 2));
            first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, d,
                                          half);
            partner = arith::SelectOp::create(
                b, l, first, arith::AddIOp::create(b, l, d, half),
                arith::SubIOp::create(b, l, d, half));
          }
          SmallVector<Value> at{linalg::IndexOp::create(b, l, 0),
                                linalg::IndexOp::create(b, l, 1),
                                linalg::IndexOp::create(b, l, 2), partner};
          Value other = tensor::ExtractOp::create(b, l, x, at);
          Value rotated = arith::SelectOp::create(
              b, l, first, arith::NegFOp::create(b, l, other), other);
          Value out = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], args[1]),
              arith::MulFOp::create(b, l, rotated, args[2]));
          yieldValue(b, l, out);
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// diffusers' get_timestep_embedding: frequencies exp(-ln(P) i / (half -
/// shift)) in float32, angles scale * t * f, halves [sin, cos] (flipped to
/// [cos, sin] with flip_sin_to_cos).
struct LowerTimestepEmbedding : OpRewritePattern<TimestepEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TimestepEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType type = op.getType();
    auto elem = cast<FloatType>(type.getElementType());
    int64_t dim = op.getDim(), half = dim / 2;
    float logPeriod = static_cast<float>(
        -std::log(op.getMaxPeriod().convertToDouble()));
    float divisor = static_cast<float>(
        half - op.getDownscaleFreqShift().convertToDouble());
    SmallVector<double> freqs;
    for (int64_t c = 0; c < dim; ++c)
      freqs.push_back(std::exp(logPeriod * float(c % half) / divisor));
    Value table = constantVector(rewriter, loc, freqs, elem);
    double scale = op.getScale().convertToDouble();
    bool flip = op.getFlipSinToCos();
    SmallVector<OpFoldResult> sizes{sizesOf(rewriter, loc, op.getTimesteps())[0],
                                    rewriter.getIndexAttr(dim)};
    Value init = emptyTensor(rewriter, loc, sizes, elem);
    Value result = generic(
        rewriter, loc, {op.getTimesteps(), table}, init,
        {selectDims(ctx, 2, {0}), selectDims(ctx, 2, {1}),
         rewriter.getMultiDimIdentityMap(2)},
        iterators(2), [&](OpBuilder &b, Location l, ValueRange args) {
          Value angle = arith::MulFOp::create(b, l, args[0], args[1]);
          if (scale != 1.0)
            angle = arith::MulFOp::create(b, l, angle,
                                          floatConstant(b, l, elem, scale));
          Value c = linalg::IndexOp::create(b, l, 1);
          Value firstHalf = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::ult, c, indexConstant(b, l, half));
          Value s = math::SinOp::create(b, l, angle);
          Value co = math::CosOp::create(b, l, angle);
          Value out = flip ? arith::SelectOp::create(b, l, firstHalf, co, s)
                           : arith::SelectOp::create(b, l, firstHalf, s, co);
          yieldValue(b, l, out);
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

/// out[..., d] = table[clamp(ids[...]), d].
struct LowerEmbedding : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    unsigned rank = type.getRank();
    Value table = op.getTable();
    Value vocabLast = arith::SubIOp::create(
        rewriter, loc, dimIndex(rewriter, loc, table, 0),
        indexConstant(rewriter, loc, 1));
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getIds());
    sizes.push_back(sizesOf(rewriter, loc, table)[1]);
    SmallVector<unsigned> leading;
    for (unsigned i = 0; i + 1 < rank; ++i)
      leading.push_back(i);
    Value init = emptyTensor(rewriter, loc, sizes, type.getElementType());
    Value result = generic(
        rewriter, loc, op.getIds(), init,
        {selectDims(rewriter.getContext(), rank, leading),
         rewriter.getMultiDimIdentityMap(rank)},
        iterators(rank), [&](OpBuilder &b, Location l, ValueRange args) {
          Value id = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                args[0]);
          id = arith::MaxSIOp::create(b, l, id, indexConstant(b, l, 0));
          id = arith::MinSIOp::create(b, l, id, vocabLast);
          Value d = linalg::IndexOp::create(b, l, rank - 1);
          yieldValue(
              b, l, tensor::ExtractOp::create(b, l, table, ValueRange{id, d})
                        .getResult());
        });
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

} // namespace

void populatePositionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRopeFrequencies, LowerRope, LowerTimestepEmbedding,
               LowerEmbedding>(patterns.getContext());
}

} // namespace mlir::kiln
