//===- MaterializeZeroInit.cpp - Put back the fills of zero-init ops ------===//
//
// kiln-fold-zero-fill marks contractions `kiln.zero_init` and erases their
// fills; kiln-cpu-vectorize-contractions starts such a contraction's
// accumulators from zero. Any marked op it did not rewrite (not f32, a
// layout it has no micro-kernel for) would otherwise accumulate onto an
// uninitialized buffer, so this pass, run right after it, fills their
// outputs with zero again and drops the mark.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Attributes.h"
#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_MATERIALIZEZEROINITPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

struct MaterializeZeroInitPass
    : impl::MaterializeZeroInitPassBase<MaterializeZeroInitPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      if (!op->hasAttr(kZeroInitAttr))
        return;
      OpBuilder b(op);
      Value out = op.getDpsInitOperand(0)->get();
      Type elem = getElementTypeOrSelf(out.getType());
      Value zero = arith::ConstantOp::create(b, op.getLoc(), elem,
                                             b.getZeroAttr(elem));
      linalg::FillOp::create(b, op.getLoc(), ValueRange{zero},
                             ValueRange{out});
      op->removeAttr(kZeroInitAttr);
    });
  }
};

} // namespace
} // namespace mlir::kiln
