//===- FoldBiasInit.cpp - Contractions that start from their bias ---------===//
//
// See Passes.td (kiln-fold-bias-init) and Attributes.h (kiln.bias_init).
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Attributes.h"
#include "compiler/dispatch/ContractionLike.h"
#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FOLDBIASINITPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

/// The broadcast `init` is when it is one: an all-parallel generic used
/// only here, writing a tensor.empty with the identity map, whose body
/// yields its one input unchanged.
linalg::GenericOp broadcastOf(Value init) {
  auto op = init.getDefiningOp<linalg::GenericOp>();
  if (!op || !init.hasOneUse() || !op.hasPureTensorSemantics() ||
      op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != op.getNumParallelLoops() ||
      !op.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>() ||
      !op.getIndexingMapsArray()[1].isIdentity() ||
      !op.getIndexingMapsArray()[0].isProjectedPermutation())
    return nullptr;
  auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  if (op.getBlock()->getOperations().size() != 1 ||
      yield.getOperand(0) != op.getBlock()->getArgument(0))
    return nullptr;
  return op;
}

/// Rewrites `op` (a contraction whose output is the broadcast `bcast`) to
/// take the bias as a third input and the broadcast's empty tensor as its
/// output, when the bias is indexed by one n loop; else leaves both.
void fold(IRRewriter &rewriter, linalg::GenericOp op,
          linalg::GenericOp bcast) {
  // The bias in the contraction's loops: its map in the broadcast's (the
  // output's) dims, composed with the contraction's output map.
  AffineMap outMap = op.getIndexingMapsArray()[2];
  AffineMap biasMap = bcast.getIndexingMapsArray()[0].compose(outMap);
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || !biasLoop(biasMap, *dims))
    return;
  Value bias = bcast.getDpsInputs()[0];
  rewriter.setInsertionPoint(op);
  auto folded = linalg::GenericOp::create(
      rewriter, op.getLoc(), op.getResultTypes(),
      ValueRange{op.getDpsInputs()[0], op.getDpsInputs()[1], bias},
      ValueRange{bcast.getDpsInits()[0]},
      ArrayRef<AffineMap>{op.getIndexingMapsArray()[0],
                          op.getIndexingMapsArray()[1], biasMap, outMap},
      op.getIteratorTypesArray());
  rewriter.inlineRegionBefore(op.getRegion(), folded.getRegion(),
                              folded.getRegion().end());
  folded.getRegion().front().insertArgument(
      2u, getElementTypeOrSelf(bias.getType()), op.getLoc());
  folded->setAttr(kBiasInitAttr, rewriter.getUnitAttr());
  rewriter.replaceOp(op, folded.getResults());
  rewriter.eraseOp(bcast);
}

struct FoldBiasInitPass : impl::FoldBiasInitPassBase<FoldBiasInitPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, linalg::GenericOp>> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
          !op.hasPureTensorSemantics() ||
          !linalg::isaContractionOpInterface(op))
        return;
      if (linalg::GenericOp bcast = broadcastOf(op.getDpsInits()[0]))
        found.push_back({op, bcast});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, bcast] : found)
      fold(rewriter, op, bcast);
  }
};

} // namespace
} // namespace mlir::kiln
