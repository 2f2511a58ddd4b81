//===- FuseContractionEpilogue.cpp - Elementwise ops into contractions ----===//
//
// See Passes.td (kiln-fuse-contraction-epilogue) and Attributes.h
// (kiln.epilogue).
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Attributes.h"
#include "compiler/dispatch/ContractionLike.h"
#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSECONTRACTIONEPILOGUEPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

/// The elementwise op that is the only user of contraction `op`'s result,
/// when it can become its epilogue: all-parallel, one output written over
/// a tensor.empty with the identity map, the contraction's result read
/// once with the identity map, a body of epilogue ops (ContractionLike.h)
/// and the same f32 element type.
linalg::GenericOp epilogueOf(linalg::GenericOp op) {
  Value result = op->getResult(0);
  if (!result.hasOneUse())
    return nullptr;
  auto user = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
  if (!user || !user.hasPureTensorSemantics() || user.getNumDpsInits() != 1 ||
      user.getNumLoops() != user.getNumParallelLoops() ||
      !user.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>() ||
      user->getResult(0).getType() != result.getType() ||
      !getElementTypeOrSelf(result.getType()).isF32())
    return nullptr;
  SmallVector<AffineMap> maps = user.getIndexingMapsArray();
  if (!maps.back().isIdentity())
    return nullptr;
  for (OpOperand *input : user.getDpsInputOperands()) {
    AffineMap map = maps[input->getOperandNumber()];
    // Others may broadcast, size-1 dims included (a gate per image).
    if (input->get() == result
            ? !map.isIdentity()
            : !map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return nullptr;
  }
  // The output's own value is not read (it is the empty tensor's).
  Block *body = user.getBlock();
  if (!body->getArguments().back().use_empty())
    return nullptr;
  for (Operation &inner : body->without_terminator()) {
    if (!isEpilogueOp(&inner))
      return nullptr;
    for (Value operand : inner.getOperands())
      if (!isEpilogueConstant(operand) && operand.getParentBlock() != body)
        return nullptr;
  }
  return user;
}

/// One contraction doing both: the contraction's inputs, then the
/// epilogue's other inputs (maps moved to the contraction's loops through
/// its output map), the epilogue's empty tensor as output, and the
/// epilogue's body after the accumulation.
void fuse(IRRewriter &rewriter, linalg::GenericOp op,
          linalg::GenericOp epilogue) {
  Value result = op->getResult(0);
  AffineMap outMap = op.getIndexingMapsArray().back();
  SmallVector<Value> inputs(op.getDpsInputs());
  SmallVector<AffineMap> maps(op.getIndexingMapsArray());
  maps.pop_back();
  Block *epilogueBody = epilogue.getBlock();
  Value accArg; // the epilogue's block argument of the contraction's result
  SmallVector<BlockArgument> extraArgs;
  for (OpOperand *input : epilogue.getDpsInputOperands()) {
    BlockArgument arg = epilogueBody->getArgument(input->getOperandNumber());
    if (input->get() == result) {
      accArg = arg;
      continue;
    }
    inputs.push_back(input->get());
    maps.push_back(epilogue.getMatchingIndexingMap(input).compose(outMap));
    extraArgs.push_back(arg);
  }
  maps.push_back(outMap);

  rewriter.setInsertionPoint(epilogue);
  auto fused = linalg::GenericOp::create(
      rewriter, op.getLoc(), epilogue->getResultTypes(), inputs,
      epilogue.getDpsInits(), maps, op.getIteratorTypesArray());
  // kiln.zero_init / kiln.bias_init carry over.
  for (NamedAttribute attr : op->getDiscardableAttrs())
    fused->setAttr(attr.getName(), attr.getValue());
  fused->setAttr(kEpilogueAttr, rewriter.getUnitAttr());

  // The contraction's body with the extra inputs' arguments inserted before
  // the output's, then the epilogue's ops on its yielded value.
  Block *body = new Block();
  fused.getRegion().push_back(body);
  IRMapping mapping;
  Block *contractionBody = op.getBlock();
  unsigned numInputs = op.getNumDpsInputs();
  for (unsigned i = 0; i < numInputs; ++i)
    mapping.map(contractionBody->getArgument(i),
                body->addArgument(contractionBody->getArgument(i).getType(),
                                  op.getLoc()));
  for (BlockArgument arg : extraArgs)
    mapping.map(arg, body->addArgument(arg.getType(), op.getLoc()));
  mapping.map(contractionBody->getArguments().back(),
              body->addArgument(
                  contractionBody->getArguments().back().getType(),
                  op.getLoc()));
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(body);
  for (Operation &inner : contractionBody->without_terminator())
    rewriter.clone(inner, mapping);
  mapping.map(accArg,
              mapping.lookup(contractionBody->getTerminator()->getOperand(0)));
  for (Operation &inner : epilogueBody->without_terminator())
    rewriter.clone(inner, mapping);
  linalg::YieldOp::create(
      rewriter, op.getLoc(),
      mapping.lookup(epilogueBody->getTerminator()->getOperand(0)));

  rewriter.replaceOp(epilogue, fused->getResults());
  rewriter.eraseOp(op);
}

struct FuseContractionEpiloguePass
    : impl::FuseContractionEpiloguePassBase<FuseContractionEpiloguePass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> found;
    getOperation().walk([&](linalg::GenericOp op) {
      // Only contractions whose output starts uninitialized (zero or bias
      // init) can take the epilogue's empty tensor as their output.
      if (op.hasPureTensorSemantics() && op.getNumDpsInits() == 1 &&
          !op->hasAttr(kEpilogueAttr) &&
          (op->hasAttr(kZeroInitAttr) || op->hasAttr(kBiasInitAttr)) &&
          isContractionLike(op))
        found.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    // The epilogue is looked up again for each: an elementwise op that
    // reads two contractions becomes the first one's epilogue, and the
    // second one's result then goes to the fused op instead.
    for (linalg::GenericOp op : found)
      if (linalg::GenericOp epilogue = epilogueOf(op))
        fuse(rewriter, op, epilogue);
  }
};

} // namespace
} // namespace mlir::kiln
