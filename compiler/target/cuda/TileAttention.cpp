//===- TileAttention.cpp - kiln.flash_attention on tensor cores -----------===//
//
// FlashAttention-2's form: a block takes 128 query rows of one (batch,
// head), a warp 16 of them with their Q fragments in registers, and the
// block walks the keys 16 at a time: it stages the step's K and V as bf16
// pairs in shared memory (each read from global memory once per block, not
// once per warp), then each warp computes S = Q K^T on the tensor cores,
// the online softmax on S's fragment (row maximum and sum across the 4
// lanes that share a row, by shuffles), and O += P V on the tensor cores
// with P's fragment reused as the A operand (WarpMma.h says why no shuffle
// is needed). No queries x keys buffer exists. Heads whose sizes the mma
// shapes do not divide keep kiln-cuda-distribute-to-threads' scalar rows.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cuda/CudaCodegen.h"
#include "compiler/target/cuda/Passes.h"
#include "compiler/target/cuda/WarpMma.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_TILEATTENTIONPASS
#include "compiler/target/cuda/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";
// Keys per step: two n8 blocks of S, one k16 step of P V.
constexpr int64_t kKeysPerStep = 16;
// A block's queries: a warp's 16 each.
constexpr int64_t kWarpsPerBlock = kCudaBlockSize / kWarpSize;
constexpr int64_t kBlockQueries = kWarpsPerBlock * kMmaM;
// Staged rows are padded by 4 words: K's rows (a key's D / 2 channel
// pairs, D a multiple of 16) and V's (a channel's 8 key pairs) are then 4
// times an odd number of words apart, so the 8 rows x 4 words a fragment
// load reads fall in 32 distinct banks.
constexpr int64_t kStagePad = 4;
// Register budget per lane: Q fragments (headDim / 16 * 4 registers) and
// O accumulators (valueDim / 8 * 4 f32) live across the key loop.
constexpr int64_t kMaxHeadDim = 256, kMaxValueDim = 128;

/// Whether `op` fits the warp form: f32 or bf16 q, k, v and mask, an f32
/// output, a static head size that is a multiple of 16 (at most
/// kMaxHeadDim) and a static value size that is a multiple of 8 (at most
/// kMaxValueDim).
bool fitsTensorCores(FlashAttentionOp op) {
  if (!op.hasBufferSemantics())
    return false;
  auto isF32OrBf16 = [](Value v) {
    Type type = cast<MemRefType>(v.getType()).getElementType();
    return type.isF32() || type.isBF16();
  };
  if (!isF32OrBf16(op.getQuery()) || !isF32OrBf16(op.getKey()) ||
      !isF32OrBf16(op.getValue()) || (op.getMask() && !isF32OrBf16(op.getMask())) ||
      !cast<MemRefType>(op.getInit().getType()).getElementType().isF32())
    return false;
  int64_t headDim = cast<MemRefType>(op.getQuery().getType()).getDimSize(3);
  int64_t valueDim = cast<MemRefType>(op.getValue().getType()).getDimSize(3);
  return !ShapedType::isDynamic(headDim) && headDim % kMmaK == 0 &&
         headDim <= kMaxHeadDim && !ShapedType::isDynamic(valueDim) &&
         valueDim % kMmaN == 0 && valueDim <= kMaxValueDim;
}

/// Emits the warp form of one flash attention (the file comment).
class AttentionEmitter {
public:
  AttentionEmitter(FlashAttentionOp op, OpBuilder &b)
      : op(op), b(b), loc(op.getLoc()) {}

  void emit() {
    headDim = cast<MemRefType>(op.getQuery().getType()).getDimSize(3);
    valueDim = cast<MemRefType>(op.getValue().getType()).getDimSize(3);
    Value q = op.getQuery();
    Value batches = memref::DimOp::create(b, loc, q, 0);
    queries = memref::DimOp::create(b, loc, q, 1);
    heads = memref::DimOp::create(b, loc, q, 2);
    keys = memref::DimOp::create(b, loc, op.getKey(), 1);
    negInf = f32(-std::numeric_limits<double>::infinity());
    zero = f32(0);

    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    stageK = memref::AllocaOp::create(
        b, loc,
        MemRefType::get({kKeysPerStep, headDim / 2 + kStagePad},
                        b.getI32Type(), AffineMap(), workgroup));
    stageV = memref::AllocaOp::create(
        b, loc,
        MemRefType::get({valueDim, kKeysPerStep / 2 + kStagePad},
                        b.getI32Type(), AffineMap(), workgroup));

    WarpPosition position = emitWarpPosition(b, loc);
    thread = position.thread;
    group = position.group;
    inGroup = position.inGroup;
    warpRow = mul(position.warp, index(kMmaM));
    queryBlocks =
        arith::CeilDivUIOp::create(b, loc, queries, index(kBlockQueries));
    Value tiles = mul(batches, mul(heads, queryBlocks));
    auto loop = emitBlockTileLoop(b, loc, tiles);
    b.setInsertionPointToStart(loop.getBody());
    emitTile(loop.getInductionVar());
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value below(Value x, Value bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, bound);
  }
  Value clamp(Value x, Value bound) {
    return arith::MinUIOp::create(
        b, loc, x, arith::SubIOp::create(b, loc, bound, index(1)));
  }
  Value widened(Value v) {
    return v.getType().isF32() ? v
                               : arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  }

  /// A bf16 register of `source`[batch, token, head, channel]: channel and
  /// channel + 1, or with `alongTokens` token and token + 1 (clamped to the
  /// last key: what lies past it gets probability 0).
  Value loadPair(Value source, Value token, Value channel, bool alongTokens) {
    SmallVector<Value> halves;
    for (int64_t e = 0; e < 2; ++e) {
      Value t = alongTokens ? add(token, index(e)) : token;
      Value c = alongTokens ? channel : add(channel, index(e));
      if (alongTokens)
        t = clamp(t, keys);
      halves.push_back(toBf16(
          b, loc, memref::LoadOp::create(b, loc, source,
                                         ValueRange{batch, t, head, c})));
    }
    return packBf16(b, loc, halves[0], halves[1]);
  }

  /// `value` reduced over the 4 lanes that share a fragment row.
  template <typename CombineOp> Value acrossGroup(Value value) {
    for (int64_t offset : {1, 2}) {
      auto shuffle = gpu::ShuffleOp::create(
          b, loc, value, static_cast<int32_t>(offset),
          static_cast<int32_t>(kWarpSize), gpu::ShuffleMode::XOR);
      value = CombineOp::create(b, loc, value, shuffle.getShuffleResult());
    }
    return value;
  }

  void emitTile(Value tile) {
    Value queryBlock = remIndex(b, loc, tile, queryBlocks);
    Value rest = divIndex(b, loc, tile, queryBlocks);
    head = remIndex(b, loc, rest, heads);
    batch = divIndex(b, loc, rest, heads);
    Value first = add(mul(queryBlock, index(kBlockQueries)), warpRow);
    for (int64_t half = 0; half < 2; ++half) {
      rows.push_back(add(first, add(group, index(8 * half))));
      // Rows past the end read the last row and are not stored.
      clampedRows.push_back(clamp(rows.back(), queries));
    }

    // The A fragments of Q for every 16 channels of the head.
    Value pairColumn = mul(inGroup, index(2));
    for (int64_t ks = 0; ks < headDim / kMmaK; ++ks) {
      SmallVector<Value> regs;
      for (int64_t q = 0; q < 4; ++q)
        regs.push_back(loadPair(
            op.getQuery(), clampedRows[q % 2],
            add(index(kMmaK * ks + 8 * (q / 2)), pairColumn),
            /*alongTokens=*/false));
      qFrags.push_back(regs);
    }

    SmallVector<Value> state = {negInf, negInf, zero, zero};
    state.append(valueDim / kMmaN * kAccsPerMma, zero);
    auto steps = emitCarriedLoop(
        b, loc, index(0), keys, index(kKeysPerStep), state,
        [&](Value k0, ValueRange carried) { return emitStep(k0, carried); });
    emitFinish(steps.getResults());
  }

  /// The block's threads store `words` words of the step at `k0` into a
  /// stage, word i (i = thread, thread + block size, ...) where
  /// `wordAt(i)` emits it and returns its stage row and column.
  void stageWords(int64_t words, Value stage,
                  function_ref<std::pair<Value, Value>(Value i, Value &word)>
                      wordAt) {
    for (int64_t r = 0; r * kCudaBlockSize < words; ++r) {
      Value i = add(thread, index(r * kCudaBlockSize));
      auto store = [&] {
        Value word;
        auto [row, col] = wordAt(i, word);
        memref::StoreOp::create(b, loc, word, stage, ValueRange{row, col});
      };
      if ((r + 1) * kCudaBlockSize <= words) {
        store();
        continue;
      }
      auto inside = scf::IfOp::create(b, loc, below(i, index(words)));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(inside.thenBlock()->getTerminator());
      store();
    }
  }

  /// One step of 16 keys; `state` is (max row 0, max row 8, sum row 0, sum
  /// row 8, O accumulators); returns the new state.
  SmallVector<Value> emitStep(Value k0, ValueRange state) {
    Value pairRow = mul(inGroup, index(2));
    // The step's K as (key, channel pair) words and V as (channel, key
    // pair) words: the registers of the B fragments below, whole.
    Value pairs = index(headDim / 2);
    stageWords(kKeysPerStep * headDim / 2, stageK, [&](Value i, Value &word) {
      Value key = divIndex(b, loc, i, pairs);
      Value pair = remIndex(b, loc, i, pairs);
      word = loadPair(op.getKey(), clamp(add(k0, key), keys),
                      mul(pair, index(2)), /*alongTokens=*/false);
      return std::make_pair(key, pair);
    });
    Value channels = index(valueDim);
    stageWords(valueDim * kKeysPerStep / 2, stageV, [&](Value i, Value &word) {
      Value channel = remIndex(b, loc, i, channels);
      Value pair = divIndex(b, loc, i, channels);
      word = loadPair(op.getValue(), add(k0, mul(pair, index(2))), channel,
                      /*alongTokens=*/true);
      return std::make_pair(channel, pair);
    });
    gpu::BarrierOp::create(b, loc);

    // S = Q K^T for two blocks of 8 keys: B fragments of K^T have the key
    // as column (group) and the channel pair as row.
    SmallVector<SmallVector<Value>> s(2);
    for (int64_t nb = 0; nb < 2; ++nb) {
      Value key = add(group, index(kMmaN * nb));
      SmallVector<Value> acc(kAccsPerMma, zero);
      for (int64_t ks = 0; ks < headDim / kMmaK; ++ks) {
        SmallVector<Value> frag;
        for (int64_t q = 0; q < 2; ++q)
          frag.push_back(memref::LoadOp::create(
              b, loc, stageK,
              ValueRange{key, add(index(kMmaK / 2 * ks + 4 * q), inGroup)}));
        acc = emitMmaBf16(b, loc, qFrags[ks], frag, acc);
      }
      s[nb] = acc;
    }

    // Scores: scaled, masked, -inf for keys past the end (and after the
    // query when causal). Element r of block nb is row r / 2, key
    // k0 + 8 nb + 2 inGroup + r % 2.
    Value scale = f32(op.getScale().convertToDouble());
    for (int64_t nb = 0; nb < 2; ++nb)
      for (int64_t r = 0; r < kAccsPerMma; ++r) {
        Value key = add(k0, add(pairRow, index(kMmaN * nb + r % 2)));
        Value score = arith::MulFOp::create(b, loc, s[nb][r], scale);
        if (Value mask = op.getMask()) {
          auto type = cast<MemRefType>(mask.getType());
          Value rowDims[] = {batch, head, clampedRows[r / 2]};
          SmallVector<Value> at;
          for (unsigned d = 0; d < 3; ++d)
            at.push_back(type.getDimSize(d) == 1 ? index(0) : rowDims[d]);
          at.push_back(clamp(key, keys));
          score = arith::AddFOp::create(
              b, loc, score, widened(memref::LoadOp::create(b, loc, mask, at)));
        }
        Value valid = below(key, keys);
        if (op.getCausal())
          valid = arith::AndIOp::create(
              b, loc, valid,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, key,
                                    rows[r / 2]));
        s[nb][r] = arith::SelectOp::create(b, loc, valid, score, negInf);
      }

    // Online softmax per row half: the new maximum (all -inf so far: 0 as
    // the exponent's base, so that exp gives 0, not NaN), the rescale of
    // what was summed, this step's probabilities and their sum.
    SmallVector<Value> next(4), alpha(2);
    SmallVector<SmallVector<Value>> p(2, SmallVector<Value>(kAccsPerMma));
    for (int64_t half = 0; half < 2; ++half) {
      Value blockMax = negInf;
      for (int64_t nb = 0; nb < 2; ++nb)
        for (int64_t e = 0; e < 2; ++e)
          blockMax = arith::MaximumFOp::create(b, loc, blockMax,
                                               s[nb][2 * half + e]);
      blockMax = acrossGroup<arith::MaximumFOp>(blockMax);
      Value mOld = state[half];
      Value mNew = arith::MaximumFOp::create(b, loc, mOld, blockMax);
      Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mNew, negInf);
      Value base = arith::SelectOp::create(b, loc, empty, zero, mNew);
      alpha[half] = math::ExpOp::create(
          b, loc, arith::SubFOp::create(b, loc, mOld, base));
      Value sum = zero;
      for (int64_t nb = 0; nb < 2; ++nb)
        for (int64_t e = 0; e < 2; ++e) {
          Value &prob = p[nb][2 * half + e];
          prob = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, s[nb][2 * half + e], base));
          sum = arith::AddFOp::create(b, loc, sum, prob);
        }
      sum = acrossGroup<arith::AddFOp>(sum);
      next[half] = mNew;
      next[2 + half] = math::FmaOp::create(b, loc, state[2 + half],
                                           alpha[half], sum);
    }

    // P as the A fragment of P V: register q is block q / 2's elements
    // 2 (q % 2) and 2 (q % 2) + 1.
    SmallVector<Value> pFrag;
    for (int64_t q = 0; q < 4; ++q)
      pFrag.push_back(packBf16(b, loc, toBf16(b, loc, p[q / 2][2 * (q % 2)]),
                               toBf16(b, loc, p[q / 2][2 * (q % 2) + 1])));
    // O = O * alpha + P V: V's B fragments have the key as row and the
    // value channel as column (group).
    for (int64_t eb = 0; eb < valueDim / kMmaN; ++eb) {
      ValueRange o = state.slice(4 + eb * kAccsPerMma, kAccsPerMma);
      SmallVector<Value> scaled;
      for (int64_t r = 0; r < kAccsPerMma; ++r)
        scaled.push_back(arith::MulFOp::create(b, loc, o[r], alpha[r / 2]));
      SmallVector<Value> frag;
      Value channel = add(index(kMmaN * eb), group);
      for (int64_t q = 0; q < 2; ++q)
        frag.push_back(memref::LoadOp::create(
            b, loc, stageV, ValueRange{channel, add(index(4 * q), inGroup)}));
      llvm::append_range(next, emitMmaBf16(b, loc, pFrag, frag, scaled));
    }
    // The next step overwrites what the warps read.
    gpu::BarrierOp::create(b, loc);
    return next;
  }

  /// out = O / sum at the lane's elements of the rows inside the output.
  void emitFinish(ValueRange state) {
    Value one = f32(1);
    Value inverse[] = {arith::DivFOp::create(b, loc, one, state[2]),
                       arith::DivFOp::create(b, loc, one, state[3])};
    Value pairColumn = mul(inGroup, index(2));
    for (int64_t half = 0; half < 2; ++half) {
      auto inside = scf::IfOp::create(b, loc, below(rows[half], queries));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(inside.thenBlock()->getTerminator());
      for (int64_t eb = 0; eb < valueDim / kMmaN; ++eb)
        for (int64_t e = 0; e < 2; ++e) {
          Value o = state[4 + eb * kAccsPerMma + 2 * half + e];
          Value channel = add(pairColumn, index(kMmaN * eb + e));
          memref::StoreOp::create(
              b, loc, arith::MulFOp::create(b, loc, o, inverse[half]),
              op.getInit(), ValueRange{batch, rows[half], head, channel});
        }
    }
  }

  FlashAttentionOp op;
  OpBuilder &b;
  Location loc;
  int64_t headDim = 0, valueDim = 0;
  Value queries, heads, keys, queryBlocks, negInf, zero, group, inGroup;
  Value thread, warpRow, stageK, stageV;
  Value batch, head;
  SmallVector<Value> rows, clampedRows;
  SmallVector<SmallVector<Value>> qFrags;  // per 16 channels: 4 registers
};

struct TileAttentionPass : impl::TileAttentionPassBase<TileAttentionPass> {
  void runOnOperation() override {
    SmallVector<FlashAttentionOp> ops;
    for (auto kernel : getOperation().getOps<func::FuncOp>())
      if (kernel->hasAttr(kDispatchAttr))
        kernel.walk([&](FlashAttentionOp op) {
          if (fitsTensorCores(op))
            ops.push_back(op);
        });
    for (FlashAttentionOp op : ops) {
      OpBuilder b(op);
      AttentionEmitter(op, b).emit();
      // Outlining gives the attention a kernel of its own: its blocks take
      // kBlockQueries query rows of one head.
      int64_t valueDim = cast<MemRefType>(op.getValue().getType()).getDimSize(3);
      op->getParentOfType<func::FuncOp>()->setAttr(
          kElementsPerBlockAttr, b.getI64IntegerAttr(kBlockQueries * valueDim));
      op->erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
