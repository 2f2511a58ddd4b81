//===- FlashAttentionLoops.cpp - kiln.flash_attention as scalar loops -----===//

#include "compiler/dispatch/FlashAttentionLoops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

namespace mlir::kiln {

namespace {

Value f32(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value dimOf(OpBuilder &b, Location loc, Value memref, int64_t d) {
  return memref::DimOp::create(b, loc, memref, d);
}

/// for e in [0, E): out[row..., e] = update(out[row..., e], e).
void forEachOutput(OpBuilder &b, Location loc, Value out, ValueRange row,
                   function_ref<Value(OpBuilder &, Location, Value, Value)>
                       update) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  scf::ForOp::create(
      b, loc, zero, dimOf(b, loc, out, 3), one, ValueRange{},
      [&](OpBuilder &nb, Location l, Value e, ValueRange) {
        SmallVector<Value> at(row);
        at.push_back(e);
        Value old = memref::LoadOp::create(nb, l, out, at);
        memref::StoreOp::create(nb, l, update(nb, l, old, e), out, at);
        scf::YieldOp::create(nb, l);
      });
}

} // namespace

void emitFlashAttentionRow(OpBuilder &b, Location loc, FlashAttentionOp op,
                           Value batch, Value query, Value head) {
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
        out = op.getInit(), mask = op.getMask();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value fZero = f32(b, loc, 0.0), fOne = f32(b, loc, 1.0);
  Value negInf = f32(b, loc, -std::numeric_limits<double>::infinity());
  Value scale = f32(b, loc, op.getScale().convertToDouble());
  SmallVector<Value> row{batch, query, head};

  forEachOutput(b, loc, out, row,
                [&](OpBuilder &, Location, Value, Value) { return fZero; });

  // Keys after the query position are dropped when causal.
  Value keys = dimOf(b, loc, k, 1);
  if (op.getCausal())
    keys = arith::MinUIOp::create(
        b, loc, keys, arith::AddIOp::create(b, loc, query, one));
  // The mask's size-1 dimensions broadcast.
  SmallVector<Value> maskRow;
  if (mask) {
    auto type = cast<MemRefType>(mask.getType());
    Value rowDims[] = {batch, head, query};
    for (unsigned d = 0; d < 3; ++d)
      maskRow.push_back(type.getDimSize(d) == 1 ? zero : rowDims[d]);
  }

  auto keyLoop = scf::ForOp::create(
      b, loc, zero, keys, one, ValueRange{negInf, fZero},
      [&](OpBuilder &nb, Location l, Value j, ValueRange state) {
        Value m = state[0], sum = state[1];
        auto dot = scf::ForOp::create(
            nb, l, zero, dimOf(nb, l, q, 3), one, ValueRange{fZero},
            [&](OpBuilder &db, Location dl, Value d, ValueRange acc) {
              Value qd = memref::LoadOp::create(
                  db, dl, q, ValueRange{batch, query, head, d});
              Value kd = memref::LoadOp::create(
                  db, dl, k, ValueRange{batch, j, head, d});
              scf::YieldOp::create(
                  db, dl,
                  ValueRange{math::FmaOp::create(db, dl, qd, kd, acc[0])});
            });
        Value s = arith::MulFOp::create(nb, l, dot.getResult(0), scale);
        if (mask) {
          SmallVector<Value> at(maskRow);
          at.push_back(j);
          s = arith::AddFOp::create(nb, l, s,
                                    memref::LoadOp::create(nb, l, mask, at));
        }
        // A key masked with -inf contributes nothing, and while every key so
        // far was masked there is nothing to rescale: exp(-inf - -inf) would
        // be NaN in both places.
        Value mNew = arith::MaximumFOp::create(nb, l, m, s);
        Value sMasked =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, s, negInf);
        Value mEmpty =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, m, negInf);
        Value p = arith::SelectOp::create(
            nb, l, sMasked, fZero,
            math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, s, mNew)));
        Value alpha = arith::SelectOp::create(
            nb, l, mEmpty, fOne,
            math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, m, mNew)));
        Value sumNew = math::FmaOp::create(nb, l, sum, alpha, p);
        forEachOutput(nb, l, out, row,
                      [&](OpBuilder &eb, Location el, Value old, Value e) {
                        Value ve = memref::LoadOp::create(
                            eb, el, v, ValueRange{batch, j, head, e});
                        return math::FmaOp::create(
                            eb, el, p, ve,
                            arith::MulFOp::create(eb, el, old, alpha));
                      });
        scf::YieldOp::create(nb, l, ValueRange{mNew, sumNew});
      });
  Value inverse =
      arith::DivFOp::create(b, loc, fOne, keyLoop.getResult(1));
  forEachOutput(b, loc, out, row,
                [&](OpBuilder &eb, Location el, Value old, Value) {
                  return arith::MulFOp::create(eb, el, old, inverse);
                });
}

void lowerFlashAttentionToLoops(RewriterBase &rewriter, FlashAttentionOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value q = op.getQuery();
  SmallVector<Value> lbs(3, zero), steps(3, one);
  SmallVector<Value> ubs{dimOf(rewriter, loc, q, 0), dimOf(rewriter, loc, q, 1),
                         dimOf(rewriter, loc, q, 2)};
  scf::buildLoopNest(rewriter, loc, lbs, ubs, steps,
                     [&](OpBuilder &b, Location l, ValueRange ivs) {
                       emitFlashAttentionRow(b, l, op, ivs[0], ivs[1], ivs[2]);
                     });
  rewriter.eraseOp(op);
}

} // namespace mlir::kiln
