//===- ContractionLike.cpp - Contractions with a bias or an epilogue ------===//

#include "compiler/dispatch/ContractionLike.h"

#include "compiler/dispatch/Attributes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

namespace mlir::kiln {
namespace {

/// The block argument `v` is, directly or widened by its only user's
/// arith.extf (a weight kiln-narrow-weights stores as bf16).
BlockArgument inputArg(Value v) {
  if (auto ext = v.getDefiningOp<arith::ExtFOp>(); ext && ext->hasOneUse())
    v = ext.getIn();
  return dyn_cast<BlockArgument>(v);
}

/// Whether `v` is `x * y` of block arguments 0 and 1 (or their widenings),
/// in either order.
bool isProductOfInputs(Value v) {
  auto mul = v.getDefiningOp<arith::MulFOp>();
  if (!mul || !mul->hasOneUse())
    return false;
  BlockArgument x = inputArg(mul.getLhs()), y = inputArg(mul.getRhs());
  if (!x || !y)
    return false;
  return (x.getArgNumber() == 0 && y.getArgNumber() == 1) ||
         (x.getArgNumber() == 1 && y.getArgNumber() == 0);
}

} // namespace

FailureOr<linalg::ContractionDimensions>
contractionLikeDims(linalg::LinalgOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps.size() < 3)
    return failure();
  return linalg::inferContractionDims(
      ArrayRef<AffineMap>{maps[0], maps[1], maps.back()});
}

std::optional<unsigned> biasLoop(AffineMap bias,
                                 const linalg::ContractionDimensions &dims) {
  if (bias.getNumResults() != 1)
    return std::nullopt;
  auto dim = dyn_cast<AffineDimExpr>(bias.getResult(0));
  if (!dim || !llvm::is_contained(dims.n, dim.getPosition()))
    return std::nullopt;
  return dim.getPosition();
}

bool isEpilogueConstant(Value v) {
  auto constant = v.getDefiningOp<arith::ConstantOp>();
  return constant && constant.getType().isIntOrIndexOrFloat();
}

bool isEpilogueOp(Operation *op) {
  if (isa<arith::ConstantOp>(op))
    return isEpilogueConstant(op->getResult(0));
  return isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
         op->hasTrait<OpTrait::Elementwise>() && op->getNumResults() == 1;
}

std::optional<ContractionBody> contractionBody(linalg::LinalgOp op) {
  bool biased = op->hasAttr(kBiasInitAttr), fused = op->hasAttr(kEpilogueAttr);
  if (!biased && !fused && op.getNumDpsInputs() == 2 &&
      linalg::isaContractionOpInterface(op)) {
    auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
    return ContractionBody{yield.getOperand(0), 2, {}};
  }
  unsigned firstExtra = biased ? 3 : 2;
  if ((!biased && !fused) || op.getNumDpsInits() != 1 ||
      op.getNumDpsInputs() < firstExtra ||
      (!fused && op.getNumDpsInputs() != firstExtra) ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims = contractionLikeDims(op);
  if (failed(dims) || dims->k.size() != 1 ||
      (biased && !biasLoop(op.getIndexingMapsArray()[2], *dims)))
    return std::nullopt;
  // The accumulation: out + a * b.
  Block *body = op.getBlock();
  Value out = body->getArgument(op.getNumDpsInputs());
  ContractionBody result{Value(), firstExtra, {}};
  for (Operation &inner : body->without_terminator()) {
    auto add = dyn_cast<arith::AddFOp>(&inner);
    if (add && ((add.getLhs() == out && isProductOfInputs(add.getRhs())) ||
                (add.getRhs() == out && isProductOfInputs(add.getLhs())))) {
      result.acc = add;
      break;
    }
  }
  if (!result.acc)
    return std::nullopt;
  // Everything else but the product is the epilogue, on acc, the extra
  // inputs and its own results.
  auto accumulation = cast<arith::AddFOp>(result.acc.getDefiningOp());
  Operation *product = (accumulation.getLhs() == out ? accumulation.getRhs()
                                                     : accumulation.getLhs())
                           .getDefiningOp();
  // The product's operands' widenings belong to it too.
  SmallVector<Operation *> productOps{product, accumulation};
  for (Value operand : product->getOperands())
    if (auto ext = operand.getDefiningOp<arith::ExtFOp>())
      productOps.push_back(ext);
  for (Operation &inner : body->without_terminator()) {
    if (llvm::is_contained(productOps, &inner))
      continue;
    if (!fused || !isEpilogueOp(&inner))
      return std::nullopt;
    for (Value operand : inner.getOperands()) {
      auto arg = dyn_cast<BlockArgument>(operand);
      bool ok = operand == result.acc || isEpilogueConstant(operand) ||
                (arg ? arg.getOwner() == body &&
                           arg.getArgNumber() >= firstExtra &&
                           arg.getArgNumber() < op.getNumDpsInputs()
                     : operand.getParentBlock() == body);
      if (!ok)
        return std::nullopt;
    }
    result.epilogue.push_back(&inner);
  }
  Value yielded = body->getTerminator()->getOperand(0);
  if (fused == (yielded == result.acc))
    return std::nullopt;
  return result;
}

Value cloneEpilogue(OpBuilder &b, Location loc, const ContractionBody &parts,
                    Block *block, IRMapping &mapping, int64_t width) {
  auto shaped = [&](Type t) -> Type {
    return width ? VectorType::get({width}, t) : t;
  };
  // Constants, inside the body or hoisted out of it, as scalars or splats.
  auto constantOf = [&](arith::ConstantOp constant) -> Value {
    Attribute value = constant.getValue();
    if (width)
      value = SplatElementsAttr::get(
          cast<ShapedType>(shaped(constant.getType())), value);
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(value));
  };
  for (Operation *op : parts.epilogue) {
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      mapping.map(constant.getResult(), constantOf(constant));
      continue;
    }
    OperationState state(loc, op->getName());
    for (Value operand : op->getOperands()) {
      if (!mapping.contains(operand))
        mapping.map(operand,
                    constantOf(operand.getDefiningOp<arith::ConstantOp>()));
      state.addOperands(mapping.lookup(operand));
    }
    for (Type type : op->getResultTypes())
      state.addTypes(shaped(type));
    state.addAttributes(op->getAttrs());
    mapping.map(op->getResult(0), b.create(state)->getResult(0));
  }
  return mapping.lookup(block->getTerminator()->getOperand(0));
}

bool isContractionLike(linalg::LinalgOp op) {
  return contractionBody(op).has_value();
}

} // namespace mlir::kiln
