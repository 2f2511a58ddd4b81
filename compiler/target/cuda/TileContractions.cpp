//===- TileContractions.cpp - Contractions on tensor cores ----------------===//
//
// The linears dominate a diffusion transformer's time, and one thread per
// output element (kiln-cuda-distribute-to-threads) runs them on the CUDA
// cores at a small fraction of what the tensor cores do. This pass gives a
// kernel made of a contraction and its in-place elementwise neighbours to
// warps that multiply 16x8x16 blocks with mma.sync (bf16 inputs, f32
// accumulation, sm_80 and newer), and keeps the elementwise ops on the
// elements each lane's accumulator fragment holds.
//
// The fragment layouts are in WarpMma.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/ContractionLike.h"
#include "compiler/target/cuda/CudaCodegen.h"
#include "compiler/target/cuda/LinalgBodyEmitter.h"
#include "compiler/target/cuda/Passes.h"
#include "compiler/target/cuda/WarpMma.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_TILECONTRACTIONSPASS
#include "compiler/target/cuda/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";
// A block's output tile: kWarpsM x kWarpsN warps (kCudaBlockSize
// threads), each kMmasM x kMmasN mma.sync m16n8k16 (64 x 32 outputs, 64 f32
// accumulators per lane), 128 x 128 in all; k in stages of kBlockK through
// shared memory, so that each operand element is read from global memory
// once per block tile instead of once per warp.
constexpr int64_t kWarpsM = 2, kWarpsN = 4;
constexpr int64_t kMmasM = 4, kMmasN = 4;
constexpr int64_t kBlockM = kWarpsM * kMmasM * kMmaM;
constexpr int64_t kBlockN = kWarpsN * kMmasN * kMmaN;
constexpr int64_t kBlockK = 32;
static_assert(kWarpsM * kWarpsN * kWarpSize == kCudaBlockSize,
              "a block tile takes every thread of the block");
// Staging: two threads per row of A and of B, each a half of the stage's k.
static_assert(kBlockM == kCudaBlockSize / 2 && kBlockN == kBlockM,
              "one staged row of A and of B per two threads");
// A staged row: kBlockK / 2 words of bf16 pairs, padded by 4 words so that
// the 8 rows x 4 words a fragment load touches fall in 32 distinct banks
// (row stride 20 words: 20 * row mod 32 spaces the rows 4 banks apart).
constexpr int64_t kStageRowWords = kBlockK / 2 + 4;
// Per thread: accumulators, and the words of a stage it loads (a half row
// of A and of B).
constexpr int64_t kAccs = kMmasM * kMmasN * kAccsPerMma;
constexpr int64_t kStageWords = 2 * (kBlockK / 4);

/// A kernel this pass rewrites: the contraction and the elementwise ops
/// that write its output in place before it (its start) and after it (its
/// epilogue), each in program order.
struct TensorCoreKernel {
  linalg::LinalgOp contraction;
  linalg::ContractionDimensions dims;
  SmallVector<linalg::LinalgOp> before, after;
};

Type elementType(Value v) { return getElementTypeOrSelf(v.getType()); }

/// The block argument `v` is, directly or through an arith.extf.
BlockArgument widenedArg(Value v) {
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    v = ext.getIn();
  return dyn_cast<BlockArgument>(v);
}

/// Whether the body of `op` yields out + in0 * in1 (either order of the
/// factors; bf16 inputs widened to f32): what the tensor cores compute. A
/// third input (the bias kiln-cpu-materialize-zero-init wrote before the
/// op) is allowed when the body ignores it.
bool isMultiplyAccumulate(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  unsigned outArg = op.getNumDpsInputs();
  for (unsigned i = 2; i < op.getNumDpsInputs(); ++i)
    if (!body->getArgument(i).use_empty())
      return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value product = add.getRhs();
  if (add.getLhs() != body->getArgument(outArg)) {
    product = add.getLhs();
    if (add.getRhs() != body->getArgument(outArg))
      return false;
  }
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  BlockArgument x = widenedArg(mul.getLhs()), y = widenedArg(mul.getRhs());
  return x && y && x.getArgNumber() + y.getArgNumber() == 1 &&
         x.getArgNumber() <= 1 && y.getArgNumber() <= 1;
}

/// The contraction dims of `op` when it is a multiply-accumulate on
/// memrefs with one n and one k loop (any number of m loops: a linear on
/// [batch, tokens, k] activations has two), f32 or bf16 inputs indexed by
/// projected permutations and an f32 output.
std::optional<linalg::ContractionDimensions>
tensorCoreDims(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() < 2 ||
      op.getNumDpsInits() != 1 ||
      !elementType(op.getDpsInits()[0]).isF32())
    return std::nullopt;
  for (Value input : ValueRange(op.getDpsInputs()).take_front(2)) {
    Type type = elementType(input);
    if (!isa<MemRefType>(input.getType()) || !(type.isF32() || type.isBF16()))
      return std::nullopt;
  }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[0].isProjectedPermutation() ||
      !maps[1].isProjectedPermutation() ||
      !maps.back().isProjectedPermutation() || !isMultiplyAccumulate(op))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims = contractionLikeDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.size() != 1 ||
      dims->k.size() != 1 ||
      dims->batch.size() + dims->m.size() + 2 !=
          static_cast<size_t>(op.getNumLoops()))
    return std::nullopt;
  return *dims;
}

/// Whether `op` is an all-parallel op that writes `out` (and only it) in
/// place, element by element, without reading `out`'s buffer as an input:
/// the lane that owns an element can run it there.
bool isInPlaceElementwise(linalg::LinalgOp op, Value out) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getDpsInits()[0] != out || op.getNumReductionLoops() != 0 ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isPermutation())
    return false;
  return llvm::none_of(op.getDpsInputs(), [&](Value input) {
    return rootBuffer(input) == rootBuffer(out);
  });
}

/// The kernel's contraction and neighbours, when it has this pass's form.
std::optional<TensorCoreKernel> matchKernel(func::FuncOp kernel) {
  Block &entry = kernel.getBody().front();
  SmallVector<linalg::LinalgOp> ops;
  kernel.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  TensorCoreKernel match;
  for (linalg::LinalgOp op : ops)
    if (std::optional<linalg::ContractionDimensions> dims = tensorCoreDims(op)) {
      if (match.contraction)
        return std::nullopt;  // one contraction per kernel
      match.contraction = op;
      match.dims = *dims;
    }
  if (!match.contraction || match.contraction->getBlock() != &entry)
    return std::nullopt;
  Value out = match.contraction.getDpsInits()[0];
  for (linalg::LinalgOp op : ops) {
    if (op == match.contraction)
      continue;
    if (op->getBlock() != &entry || !isInPlaceElementwise(op, out))
      return std::nullopt;
    (op->isBeforeInBlock(match.contraction) ? match.before : match.after)
        .push_back(op);
  }
  return match;
}

/// Emits the block tiles of one matched kernel (the pass description shows
/// their form).
class TileEmitter {
public:
  TileEmitter(const TensorCoreKernel &kernel, OpBuilder &b)
      : kernel(kernel), op(kernel.contraction), b(b), loc(op.getLoc()) {}

  void emit() {
    SmallVector<Range> ranges = op.createLoopRanges(b, loc);
    auto size = [&](unsigned loop) {
      return getValueOrCreateConstantIndexOp(b, loc, ranges[loop].size);
    };
    // The m loops flattened into one row index, the last one fastest.
    sizeM = index(1);
    for (unsigned loop : kernel.dims.m) {
      mSizes.push_back(size(loop));
      sizeM = mul(sizeM, mSizes.back());
    }
    sizeN = size(kernel.dims.n[0]);
    sizeK = size(kernel.dims.k[0]);
    Value batches = index(1);
    for (unsigned loop : kernel.dims.batch) {
      batchSizes.push_back(size(loop));
      batches = mul(batches, batchSizes.back());
    }

    // The stages in shared memory: bf16 pairs along k, a row per m (A) or
    // n (B), padded (WarpMma.h: kStageRowWords).
    auto stageType = MemRefType::get(
        {kBlockM, kStageRowWords}, b.getI32Type(), AffineMap(),
        gpu::AddressSpaceAttr::get(b.getContext(),
                                   gpu::AddressSpace::Workgroup));
    stageA = memref::AllocaOp::create(b, loc, stageType);
    stageB = memref::AllocaOp::create(b, loc, stageType);

    WarpPosition position = emitWarpPosition(b, loc);
    thread = position.thread;
    group = position.group;
    inGroup = position.inGroup;
    warpRow = mul(div(position.warp, index(kWarpsN)), index(kMmasM * kMmaM));
    warpCol = mul(rem(position.warp, index(kWarpsN)), index(kMmasN * kMmaN));

    tilesN = ceilDiv(sizeN, kBlockN);
    tilesM = ceilDiv(sizeM, kBlockM);
    Value tiles = mul(batches, mul(tilesM, tilesN));
    auto loop = emitBlockTileLoop(b, loc, tiles);
    b.setInsertionPointToStart(loop.getBody());
    emitTile(loop.getInductionVar());
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return divIndex(b, loc, x, y); }
  Value rem(Value x, Value y) { return remIndex(b, loc, x, y); }
  Value ceilDiv(Value x, int64_t y) {
    return arith::CeilDivUIOp::create(b, loc, x, index(y));
  }
  Value below(Value x, Value bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, bound);
  }
  /// `x` limited to the last index below `bound` (> 0 where it is used: a
  /// tile or k step exists only for non-empty sizes).
  Value clamp(Value x, Value bound) {
    return arith::MinUIOp::create(
        b, loc, x, arith::SubIOp::create(b, loc, bound, index(1)));
  }

  /// The indices of `map` (a projected permutation) at the loop indices.
  static SmallVector<Value> indicesOf(AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> indices;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      indices.push_back(ivs[map.getDimPosition(r)]);
    return indices;
  }

  /// The m loops' indices of flattened row `row` (of the last row where it
  /// is past the end: such rows are loaded, not stored).
  SmallVector<Value> rowIndices(Value row) {
    SmallVector<Value> ivs(mSizes.size());
    Value rest = clamp(row, sizeM);
    for (int64_t d = static_cast<int64_t>(mSizes.size()) - 1; d >= 0; --d) {
      ivs[d] = d == 0 ? rest : rem(rest, mSizes[d]);
      if (d > 0)
        rest = div(rest, mSizes[d]);
    }
    return ivs;
  }

  /// `ivs` with the m loops set to `row` (rowIndices).
  SmallVector<Value> withRow(SmallVector<Value> ivs, ArrayRef<Value> row) {
    for (auto [loop, iv] : llvm::zip(kernel.dims.m, row))
      ivs[loop] = iv;
    return ivs;
  }

  /// The output element at lane row `slot`, column `n`.
  SmallVector<Value> outputCoords(int64_t slot, Value n) {
    SmallVector<Value> ivs = withRow(tileIvs, rowIvs[slot]);
    ivs[kernel.dims.n[0]] = n;
    return indicesOf(op.getIndexingMapsArray().back(), ivs);
  }

  void emitTile(Value tile) {
    tileIvs.assign(op.getNumLoops(), index(0));
    Value rest = tile;
    Value n0 = mul(rem(rest, tilesN), index(kBlockN));
    rest = div(rest, tilesN);
    Value m0 = mul(rem(rest, tilesM), index(kBlockM));
    rest = div(rest, tilesM);
    for (int64_t i = static_cast<int64_t>(batchSizes.size()) - 1; i >= 0;
         --i) {
      tileIvs[kernel.dims.batch[i]] = i == 0 ? rest : rem(rest, batchSizes[i]);
      if (i > 0)
        rest = div(rest, batchSizes[i]);
    }
    // The row of A and of B this thread stages, and its half of the k
    // stage: two threads per row.
    Value stageRow = div(thread, index(2));
    stageWord = mul(rem(thread, index(2)), index(kBlockK / 4));
    stageRowA = rowIndices(add(m0, stageRow));
    stageRowB = clamp(add(n0, stageRow), sizeN);
    stageAt = stageRow;

    // The lane's accumulator rows: group (+ 8) in each 16-row block of its
    // warp's 64; its columns: 2 * inGroup (+ 1) in each 8-column block of
    // its warp's 32.
    Value warpM0 = add(m0, warpRow), warpN0 = add(n0, warpCol);
    for (int64_t i = 0; i < kMmasM; ++i)
      for (int64_t half = 0; half < 2; ++half) {
        rows.push_back(add(warpM0, add(group, index(kMmaM * i + 8 * half))));
        rowIvs.push_back(rowIndices(rows.back()));
      }
    for (int64_t j = 0; j < kMmasN; ++j)
      for (int64_t e = 0; e < 2; ++e)
        cols.push_back(add(warpN0, add(mul(inGroup, index(2)),
                                       index(kMmaN * j + e))));

    SmallVector<Value> carried = emitStart();
    // The first stage's words, loaded before the loop (not at all when k
    // is empty: the clamped indices need a last k).
    Value someK = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                        sizeK, index(0));
    auto first = scf::IfOp::create(
        b, loc, someK,
        [&](OpBuilder &nested, Location) {
          OpBuilder::InsertionGuard guard(b);
          b.restoreInsertionPoint(nested.saveInsertionPoint());
          scf::YieldOp::create(b, loc, loadStageWords(index(0)));
        },
        [&](OpBuilder &nested, Location) {
          Value zero = arith::ConstantOp::create(nested, loc,
                                                 nested.getI32IntegerAttr(0));
          scf::YieldOp::create(nested, loc,
                               SmallVector<Value>(kStageWords, zero));
        });
    llvm::append_range(carried, first.getResults());
    auto steps = emitCarriedLoop(
        b, loc, index(0), sizeK, index(kBlockK), carried,
        [&](Value k0, ValueRange state) { return emitStep(k0, state); });
    emitFinish(steps.getResults().take_front(kAccs));
  }

  /// Where accumulator `acc` of the lane sits: its row slot and column.
  std::pair<int64_t, Value> accElement(int64_t acc) {
    int64_t mma = acc / kAccsPerMma, r = acc % kAccsPerMma;
    int64_t i = mma / kMmasN, j = mma % kMmasN;
    return {2 * i + r / 2, cols[2 * j + r % 2]};
  }

  /// The ops before the contraction at each of the lane's elements, then
  /// the output there as the accumulator's start (zero outside the output).
  SmallVector<Value> emitStart() {
    Value out = op.getDpsInits()[0];
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    SmallVector<Value> accs;
    for (int64_t acc = 0; acc < kAccs; ++acc) {
      auto [slot, n] = accElement(acc);
      Value inside = arith::AndIOp::create(b, loc, below(rows[slot], sizeM),
                                           below(n, sizeN));
      auto start = scf::IfOp::create(
          b, loc, inside,
          [&](OpBuilder &nested, Location) {
            OpBuilder::InsertionGuard guard(b);
            b.restoreInsertionPoint(nested.saveInsertionPoint());
            SmallVector<Value> coords = outputCoords(slot, n);
            for (linalg::LinalgOp first : kernel.before)
              emitElementAt(b, loc, first, coords);
            scf::YieldOp::create(
                b, loc, ValueRange{memref::LoadOp::create(b, loc, out, coords)});
          },
          [&](OpBuilder &nested, Location) {
            scf::YieldOp::create(nested, loc, zero);
          });
      accs.push_back(start.getResult(0));
    }
    return accs;
  }

  /// Operand `which` (0: A, 1: B) at the staged row and k `k`, as bf16:
  /// zero past the last k (a clamped row past the end is loaded but its
  /// results are not stored).
  Value loadStaged(unsigned which, Value k) {
    OpOperand *operand = op.getDpsInputOperand(which);
    SmallVector<Value> ivs(tileIvs);
    if (which == 0)
      ivs = withRow(ivs, stageRowA);
    else
      ivs[kernel.dims.n[0]] = stageRowB;
    ivs[kernel.dims.k[0]] = clamp(k, sizeK);
    Value loaded = memref::LoadOp::create(
        b, loc, operand->get(),
        indicesOf(op.getMatchingIndexingMap(operand), ivs));
    Type type = loaded.getType();
    Value zero = arith::ConstantOp::create(b, loc, type, b.getZeroAttr(type));
    return toBf16(b, loc,
                  arith::SelectOp::create(b, loc, below(k, sizeK), loaded, zero));
  }

  /// The thread's words of the stage at `k0`: its A row's kBlockK / 4
  /// bf16 pairs, then its B row's.
  SmallVector<Value> loadStageWords(Value k0) {
    SmallVector<Value> words;
    for (unsigned which = 0; which < 2; ++which)
      for (int64_t w = 0; w < kBlockK / 4; ++w) {
        Value k = add(k0, mul(add(stageWord, index(w)), index(2)));
        words.push_back(packBf16(b, loc, loadStaged(which, k),
                                 loadStaged(which, add(k, index(1)))));
      }
    return words;
  }

  /// One k stage of kBlockK; `state` is the accumulators then the stage's
  /// words (loadStageWords). The block stores the words in shared memory
  /// and meets; the threads load the next stage's words (their latency
  /// hidden behind the mmas, past the last k they read the last k and are
  /// zeroed); each warp multiplies its 64 x 32 from shared memory; the
  /// block meets again before the next stage overwrites it.
  SmallVector<Value> emitStep(Value k0, ValueRange state) {
    ValueRange accs = state.take_front(kAccs);
    for (auto [i, word] : llvm::enumerate(state.drop_front(kAccs))) {
      int64_t w = static_cast<int64_t>(i) % (kBlockK / 4);
      memref::StoreOp::create(b, loc, word,
                              static_cast<int64_t>(i) < kBlockK / 4 ? stageA
                                                                   : stageB,
                              ValueRange{stageAt, add(stageWord, index(w))});
    }
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> next = loadStageWords(add(k0, index(kBlockK)));

    SmallVector<Value> results(accs);
    for (int64_t ks = 0; ks < kBlockK / kMmaK; ++ks) {
      // Fragment registers are whole words of the stages: pair column
      // inGroup (+ 4 for k + 8) of the 8 words a k step of 16 has.
      Value word = add(index(ks * kMmaK / 2), inGroup);
      Value wordHigh = add(word, index(4));
      SmallVector<SmallVector<Value>> a(kMmasM), bFrags(kMmasN);
      for (int64_t i = 0; i < kMmasM; ++i)
        for (int64_t q = 0; q < 4; ++q) {
          Value row = add(warpRow, add(group, index(kMmaM * i + 8 * (q % 2))));
          a[i].push_back(memref::LoadOp::create(
              b, loc, stageA, ValueRange{row, q < 2 ? word : wordHigh}));
        }
      for (int64_t j = 0; j < kMmasN; ++j)
        for (int64_t q = 0; q < 2; ++q) {
          Value col = add(warpCol, add(group, index(kMmaN * j)));
          bFrags[j].push_back(memref::LoadOp::create(
              b, loc, stageB, ValueRange{col, q == 0 ? word : wordHigh}));
        }
      for (int64_t i = 0; i < kMmasM; ++i)
        for (int64_t j = 0; j < kMmasN; ++j) {
          int64_t first = (i * kMmasN + j) * kAccsPerMma;
          SmallVector<Value> d = emitMmaBf16(
              b, loc, a[i], bFrags[j],
              ValueRange(results).slice(first, kAccsPerMma));
          std::copy(d.begin(), d.end(), results.begin() + first);
        }
    }
    // The next stage overwrites what the warps read.
    gpu::BarrierOp::create(b, loc);
    llvm::append_range(results, next);
    return results;
  }

  /// The accumulators stored, then the ops after the contraction, at each
  /// of the lane's elements inside the output.
  void emitFinish(ValueRange accs) {
    Value out = op.getDpsInits()[0];
    for (auto [acc, value] : llvm::enumerate(accs)) {
      auto [slot, n] = accElement(acc);
      Value inside = arith::AndIOp::create(b, loc, below(rows[slot], sizeM),
                                           below(n, sizeN));
      scf::IfOp::create(b, loc, inside, [&](OpBuilder &nested, Location) {
        OpBuilder::InsertionGuard guard(b);
        b.restoreInsertionPoint(nested.saveInsertionPoint());
        SmallVector<Value> coords = outputCoords(slot, n);
        memref::StoreOp::create(b, loc, value, out, coords);
        for (linalg::LinalgOp last : kernel.after)
          emitElementAt(b, loc, last, coords);
        scf::YieldOp::create(b, loc);
      });
    }
  }

  const TensorCoreKernel &kernel;
  linalg::LinalgOp op;
  OpBuilder &b;
  Location loc;
  Value sizeM, sizeN, sizeK, tilesM, tilesN;
  Value thread, warpRow, warpCol, group, inGroup;
  Value stageA, stageB, stageAt, stageWord, stageRowB;
  SmallVector<Value> batchSizes, mSizes, tileIvs, stageRowA, rows, cols;
  SmallVector<SmallVector<Value>> rowIvs;  // per lane row: its m loops
};

struct TileContractionsPass
    : impl::TileContractionsPassBase<TileContractionsPass> {
  void runOnOperation() override {
    for (auto kernel : getOperation().getOps<func::FuncOp>()) {
      if (!kernel->hasAttr(kDispatchAttr))
        continue;
      std::optional<TensorCoreKernel> match = matchKernel(kernel);
      if (!match)
        continue;
      // Every operand of the group dominates its last op.
      Operation *last = match->after.empty() ? match->contraction.getOperation()
                                             : match->after.back().getOperation();
      OpBuilder b(last);
      TileEmitter(*match, b).emit();
      kernel->setAttr(kElementsPerBlockAttr,
                      b.getI64IntegerAttr(kBlockM * kBlockN));
      for (linalg::LinalgOp op : match->before)
        op->erase();
      for (linalg::LinalgOp op : match->after)
        op->erase();
      match->contraction->erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
