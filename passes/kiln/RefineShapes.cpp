//===- RefineShapes.cpp - Tighten kiln result types -----------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "passes/kiln/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_REFINESHAPESPASS
#include "passes/kiln/Passes.h.inc"

namespace {

/// True when `refined` has the rank and element type of `current` and keeps
/// every static dimension of it while making at least one more static.
bool isStrictRefinement(Type current, Type refined) {
  auto from = dyn_cast<RankedTensorType>(current);
  auto to = dyn_cast<RankedTensorType>(refined);
  if (!from || !to || from == to || from.getRank() != to.getRank() ||
      from.getElementType() != to.getElementType())
    return false;
  for (auto [a, b] : llvm::zip_equal(from.getShape(), to.getShape()))
    if (!ShapedType::isDynamic(a) && a != b)
      return false;
  return true;
}

/// The result types `op` would get from its operands now, if it can say.
FailureOr<SmallVector<Type>> reinferResultTypes(Operation *op) {
  SmallVector<Type> types;
  if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
    if (failed(infer.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getAttrDictionary(), op->getPropertiesStorage(),
            op->getRegions(), types)))
      return failure();
    return types;
  }
  if (op->hasTrait<OpTrait::SameOperandsAndResultType>() &&
      op->getNumOperands() > 0) {
    types.assign(op->getNumResults(), op->getOperand(0).getType());
    return types;
  }
  return failure();
}

struct RefineShapesPass : impl::RefineShapesPassBase<RefineShapesPass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    // Pre-order walk visits producers before consumers within a block, so a
    // refinement flows through a whole chain of kiln ops in one sweep.
    getOperation()->walk([&](Operation *op) {
      if (!isa<KilnDialect>(op->getDialect()))
        return;
      FailureOr<SmallVector<Type>> inferred = reinferResultTypes(op);
      if (failed(inferred))
        return;
      for (auto [result, type] : llvm::zip_equal(op->getResults(), *inferred)) {
        Type old = result.getType();
        if (!isStrictRefinement(old, type))
          continue;
        result.setType(type);
        keepOldTypeForForeignUsers(builder, result, old);
      }
    });
  }

  /// Ops outside the kiln dialect (func.return, tensor ops) were verified
  /// against the old type: give them a cast back to it.
  static void keepOldTypeForForeignUsers(OpBuilder &builder, Value result,
                                         Type old) {
    SmallVector<OpOperand *> foreign;
    for (OpOperand &use : result.getUses())
      if (!isa<KilnDialect>(use.getOwner()->getDialect()))
        foreign.push_back(&use);
    if (foreign.empty())
      return;
    builder.setInsertionPointAfterValue(result);
    Value cast =
        tensor::CastOp::create(builder, result.getLoc(), old, result);
    for (OpOperand *use : foreign)
      use->set(cast);
  }
};

} // namespace
} // namespace mlir::kiln
