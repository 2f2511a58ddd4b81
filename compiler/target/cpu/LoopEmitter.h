//===- LoopEmitter.h - scf.for loops whose bodies use one builder -*- C++ -*-===//
//
// The CPU target's kernel emitters (vectorize-contractions, -attention)
// write deep loop nests with one OpBuilder they pass around. scf.for's body
// callback gets a builder of its own; this helper points the shared one
// into the body for the callback's duration instead.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CPU_LOOPEMITTER_H
#define KILN_COMPILER_TARGET_CPU_LOOPEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kiln {

/// for (iv = lb; iv < ub; iv += step) body(iv), `b` positioned in the body.
template <typename Body>
void emitLoop(OpBuilder &b, Location loc, Value lb, Value ub, int64_t step,
              Body body) {
  Value stepValue = arith::ConstantIndexOp::create(b, loc, step);
  scf::ForOp::create(b, loc, lb, ub, stepValue, ValueRange{},
                     [&](OpBuilder &nested, Location, Value iv, ValueRange) {
                       OpBuilder::InsertionGuard guard(b);
                       b.setInsertionPoint(nested.getInsertionBlock(),
                                           nested.getInsertionPoint());
                       body(iv);
                       scf::YieldOp::create(b, loc);
                     });
}

/// The same loop carrying values: body(iv, values) returns the next values;
/// returns the values after the last trip.
template <typename Body>
SmallVector<Value> emitLoopCarrying(OpBuilder &b, Location loc, Value lb,
                                    Value ub, int64_t step,
                                    ArrayRef<Value> init, Body body) {
  Value stepValue = arith::ConstantIndexOp::create(b, loc, step);
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, stepValue, init,
      [&](OpBuilder &nested, Location, Value iv, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        scf::YieldOp::create(
            b, loc, body(iv, SmallVector<Value>(iter.begin(), iter.end())));
      });
  return SmallVector<Value>(loop.getResults());
}

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CPU_LOOPEMITTER_H
