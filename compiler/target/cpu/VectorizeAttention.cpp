//===- VectorizeAttention.cpp - kiln.flash_attention on the CPU ----------===//
//
// FlashAttention's loop nest for one workgroup's heads, in vector<8xf32>
// code (the registers and tile shapes of kiln-cpu-vectorize-contractions'
// packed form, so both run near the FMA peak):
//
//   per (batch, head), per block of 192 query rows:
//     zero the rows' outputs, running maximum -inf, running sum 0
//     per block of 64 keys:
//       copy the block's keys transposed into a [head_dim][64] stack panel
//       per tile of 6 query rows (the rows left over: 1 at a time):
//         scores: 4 register tiles of 6 x 16 (12 accumulators), d loop of
//           2 panel loads + 6 broadcasts of q + 12 FMAs; scale, mask,
//           causal and the block's tail applied; stored to a 6 x 64 buffer
//         online softmax per row: block maximum, new running maximum m,
//           alpha = exp(m_old - m), p = exp(s - m) over the buffer, sum
//         output rows: 6 x 16 accumulators = out * alpha, then per key
//           2 loads of v + 6 broadcasts of p + 12 FMAs, stored back
//     divide the block's output rows by their sums
//
// The only buffers are the panel (64 x head_dim), the 6 x 64 scores and two
// rows of 192 floats: nothing grows with the tokens, so the arena's largest
// term is the q/k/v/output tensors themselves (linear). The 192 query rows
// share one packed key block; their outputs (192 x head_dim, 96 KB at 128)
// stay in L2 across the key blocks. Blocks of 96 rows spent ~10 % of the
// medium model's attention time more (the scalar panel copy per block);
// 384 gained nothing more measurable (docs/PERFORMANCE.md, session 7).
//
// Exponentials take arguments clamped to -88, so no inf - inf or polynomial
// overflow can produce NaN; kiln-cpu-approximate-math's exp (which runs
// after this pass) returns exactly 0 there, so a masked score (-inf) or a
// padded key contributes nothing, and a row whose keys are all masked ends
// as 0 / 0 = NaN, as PyTorch's softmax gives. (Through libm's expf they
// would weigh 6e-39 each.)
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/FlashAttentionLoops.h"
#include "compiler/target/cpu/LoopEmitter.h"
#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_VECTORIZEATTENTIONPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

// f32 lanes per register are the pass option `lanes` (8: AVX2's ymm, 16:
// AVX-512's zmm); a register tile covers 2 vectors of keys.
constexpr int64_t kNarrowLanes = 8; // the narrowest vector of a remainder
constexpr int64_t kRows = 6;        // query rows per register tile
constexpr int64_t kKeyBlock = 64;   // keys per online-softmax step
constexpr int64_t kQueryBlock = 192; // query rows sharing one key panel
constexpr double kExpFloor = -88.0; // exp's argument clamp (see above)

/// The vector code loads rows of k, v, the output and the mask, so their
/// last dimension must be contiguous.
bool hasContiguousRows(FlashAttentionOp op) {
  for (Value operand : op->getOperands()) {
    auto type = cast<MemRefType>(operand.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return false;
  }
  return true;
}

class AttentionEmitter {
public:
  AttentionEmitter(OpBuilder &b, FlashAttentionOp op, int64_t lanes)
      : lanes(lanes), panelKeys(2 * lanes), b(b), loc(op.getLoc()), op(op), q(op.getQuery()), k(op.getKey()),
        v(op.getValue()), out(op.getInit()), mask(op.getMask()) {}

  void emit() {
    f32 = b.getF32Type();
    queries = dim(q, 1);
    keys = dim(k, 1);
    headDim = dim(q, 3);
    valueDim = dim(v, 3);
    panel = memref::AllocaOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic, kKeyBlock}, f32),
        ValueRange{headDim});
    scores = memref::AllocaOp::create(
        b, loc, MemRefType::get({kRows, kKeyBlock}, f32));
    rowMax = memref::AllocaOp::create(b, loc,
                                      MemRefType::get({kQueryBlock}, f32));
    rowSum = memref::AllocaOp::create(b, loc,
                                      MemRefType::get({kQueryBlock}, f32));
    loop(cst(0), dim(q, 0), 1, [&](Value bi) {
      batch = bi;
      loop(cst(0), dim(q, 2), 1, [&](Value h) {
        head = h;
        loop(cst(0), queries, kQueryBlock, [&](Value i0) {
          Value i1 = arith::MinUIOp::create(b, loc, queries,
                                            add(i0, kQueryBlock));
          emitQueryBlock(i0, i1);
        });
      });
    });
  }

private:
  // --- small builders -----------------------------------------------------
  Value cst(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, cst(v)).getResult();
  }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value dim(Value memref, int64_t d) {
    return memref::DimOp::create(b, loc, memref, d);
  }
  Value fconst(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  VectorType vec(int64_t width) { return VectorType::get({width}, f32); }
  Value splat(Value scalar, int64_t width) {
    return vector::BroadcastOp::create(b, loc, vec(width), scalar);
  }
  Value splat(double v, int64_t width) { return splat(fconst(v), width); }
  /// x rounded down to a multiple of `step` past `from`.
  Value fullEnd(Value from, Value to, int64_t step) {
    Value len = sub(to, from);
    Value full = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, len, cst(step)), cst(step));
    return arith::AddIOp::create(b, loc, from, full);
  }
  Value expClamped(Value x, int64_t width) {
    Value floor = width ? splat(kExpFloor, width) : fconst(kExpFloor);
    return math::ExpOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, x, floor));
  }

  template <typename Body> void loop(Value lb, Value ub, int64_t step, Body body) {
    emitLoop(b, loc, lb, ub, step, body);
  }
  /// A loop carrying `init`; `body` returns the next values.
  template <typename Body>
  SmallVector<Value> loopCarrying(Value lb, Value ub, int64_t step,
                                  ArrayRef<Value> init, Body body) {
    return emitLoopCarrying(b, loc, lb, ub, step, init, body);
  }
  /// Runs `body(e, width, count)` over [0, valueDim): chunks of 2 vectors,
  /// one vector, one of 8 lanes when vectors are wider, then single
  /// elements (width 1).
  template <typename Body> void forValueChunks(Body body) {
    Value pairs = fullEnd(cst(0), valueDim, 2 * lanes);
    Value singles = fullEnd(pairs, valueDim, lanes);
    loop(cst(0), pairs, 2 * lanes, [&](Value e) { body(e, lanes, 2); });
    loop(pairs, singles, lanes, [&](Value e) { body(e, lanes, 1); });
    if (lanes > kNarrowLanes) {
      Value narrow = fullEnd(singles, valueDim, kNarrowLanes);
      loop(singles, narrow, kNarrowLanes,
           [&](Value e) { body(e, kNarrowLanes, 1); });
      singles = narrow;
    }
    loop(singles, valueDim, 1, [&](Value e) { body(e, 1, 1); });
  }

  Value outRow(Value row, Value e, int64_t width) {
    return vector::LoadOp::create(b, loc, vec(width), out,
                                  ValueRange{batch, row, head, e});
  }
  void storeOutRow(Value value, Value row, Value e) {
    vector::StoreOp::create(b, loc, value, out,
                            ValueRange{batch, row, head, e});
  }

  // --- the loop nest --------------------------------------------------------
  void emitQueryBlock(Value i0, Value i1) {
    loop(i0, i1, 1, [&](Value i) {
      Value slot = sub(i, i0);
      memref::StoreOp::create(
          b, loc, fconst(-std::numeric_limits<double>::infinity()), rowMax,
          slot);
      memref::StoreOp::create(b, loc, fconst(0.0), rowSum, slot);
      forValueChunks([&](Value e, int64_t width, int64_t count) {
        for (int64_t c = 0; c < count; ++c)
          storeOutRow(splat(0.0, width), i, add(e, c * width));
      });
    });
    loop(cst(0), keys, kKeyBlock, [&](Value j0) {
      Value n = arith::MinUIOp::create(b, loc, sub(keys, j0), cst(kKeyBlock));
      packKeys(j0, n);
      Value tiled = fullEnd(i0, i1, kRows);
      loop(i0, tiled, kRows, [&](Value r0) { emitTile(r0, kRows, i0, j0, n); });
      loop(tiled, i1, 1, [&](Value r0) { emitTile(r0, 1, i0, j0, n); });
    });
    loop(i0, i1, 1, [&](Value i) {
      Value inverse = arith::DivFOp::create(
          b, loc, fconst(1.0), memref::LoadOp::create(b, loc, rowSum, sub(i, i0)));
      forValueChunks([&](Value e, int64_t width, int64_t count) {
        for (int64_t c = 0; c < count; ++c) {
          Value at = add(e, c * width);
          storeOutRow(arith::MulFOp::create(b, loc, outRow(i, at, width),
                                            splat(inverse, width)),
                      i, at);
        }
      });
    });
  }

  /// panel[d][jj] = k[batch, j0 + jj, head, d] for jj < n, 0 after.
  void packKeys(Value j0, Value n) {
    loop(cst(0), n, 1, [&](Value jj) {
      Value j = arith::AddIOp::create(b, loc, j0, jj);
      loop(cst(0), headDim, 1, [&](Value d) {
        Value x = memref::LoadOp::create(b, loc, k,
                                         ValueRange{batch, j, head, d});
        memref::StoreOp::create(b, loc, x, panel, ValueRange{d, jj});
      });
    });
    loop(n, cst(kKeyBlock), 1, [&](Value jj) {
      loop(cst(0), headDim, 1, [&](Value d) {
        memref::StoreOp::create(b, loc, fconst(0.0), panel, ValueRange{d, jj});
      });
    });
  }

  /// Rows [r0, r0 + mr) against keys [j0, j0 + n).
  void emitTile(Value r0, int64_t mr, Value i0, Value j0, Value n) {
    for (int64_t p = 0; p < kKeyBlock / panelKeys; ++p)
      emitScores(r0, mr, j0, n, p * panelKeys);
    SmallVector<Value> alphas;
    for (int64_t r = 0; r < mr; ++r)
      alphas.push_back(emitSoftmaxRow(r, sub(add(r0, r), i0)));
    forValueChunks([&](Value e, int64_t width, int64_t count) {
      emitOutputTile(r0, mr, j0, n, alphas, e, width, count);
    });
  }

  /// scores[r][p0 .. p0 + 16) for the tile's rows: q rows times the
  /// panel's columns, scaled, masked, the keys past the block's end and (when
  /// causal) past each row's position set to -inf.
  void emitScores(Value r0, int64_t mr, Value j0, Value n, int64_t p0) {
    const int64_t nv = panelKeys / lanes;
    Value zero = splat(0.0, lanes);
    SmallVector<Value> acc(mr * nv, zero);
    acc = loopCarrying(cst(0), headDim, 1, acc,
                       [&](Value d, SmallVector<Value> next) {
      SmallVector<Value> keysAt;
      for (int64_t c = 0; c < nv; ++c)
        keysAt.push_back(vector::LoadOp::create(
            b, loc, vec(lanes), panel, ValueRange{d, cst(p0 + c * lanes)}));
      for (int64_t r = 0; r < mr; ++r) {
        Value qd = memref::LoadOp::create(
            b, loc, q, ValueRange{batch, add(r0, r), head, d});
        Value qv = splat(qd, lanes);
        for (int64_t c = 0; c < nv; ++c)
          next[r * nv + c] = vector::FMAOp::create(b, loc, qv, keysAt[c],
                                                   next[r * nv + c]);
      }
      return next;
    });
    Value scale = splat(op.getScale().convertToDouble(), lanes);
    Value negInf = splat(-std::numeric_limits<double>::infinity(), lanes);
    Value zeroIndex = cst(0);
    for (int64_t r = 0; r < mr; ++r) {
      Value row = add(r0, r);
      // Keys of this block the row may see: n, or with causality those up
      // to its own position.
      Value limit = n;
      if (op.getCausal()) {
        Value seen = arith::MaxSIOp::create(
            b, loc, zeroIndex, sub(add(row, 1), j0));
        limit = arith::MinUIOp::create(b, loc, n, seen);
      }
      for (int64_t c = 0; c < nv; ++c) {
        int64_t jj = p0 + c * lanes;
        Value s = arith::MulFOp::create(b, loc, acc[r * nv + c], scale);
        auto maskType = VectorType::get({lanes}, b.getI1Type());
        if (mask) {
          Value inBlock = vector::CreateMaskOp::create(
              b, loc, maskType,
              ValueRange{arith::MaxSIOp::create(b, loc, zeroIndex,
                                                sub(n, cst(jj)))});
          SmallVector<Value> at = maskRow(row);
          at.push_back(add(j0, jj));
          s = arith::AddFOp::create(
              b, loc, s,
              vector::MaskedLoadOp::create(b, loc, vec(lanes), mask, at,
                                           inBlock, splat(0.0, lanes)));
        }
        Value visible = vector::CreateMaskOp::create(
            b, loc, maskType,
            ValueRange{arith::MaxSIOp::create(b, loc, zeroIndex,
                                              sub(limit, cst(jj)))});
        s = arith::SelectOp::create(b, loc, visible, s, negInf);
        vector::StoreOp::create(b, loc, s, scores,
                                ValueRange{cst(r), cst(jj)});
      }
    }
  }

  /// The mask's indices for query `row` (its size-1 dims broadcast).
  SmallVector<Value> maskRow(Value row) {
    auto type = cast<MemRefType>(mask.getType());
    Value rowDims[] = {batch, head, row};
    SmallVector<Value> at;
    for (unsigned d = 0; d < 3; ++d)
      at.push_back(type.getDimSize(d) == 1 ? cst(0) : rowDims[d]);
    return at;
  }

  /// Online softmax of tile row `r` (block row `slot`): updates the running
  /// maximum and sum, turns the row's scores into exp(s - max) in place and
  /// returns alpha = exp(old max - new max), the factor the row's output
  /// accumulated so far must be rescaled by.
  Value emitSoftmaxRow(int64_t r, Value slot) {
    const int64_t nv = kKeyBlock / lanes;
    SmallVector<Value> row;
    for (int64_t c = 0; c < nv; ++c)
      row.push_back(vector::LoadOp::create(
          b, loc, vec(lanes), scores, ValueRange{cst(r), cst(c * lanes)}));
    Value blockMax = row[0];
    for (int64_t c = 1; c < nv; ++c)
      blockMax = arith::MaxNumFOp::create(b, loc, blockMax, row[c]);
    Value oldMax = memref::LoadOp::create(b, loc, rowMax, slot);
    Value newMax = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXNUMF, blockMax, oldMax);
    // While every key so far was masked the maximum is -inf; subtracting 0
    // instead keeps exp's arguments -inf (clamped), never NaN.
    Value empty = arith::CmpFOp::create(
        b, loc, arith::CmpFPredicate::OEQ, newMax,
        fconst(-std::numeric_limits<double>::infinity()));
    Value shift = arith::SelectOp::create(b, loc, empty, fconst(0.0), newMax);
    Value alpha = expClamped(arith::SubFOp::create(b, loc, oldMax, shift), 0);
    Value shiftV = splat(shift, lanes);
    Value sum = splat(0.0, lanes);
    for (int64_t c = 0; c < nv; ++c) {
      Value p = expClamped(arith::SubFOp::create(b, loc, row[c], shiftV),
                           lanes);
      vector::StoreOp::create(b, loc, p, scores,
                              ValueRange{cst(r), cst(c * lanes)});
      sum = arith::AddFOp::create(b, loc, sum, p);
    }
    Value oldSum = memref::LoadOp::create(b, loc, rowSum, slot);
    Value newSum = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, sum,
        arith::MulFOp::create(b, loc, oldSum, alpha),
        arith::FastMathFlags::reassoc);
    memref::StoreOp::create(b, loc, newMax, rowMax, slot);
    memref::StoreOp::create(b, loc, newSum, rowSum, slot);
    return alpha;
  }

  /// out[rows, e .. e + count * width) = alpha * out + p @ v[keys, ...],
  /// the mr x count accumulators in registers over the block's keys.
  void emitOutputTile(Value r0, int64_t mr, Value j0, Value n,
                      ArrayRef<Value> alphas, Value e, int64_t width,
                      int64_t count) {
    SmallVector<Value> acc;
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t c = 0; c < count; ++c)
        acc.push_back(arith::MulFOp::create(
            b, loc, outRow(add(r0, r), add(e, c * width), width),
            splat(alphas[r], width)));
    acc = loopCarrying(cst(0), n, 1, acc, [&](Value jj, SmallVector<Value> next) {
      Value j = arith::AddIOp::create(b, loc, j0, jj);
      SmallVector<Value> values;
      for (int64_t c = 0; c < count; ++c)
        values.push_back(vector::LoadOp::create(
            b, loc, vec(width), v, ValueRange{batch, j, head, add(e, c * width)}));
      for (int64_t r = 0; r < mr; ++r) {
        Value p = splat(memref::LoadOp::create(b, loc, scores,
                                               ValueRange{cst(r), jj}),
                        width);
        for (int64_t c = 0; c < count; ++c)
          next[r * count + c] =
              vector::FMAOp::create(b, loc, p, values[c], next[r * count + c]);
      }
      return next;
    });
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t c = 0; c < count; ++c)
        storeOutRow(acc[r * count + c], add(r0, r), add(e, c * width));
  }

  int64_t lanes;     // f32 per vector
  int64_t panelKeys; // keys per register tile: 2 vectors
  OpBuilder &b;
  Location loc;
  FlashAttentionOp op;
  Value q, k, v, out, mask;
  Type f32;
  Value queries, keys, headDim, valueDim;
  Value panel, scores, rowMax, rowSum;
  Value batch, head;
};

struct VectorizeAttentionPass
    : impl::VectorizeAttentionPassBase<VectorizeAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (lanes != 8 && lanes != 16) {
      getOperation().emitError("kiln-cpu-vectorize-attention: lanes must be "
                               "8 or 16 (got ")
          << lanes.getValue() << ")";
      return signalPassFailure();
    }
    SmallVector<FlashAttentionOp> ops;
    getOperation().walk([&](FlashAttentionOp op) {
      if (op.hasBufferSemantics())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (FlashAttentionOp op : ops) {
      if (!hasContiguousRows(op)) {
        lowerFlashAttentionToLoops(rewriter, op);
        continue;
      }
      OpBuilder b(op);
      AttentionEmitter(b, op, lanes).emit();
      op->erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
