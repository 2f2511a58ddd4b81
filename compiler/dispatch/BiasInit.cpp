//===- BiasInit.cpp - Contractions that start from a bias -----------------===//

#include "compiler/dispatch/BiasInit.h"

#include "compiler/dispatch/Attributes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::kiln {
namespace {

/// Whether `v` is `x * y` of block arguments 0 and 1, in either order.
bool isProductOfInputs(Value v) {
  auto mul = v.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  auto arg = [](Value x) { return dyn_cast<BlockArgument>(x); };
  BlockArgument x = arg(mul.getLhs()), y = arg(mul.getRhs());
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

bool isBiasInitContraction(linalg::LinalgOp op) {
  if (!op->hasAttr(kBiasInitAttr) || op.getNumDpsInputs() != 3 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1)
    return false;
  Block *body = op.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  if (yield.getNumOperands() != 1 || body->getOperations().size() != 3)
    return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(3);
  bool shape = (add.getLhs() == out && isProductOfInputs(add.getRhs())) ||
               (add.getRhs() == out && isProductOfInputs(add.getLhs()));
  FailureOr<linalg::ContractionDimensions> dims = contractionLikeDims(op);
  return shape && succeeded(dims) && dims->k.size() == 1 &&
         biasLoop(op.getIndexingMapsArray()[2], *dims);
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

bool isContractionLike(linalg::LinalgOp op) {
  return linalg::isaContractionOpInterface(op) || isBiasInitContraction(op);
}

} // namespace mlir::kiln
