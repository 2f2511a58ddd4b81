//===- LoweringUtils.cpp - Helpers for the kiln to linalg lowering --------===//

#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::kiln {

void yieldMulAdd(OpBuilder &b, Location loc, ValueRange args) {
  Value prod = arith::MulFOp::create(b, loc, args[0], args[1]);
  yieldValue(b, loc, arith::AddFOp::create(b, loc, args[2], prod));
}

SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value) {
  Value empty = emptyTensor(b, loc, sizes, elementType);
  Value scalar = floatConstant(b, loc, elementType, value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value dimIndex(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  return tensor::DimOp::create(b, loc, tensor, dim);
}

Value indexToFloat(OpBuilder &b, Location loc, Value index, Type type) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return arith::SIToFPOp::create(b, loc, type, i64);
}

SmallVector<utils::IteratorType> iterators(unsigned parallel,
                                           unsigned reductions) {
  SmallVector<utils::IteratorType> result(parallel,
                                          utils::IteratorType::parallel);
  result.append(reductions, utils::IteratorType::reduction);
  return result;
}

AffineMap selectDims(MLIRContext *ctx, unsigned numDims,
                     ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

Value generic(OpBuilder &b, Location loc, ValueRange inputs, Value init,
              ArrayRef<AffineMap> maps,
              ArrayRef<utils::IteratorType> iteratorTypes, BodyFn body) {
  return linalg::GenericOp::create(b, loc, TypeRange{init.getType()}, inputs,
                                   ValueRange{init}, maps, iteratorTypes, body)
      .getResult(0);
}

Value mapElements(OpBuilder &b, Location loc, Value x,
                  function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto type = cast<RankedTensorType>(x.getType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  Value init = emptyTensor(b, loc, sizesOf(b, loc, x), type.getElementType());
  return generic(b, loc, x, init, {id, id}, iterators(type.getRank()),
                 [&](OpBuilder &nb, Location nl, ValueRange args) {
                   yieldValue(nb, nl, fn(nb, nl, args[0]));
                 });
}

Value sumLastDim(OpBuilder &b, Location loc, Value x, Value extra,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  SmallVector<OpFoldResult> sizes = sizesOf(b, loc, x);
  sizes.pop_back();
  Value init = filledTensor(b, loc, sizes, type.getElementType(), 0.0);
  SmallVector<unsigned> leading;
  for (unsigned i = 0; i + 1 < rank; ++i)
    leading.push_back(i);
  AffineMap reduced = selectDims(b.getContext(), rank, leading);
  SmallVector<Value> inputs{x};
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  if (extra) {
    inputs.push_back(extra);
    maps.push_back(reduced);
  }
  maps.push_back(reduced);
  return generic(b, loc, inputs, init, maps, iterators(rank - 1, 1),
                 [&](OpBuilder &nb, Location nl, ValueRange args) {
                   Value term = fn(nb, nl, args[0], extra ? args[1] : Value());
                   Value sum =
                       arith::AddFOp::create(nb, nl, args.back(), term);
                   yieldValue(nb, nl, sum);
                 });
}

void replaceWithCast(PatternRewriter &rewriter, Operation *op, Value value) {
  Type type = op->getResult(0).getType();
  if (value.getType() != type)
    value = tensor::CastOp::create(rewriter, op->getLoc(), type, value);
  rewriter.replaceOp(op, value);
}

Value rsqrtPlus(OpBuilder &b, Location loc, Value v, Value eps) {
  return math::RsqrtOp::create(b, loc, arith::AddFOp::create(b, loc, v, eps));
}

} // namespace mlir::kiln
