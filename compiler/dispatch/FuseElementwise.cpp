//===- FuseElementwise.cpp - One dispatch per elementwise chain -----------===//
//
// Upstream linalg elementwise fusion with a control function that keeps
// fusion from recomputing work (see Passes.td, kiln-fuse-elementwise).
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

bool allParallel(linalg::GenericOp op) {
  return op.getNumReductionLoops() == 0;
}

/// Fuse `operand`'s producer into its consumer only when that computes
/// nothing twice: both all-parallel, the producer's value used once, read
/// through a permutation (no broadcast).
bool shouldFuse(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer || !allParallel(producer) ||
      !allParallel(consumer) || !operand->get().hasOneUse())
    return false;
  if (!consumer.isDpsInput(operand))
    return false;
  auto result = cast<OpResult>(operand->get());
  AffineMap producerMap = producer.getIndexingMapMatchingResult(result);
  AffineMap consumerMap = consumer.getMatchingIndexingMap(operand);
  return producerMap.isPermutation() && consumerMap.isPermutation();
}

struct FuseElementwisePass
    : impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
