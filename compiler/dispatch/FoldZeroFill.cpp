//===- FoldZeroFill.cpp - Contractions that start from zero themselves ----===//
//
// See Passes.td (kiln-fold-zero-fill) and Attributes.h (kiln.zero_init).
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Attributes.h"
#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Matchers.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FOLDZEROFILLPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

/// The fill of +0.0 that `init` is, when it is one and has no other use.
linalg::FillOp zeroFillOf(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill || !init.hasOneUse() || !fill.hasPureTensorSemantics())
    return nullptr;
  FloatAttr value;
  if (!matchPattern(fill.getInputs()[0], m_Constant(&value)) ||
      !value.getValue().isPosZero())
    return nullptr;
  return fill;
}

struct FoldZeroFillPass : impl::FoldZeroFillPassBase<FoldZeroFillPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::GenericOp op) {
      if (op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
        return;
      OpOperand *init = op.getDpsInitOperand(0);
      linalg::FillOp fill = zeroFillOf(init->get());
      if (!fill)
        return;
      init->set(fill.getOutputs()[0]);
      op->setAttr(kZeroInitAttr, UnitAttr::get(op.getContext()));
      fill.erase();
    });
  }
};

} // namespace
} // namespace mlir::kiln
