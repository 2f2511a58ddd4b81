//===- MaterializeZeroInit.cpp - Put back the fills of zero-init ops ------===//
//
// kiln-fold-zero-fill marks contractions `kiln.zero_init` and erases their
// fills; kiln-cpu-vectorize-contractions starts such a contraction's
// accumulators from zero. Any marked op it did not rewrite (not f32, a
// layout it has no micro-kernel for) would otherwise accumulate onto an
// uninitialized buffer, so this pass, run right after it, fills their
// outputs with zero again and drops the mark; a kiln.bias_init op's output
// gets its bias broadcast (its body ignores the bias input), and a
// kiln.epilogue op is split into the contraction and an elementwise op
// after it.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Attributes.h"
#include "compiler/dispatch/ContractionLike.h"
#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_MATERIALIZEZEROINITPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

/// An operand's map in the op's loops as a map in its output's dims: each
/// loop that the output indexes becomes that output dim (constants stay).
AffineMap inOutputDims(AffineMap map, AffineMap outMap) {
  SmallVector<AffineExpr> exprs;
  for (AffineExpr e : map.getResults())
    exprs.push_back(isa<AffineConstantExpr>(e)
                        ? e
                        : getAffineDimExpr(*outMap.getResultPosition(e),
                                           map.getContext()));
  return AffineMap::get(outMap.getNumResults(), 0, exprs, map.getContext());
}

/// out[..., n, ...] = bias[n] before `op`: the broadcast kiln-fold-bias-init
/// removed, over the output's dims.
void writeBias(OpBuilder &b, linalg::LinalgOp op) {
  Value bias = op.getDpsInputs()[2], out = op.getDpsInitOperand(0)->get();
  AffineMap outMap = op.getIndexingMapsArray().back();
  unsigned rank = outMap.getNumResults();
  AffineMap biasMap = inOutputDims(op.getIndexingMapsArray()[2], outMap);
  linalg::GenericOp::create(
      b, op.getLoc(), ValueRange{bias}, ValueRange{out},
      ArrayRef<AffineMap>{biasMap, b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &nested, Location loc, ValueRange args) {
        linalg::YieldOp::create(nested, loc, args[0]);
      });
}

/// A kiln.epilogue contraction as the contraction (its inputs but the
/// epilogue's, its accumulation) then the epilogue as an elementwise op
/// over the output, in place.
void splitEpilogue(linalg::GenericOp op, const ContractionBody &parts) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value out = op.getDpsInits()[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap outMap = maps.back();
  SmallVector<Value> inputs(op.getDpsInputs());
  Block *body = op.getBlock();
  SmallVector<AffineMap> contractionMaps(maps.begin(),
                                         maps.begin() + parts.firstExtra);
  contractionMaps.push_back(outMap);

  auto contraction = linalg::GenericOp::create(
      b, loc, ValueRange(inputs).take_front(parts.firstExtra), ValueRange{out},
      contractionMaps,
      op.getIteratorTypesArray(),
      [&](OpBuilder &nested, Location l, ValueRange args) {
        IRMapping mapping;
        for (unsigned i = 0; i < parts.firstExtra; ++i)
          mapping.map(body->getArgument(i), args[i]);
        mapping.map(body->getArguments().back(), args.back());
        for (Operation &inner : body->without_terminator()) {
          if (llvm::is_contained(parts.epilogue, &inner))
            continue;
          nested.clone(inner, mapping);
        }
        linalg::YieldOp::create(nested, l, mapping.lookup(parts.acc));
      });
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (attr.getName() != kEpilogueAttr)
      contraction->setAttr(attr.getName(), attr.getValue());

  SmallVector<AffineMap> epilogueMaps;
  for (unsigned i = parts.firstExtra; i < inputs.size(); ++i)
    epilogueMaps.push_back(inOutputDims(maps[i], outMap));
  unsigned rank = outMap.getNumResults();
  epilogueMaps.push_back(b.getMultiDimIdentityMap(rank));
  linalg::GenericOp::create(
      b, loc, ValueRange(inputs).drop_front(parts.firstExtra), ValueRange{out},
      epilogueMaps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nested, Location l, ValueRange args) {
        IRMapping mapping;
        for (unsigned i = parts.firstExtra; i < inputs.size(); ++i)
          mapping.map(body->getArgument(i), args[i - parts.firstExtra]);
        mapping.map(parts.acc, args.back());
        linalg::YieldOp::create(
            nested, l,
            cloneEpilogue(nested, l, parts, body, mapping, /*width=*/0));
      });
  op.erase();
}

struct MaterializeZeroInitPass
    : impl::MaterializeZeroInitPassBase<MaterializeZeroInitPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> fused;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kEpilogueAttr))
        fused.push_back(op);
    });
    for (linalg::GenericOp op : fused) {
      std::optional<ContractionBody> parts = contractionBody(op);
      if (!parts) {
        // Its body would run the epilogue at every step of k.
        op.emitOpError("has kiln.epilogue but not the body of a contraction "
                       "with an epilogue");
        return signalPassFailure();
      }
      splitEpilogue(op, *parts);
    }
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
