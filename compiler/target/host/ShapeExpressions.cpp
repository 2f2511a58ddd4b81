//===- ShapeExpressions.cpp - Index SSA values as artifact expressions ----===//

#include "compiler/target/host/ShapeExpressions.h"

#include "compiler/target/host/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::kiln {

using ::kiln::artifact::ExprOp;
using ::kiln::artifact::Expression;

Expression ShapeExpressionBuilder::symbol(unsigned argument, int64_t dim) {
  // Sizes that kiln-annotate-dim-aliases proved equal share one symbol.
  if (auto aliases = host->getAttrOfType<DenseI64ArrayAttr>(kDimAliasesAttr)) {
    ArrayRef<int64_t> quads = aliases.asArrayRef();
    for (size_t i = 0; i + 3 < quads.size(); i += 4)
      if (quads[i] == argument && quads[i + 1] == dim) {
        argument = quads[i + 2];
        dim = quads[i + 3];
        break;
      }
  }
  auto key = std::make_pair(argument, dim);
  auto [it, inserted] = symbolIndex.try_emplace(key, symbolList.size());
  if (inserted)
    symbolList.push_back(key);
  return Expression::Dim(it->second);
}

FailureOr<Expression> ShapeExpressionBuilder::dimension(Value memref,
                                                        int64_t dim) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(dim))
    return Expression::Constant(type.getDimSize(dim));
  if (auto arg = dyn_cast<BlockArgument>(memref)) {
    if (arg.getOwner()->getParentOp() != host)
      return emitError(memref.getLoc(), "a size of a nested block argument");
    return symbol(arg.getArgNumber(), dim);
  }
  Operation *def = memref.getDefiningOp();
  if (auto alloc = dyn_cast<memref::AllocOp>(def))
    return build(alloc.getDynamicSizes()[type.getDynamicDimIndex(dim)]);
  if (auto cast = dyn_cast<memref::CastOp>(def))
    return dimension(cast.getSource(), dim);
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(def))
    return fold(expand.getMixedOutputShape()[dim]);
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def)) {
    // The product of the source dimensions folded into this one.
    Expression product = Expression::Constant(1);
    for (int64_t source : collapse.getReassociationIndices()[dim]) {
      FailureOr<Expression> size = dimension(collapse.getSrc(), source);
      if (failed(size))
        return failure();
      product = Expression::Binary(ExprOp::kMul, product, *size);
    }
    return product;
  }
  if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
    // Rank-reducing subviews drop unit dimensions: skip them.
    llvm::SmallBitVector dropped = subview.getDroppedDims();
    SmallVector<OpFoldResult> sizes = subview.getMixedSizes();
    int64_t kept = -1;
    for (size_t i = 0; i < sizes.size(); ++i)
      if (!dropped.test(i) && ++kept == dim)
        return fold(sizes[i]);
  }
  if (auto reshape = dyn_cast<memref::ReshapeOp>(def)) {
    // The shape buffer is filled with memref.store at constant indices.
    for (Operation *user : reshape.getShape().getUsers()) {
      auto store = dyn_cast<memref::StoreOp>(user);
      APInt index;
      if (store && store.getIndices().size() == 1 &&
          matchPattern(store.getIndices()[0], m_ConstantInt(&index)) &&
          index.getSExtValue() == dim)
        return build(store.getValueToStore());
    }
  }
  return def->emitOpError("has a dynamic size the host program cannot "
                          "describe yet (dimension ")
         << dim << ")";
}

FailureOr<Expression> ShapeExpressionBuilder::fold(OpFoldResult size) {
  if (auto attr = dyn_cast<Attribute>(size))
    return Expression::Constant(cast<IntegerAttr>(attr).getInt());
  return build(cast<Value>(size));
}

FailureOr<Expression> ShapeExpressionBuilder::build(Value value) {
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  FailureOr<Expression> expr = buildUncached(value);
  if (succeeded(expr))
    cache.try_emplace(value, *expr);
  return expr;
}

/// a - floordiv(a, b) * b.
static Expression remainder(const Expression &a, const Expression &b) {
  return Expression::Binary(
      ExprOp::kSub, a,
      Expression::Binary(ExprOp::kMul, Expression::Binary(ExprOp::kFloorDiv, a, b),
                         b));
}

FailureOr<Expression> ShapeExpressionBuilder::buildUncached(Value value) {
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant)))
    return Expression::Constant(constant.getSExtValue());
  Operation *def = value.getDefiningOp();
  if (!def)
    return emitError(value.getLoc(),
                     "an index argument of the host program (only tensor "
                     "sizes can be symbols)");
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!index)
      return def->emitOpError("needs a constant dimension index");
    return dimension(dim.getSource(), *index);
  }
  if (auto cast = dyn_cast<arith::IndexCastOp>(def))
    return build(cast.getIn());
  if (auto apply = dyn_cast<affine::AffineApplyOp>(def)) {
    AffineMap map = apply.getAffineMap();
    return fromAffine(map.getResult(0),
                      apply.getOperands().take_front(map.getNumDims()),
                      apply.getOperands().drop_front(map.getNumDims()));
  }
  // Binary integer arithmetic; divisions of sizes are of non-negative
  // values, where unsigned and floor division agree.
  std::optional<ExprOp> op =
      llvm::TypeSwitch<Operation *, std::optional<ExprOp>>(def)
          .Case<arith::AddIOp>([](auto) { return ExprOp::kAdd; })
          .Case<arith::SubIOp>([](auto) { return ExprOp::kSub; })
          .Case<arith::MulIOp>([](auto) { return ExprOp::kMul; })
          .Case<arith::DivUIOp, arith::DivSIOp, arith::FloorDivSIOp>(
              [](auto) { return ExprOp::kFloorDiv; })
          .Case<arith::CeilDivUIOp, arith::CeilDivSIOp>(
              [](auto) { return ExprOp::kCeilDiv; })
          .Case<arith::MinUIOp, arith::MinSIOp>([](auto) { return ExprOp::kMin; })
          .Case<arith::MaxUIOp, arith::MaxSIOp>([](auto) { return ExprOp::kMax; })
          .Case<arith::RemUIOp, arith::RemSIOp>(
              [](auto) { return ExprOp::kSub; })  // see remainder()
          .Default([](Operation *) { return std::nullopt; });
  if (!op || def->getNumOperands() != 2)
    return def->emitOpError("is not expressible in the artifact's "
                            "expression language");
  FailureOr<Expression> lhs = build(def->getOperand(0));
  FailureOr<Expression> rhs = build(def->getOperand(1));
  if (failed(lhs) || failed(rhs))
    return failure();
  if (isa<arith::RemUIOp, arith::RemSIOp>(def))
    return remainder(*lhs, *rhs);
  return Expression::Binary(*op, *lhs, *rhs);
}

FailureOr<Expression>
ShapeExpressionBuilder::fromAffine(AffineExpr expr, ValueRange dims,
                                   ValueRange symbols) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return Expression::Constant(c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(expr))
    return build(dims[d.getPosition()]);
  if (auto s = dyn_cast<AffineSymbolExpr>(expr))
    return build(symbols[s.getPosition()]);
  auto bin = cast<AffineBinaryOpExpr>(expr);
  FailureOr<Expression> lhs = fromAffine(bin.getLHS(), dims, symbols);
  FailureOr<Expression> rhs = fromAffine(bin.getRHS(), dims, symbols);
  if (failed(lhs) || failed(rhs))
    return failure();
  switch (bin.getKind()) {
  case AffineExprKind::Add:
    return Expression::Binary(ExprOp::kAdd, *lhs, *rhs);
  case AffineExprKind::Mul:
    return Expression::Binary(ExprOp::kMul, *lhs, *rhs);
  case AffineExprKind::FloorDiv:
    return Expression::Binary(ExprOp::kFloorDiv, *lhs, *rhs);
  case AffineExprKind::CeilDiv:
    return Expression::Binary(ExprOp::kCeilDiv, *lhs, *rhs);
  case AffineExprKind::Mod:
    return remainder(*lhs, *rhs);
  default:
    return emitError(host.getLoc(), "unsupported affine expression");
  }
}

} // namespace mlir::kiln
