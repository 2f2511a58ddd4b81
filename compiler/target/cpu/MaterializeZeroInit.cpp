//===- MaterializeZeroInit.cpp - Put back the fills of zero-init ops ------===//
//
// kiln-fold-zero-fill marks contractions `kiln.zero_init` and erases their
// fills; kiln-cpu-vectorize-contractions starts such a contraction's
// accumulators from zero. Any marked op it did not rewrite (not f32, a
// layout it has no micro-kernel for) would otherwise accumulate onto an
// uninitialized buffer, so this pass, run right after it, fills their
// outputs with zero again and drops the mark; a kiln.bias_init op's output
// gets its bias broadcast (its body ignores the bias input).
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

/// out[..., n, ...] = bias[n] before `op`: the broadcast kiln-fold-bias-init
/// removed, over the output's dims.
void writeBias(OpBuilder &b, linalg::LinalgOp op) {
  Value bias = op.getDpsInputs()[2], out = op.getDpsInitOperand(0)->get();
  AffineMap outMap = op.getIndexingMapsArray().back();
  unsigned biasLoop =
      cast<AffineDimExpr>(op.getIndexingMapsArray()[2].getResult(0))
          .getPosition();
  unsigned rank = outMap.getNumResults();
  AffineMap biasMap = AffineMap::get(
      rank, 0,
      b.getAffineDimExpr(*outMap.getResultPosition(b.getAffineDimExpr(biasLoop))),
      b.getContext());
  linalg::GenericOp::create(
      b, op.getLoc(), ValueRange{bias}, ValueRange{out},
      ArrayRef<AffineMap>{biasMap, b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &nested, Location loc, ValueRange args) {
        linalg::YieldOp::create(nested, loc, args[0]);
      });
}

struct MaterializeZeroInitPass
    : impl::MaterializeZeroInitPassBase<MaterializeZeroInitPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      OpBuilder b(op);
      if (op->hasAttr(kBiasInitAttr)) {
        writeBias(b, op);
        op->removeAttr(kBiasInitAttr);
        return;
      }
      if (!op->hasAttr(kZeroInitAttr))
        return;
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
