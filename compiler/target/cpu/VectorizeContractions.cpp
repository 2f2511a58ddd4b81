//===- VectorizeContractions.cpp - Register-tiled f32 contractions --------===//
//
// The linears, the attention scores and the attention-weighted values are
// linalg.generic contractions (mulf + addf, one reduction loop). Lowered as
// plain loops they run at about 1 GFLOP/s: the innermost loop is a scalar
// reduction that LLVM may not reassociate, so it never vectorizes. This pass
// writes each such contraction as cache-blocked loops around a register tile
// of vector<8xf32> FMAs, directly in the vector dialect, because the two
// layouts Kiln produces want two different micro-kernels:
//
// - "dot" form, both inputs contiguous along the reduction k (x @ W^T with W
//   [out, in] row-major, Q @ K^T): a 3x4 tile of (m, n) keeps 12 vector
//   accumulators of partial sums along k, fed by 3 + 4 contiguous loads per
//   12 FMAs (k unrolled by 2); one horizontal reduction per accumulator per
//   k block. The 4 rows of B come from L1 and the 3 of A from L2 (m blocks,
//   see the block sizes). Used only when C is not contiguous along n.
// - "packed" form, either layout with C contiguous along n (every linear,
//   Q @ K^T, P @ V): per k block of 256 and n block of 128, B's block is
//   copied into a stack buffer of k-major panels of 16 columns (128 KB, in
//   L2; a transposition for the dot layout, a copy of rows for nn). Then,
//   in BLIS's order, m blocks of 96 rows, the panels, and inside them the
//   m tiles: one panel (16 KB) stays in L1 while 6x16 tiles of C in 12
//   accumulators take 2 loads of it and 6 broadcasts of A (from L2) per 12
//   FMAs. The next m block's A and the next tile's C are prefetched. No
//   horizontal reductions; the packing is amortized over the rows.
// - "nn" form, B contiguous along n but C not: a 6x16 tile keeps 12
//   accumulators of C, fed by 2 loads of B and 6 broadcasts of A per k.
//
// A kiln.bias_init contraction starts its tiles from the bias (loaded once
// per tile, shared by the rows) instead of zeros; a kiln.epilogue one
// applies its epilogue to the accumulators in registers before it stores
// the last k block (compiler/dispatch/ContractionLike.h).
//
// 12 accumulators + 3 or 4 operands fit AVX2's 16 ymm registers. Remainders
// (m, n not multiples of the tile, k not a multiple of 8) use the same code
// with smaller tiles and vector<1xf32>, so nothing falls back to scalar
// loops of the whole op. Other linalg ops are left alone.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Attributes.h"
#include "compiler/dispatch/ContractionLike.h"
#include "compiler/target/cpu/LoopEmitter.h"
#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_VECTORIZECONTRACTIONSPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

/// Block sizes. The dot form reduces its accumulators once per k block,
/// which k blocks of 512 make negligible (256 was measured no faster, 1024
/// within the noise). Its m blocks of 96 rows keep a block of A (192 KB) in
/// Zen3's 512 KB L2 while each n tile's 4 rows of B (8 KB) sit in L1 across
/// the block's m tiles. n blocks of 128 match the 128-column workgroup
/// blocks of the linears (kiln-distribute-workgroups), so each workgroup
/// streams A from L3/DRAM once per 128 columns of W rather than per 32.
constexpr int64_t kVector = 8;
constexpr int64_t kBlockK = 512;
constexpr int64_t kBlockN = 128;
constexpr int64_t kDotTileM = 3, kDotTileN = 4;
constexpr int64_t kBlockM = 96; // dot form, a multiple of kDotTileM
constexpr int64_t kUnrollK = 2; // dot form: vectors of k per loop trip
constexpr int64_t kNnTileM = 6, kNnVectorsN = 2;
/// The packed form's micro-kernel shape is a pass option (the target's
/// vector width): lanes per vector (8: ymm, 16: zmm) and rows per tile.
/// Its panels are kNnVectorsN vectors wide; packing always moves vectors
/// of kVector (the 8x8 transposes).
/// Packed form (C contiguous along n): per k block of kPackK and n block
/// of kBlockN, B is copied into k-major panels of 16 columns (a 128 KB
/// buffer that stays in L2), and the nn micro-kernel runs over them with
/// the m tiles outermost, so A's 6 rows of one tile (6 KB) stay in L1.
constexpr int64_t kPackK = 256;
/// Rows of A per m block of the packed form: 96 rows x 256 of k (96 KB)
/// plus the next block being prefetched and B's 128 KB stay in L2.
constexpr int64_t kPackM = 96;
constexpr int64_t kFloatsPerLine = 16;
/// AMX tiles: 16 rows of 64 bytes (16 f32, or 16 pairs of bf16).
constexpr int64_t kAmxRows = 16, kAmxCols = 16;
/// k steps per trip of the packed micro-kernel's loop.
constexpr int64_t kPackUnrollK = 4;

struct Contraction {
  linalg::GenericOp op;
  ContractionBody body;
  unsigned m, n, k;
  bool dot; // else the nn form
  bool packed = false; // C contiguous along n: B packed into panels
  SmallVector<unsigned> outer; // every other loop, outermost first
};

bool hasUnitInnerStride(Value value) {
  auto type = cast<MemRefType>(value.getType());
  if (type.getRank() == 0)
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return strides.back() == 1;
}

std::optional<unsigned> lastDim(AffineMap map) {
  if (map.getNumResults() == 0)
    return std::nullopt;
  if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back()))
    return dim.getPosition();
  return std::nullopt;
}

/// The contractions this pass handles: f32 memrefs, mulf + addf body,
/// projected-permutation maps, exactly one reduction loop, and one of the
/// two layouts above; with kiln.bias_init's bias (contiguous) and
/// kiln.epilogue's extra inputs (contiguous along n, or not indexed by it)
/// when the op has them (ContractionLike.h).
std::optional<Contraction> match(linalg::GenericOp op) {
  std::optional<ContractionBody> body = contractionBody(op);
  if (!body || op.getNumDpsInits() != 1 || !op.hasPureBufferSemantics())
    return std::nullopt;
  bool biased = op->hasAttr(kBiasInitAttr);
  if (biased && !hasUnitInnerStride(op.getDpsInputs()[2]))
    return std::nullopt;
  // f32 throughout, except a weight stored narrower (B, widened where it
  // is loaded): bf16 (kiln-narrow-weights) or e4m3 (kiln-quantize-fp8).
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    Type element = type ? type.getElementType() : Type();
    bool narrowWeight = operand.getOperandNumber() == 1 && element &&
                        (element.isBF16() || isa<Float8E4M3FNType>(element));
    if (!type || !(element.isF32() || narrowWeight))
      return std::nullopt;
  }
  for (auto [i, map] : llvm::enumerate(op.getIndexingMapsArray()))
    if (!map.isProjectedPermutation(
            /*allowZeroInResults=*/i >= body->firstExtra &&
            i < op.getNumDpsInputs()))
      return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims = contractionLikeDims(op);
  if (failed(dims) || dims->k.size() != 1 || dims->m.empty() ||
      dims->n.empty() || op.getNumReductionLoops() != 1)
    return std::nullopt;
  Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  AffineMap mapA = op.getIndexingMapsArray()[0],
            mapB = op.getIndexingMapsArray()[1],
            mapC = op.getIndexingMapsArray().back();
  Contraction result;
  result.op = op;
  result.body = *body;
  result.k = dims->k.front();
  std::optional<unsigned> lastA = lastDim(mapA), lastB = lastDim(mapB),
                          lastC = lastDim(mapC);
  if (lastA == result.k && lastB == result.k && hasUnitInnerStride(a) &&
      hasUnitInnerStride(b)) {
    result.dot = true;
  } else if (lastB && lastB == lastC && llvm::is_contained(dims->n, *lastB) &&
             hasUnitInnerStride(b) && hasUnitInnerStride(c)) {
    result.dot = false;
  } else {
    return std::nullopt;
  }
  // m: the m loop A indexes last (rows of A); n: the n loop B indexes last
  // apart from k (rows of B in the dot form, its contiguous dim in nn).
  auto lastOf = [](AffineMap map, ArrayRef<unsigned> candidates) {
    unsigned best = candidates.front();
    for (AffineExpr e : map.getResults())
      if (llvm::is_contained(candidates,
                             cast<AffineDimExpr>(e).getPosition()))
        best = cast<AffineDimExpr>(e).getPosition();
    return best;
  };
  result.m = lastOf(mapA, dims->m);
  result.n = lastOf(mapB, dims->n);
  if (biased && cast<AffineDimExpr>(op.getIndexingMapsArray()[2].getResult(0))
                        .getPosition() != result.n)
    return std::nullopt;
  for (unsigned i = body->firstExtra; i < op.getNumDpsInputs(); ++i) {
    AffineMap map = op.getIndexingMapsArray()[i];
    if (map.isFunctionOfDim(result.k) ||
        (map.isFunctionOfDim(result.n) &&
         (lastDim(map) != result.n ||
          !hasUnitInnerStride(op.getDpsInputs()[i]))))
      return std::nullopt;
  }
  // Both forms with C contiguous along n run on packed panels of B; the
  // nn form's packing is a copy of rows, the dot form's a transposition.
  result.packed = lastC == result.n && hasUnitInnerStride(c);
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop)
    if (loop != result.m && loop != result.n && loop != result.k)
      result.outer.push_back(loop);
  return result;
}

/// The packed micro-kernel's shape (the pass options).
struct Tiling {
  int64_t lanes = kVector; // f32 per vector
  int64_t rows = kNnTileM; // rows of C per register tile
  /// Narrow weights' contractions with vdpbf16ps on bf16 pairs (A rounded
  /// to bf16), 16 lanes only.
  bool bf16Dot = false;
  /// With bf16Dot, whole 16-row tiles on AMX (tdpbf16ps).
  bool amx = false;
  int64_t panelN() const { return kNnVectorsN * lanes; }
  /// Cache lines of each row of the next m block's A prefetched per
  /// panel: the block's panels together cover its kPackK values of k.
  int64_t prefetchLinesA() const {
    return kPackK / (kBlockN / panelN()) / kFloatsPerLine;
  }
};

class Emitter {
public:
  Emitter(OpBuilder &b, Contraction c, Tiling t)
      : b(b), loc(c.op.getLoc()), c(c), t(t), ivs(c.op.getNumLoops()) {
    maps = c.op.getIndexingMapsArray();
    a = c.op.getDpsInputs()[0];
    bm = c.op.getDpsInputs()[1];
    out = c.op.getDpsInits()[0];
    // maps keeps A, B, C; the bias (indexed by c.n alone, see match) and
    // the epilogue's inputs are kept apart.
    if (c.op->hasAttr(kBiasInitAttr))
      bias = c.op.getDpsInputs()[2];
    for (unsigned i = c.body.firstExtra; i < c.op.getNumDpsInputs(); ++i) {
      extras.push_back(c.op.getDpsInputs()[i]);
      extraMaps.push_back(maps[i]);
    }
    maps = {maps[0], maps[1], maps.back()};
    zeroInit = c.op->hasAttr(kZeroInitAttr) || bias;
    // Only for narrow (bf16 / e4m3) weights in the dot layout: their user
    // chose reduced precision, and f32 weights keep f32 products.
    Type stored = cast<MemRefType>(bm.getType()).getElementType();
    bf16Dot = t.bf16Dot && t.lanes == 16 && c.packed && c.dot &&
              !stored.isF32();
    // AMX tiles are 16 rows (the register tiles of the other contractions
    // keep the option's rows).
    if (bf16Dot && t.amx)
      this->t.rows = kAmxRows;
  }

  void emit() {
    for (Range range : cast<linalg::LinalgOp>(c.op.getOperation()).createLoopRanges(b, loc))
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
    emitOuter(0);
  }

private:
  Value cst(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, cst(v)).getResult();
  }
  /// x rounded down to a multiple of `step` past `from`.
  Value fullEnd(Value from, Value to, int64_t step) {
    Value len = arith::SubIOp::create(b, loc, to, from);
    Value full = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, len, cst(step)), cst(step));
    return arith::AddIOp::create(b, loc, from, full);
  }
  SmallVector<Value> indices(unsigned operand) {
    return indicesOf(maps[operand]);
  }
  /// B at the current ivs as `type` (f32 or a vector of f32 along B's
  /// contiguous dim): a bf16 or e4m3 B is loaded as stored and widened
  /// (arith.extf; kiln-expand-fp8 expands e4m3's), so the packed panels and
  /// the tiles stay f32.
  Value loadB(Type type) {
    Type stored = cast<MemRefType>(bm.getType()).getElementType();
    auto vecType = dyn_cast<VectorType>(type);
    Type loadType = vecType ? VectorType::get(vecType.getShape(), stored) : stored;
    Value v = vecType ? vector::LoadOp::create(b, loc, loadType, bm, indices(1))
                            .getResult()
                      : memref::LoadOp::create(b, loc, bm, indices(1)).getResult();
    return stored == b.getF32Type() ? v
                                    : arith::ExtFOp::create(b, loc, type, v)
                                          .getResult();
  }
  SmallVector<Value> indicesOf(AffineMap map) {
    SmallVector<Value> result;
    for (AffineExpr e : map.getResults()) {
      // Epilogue inputs may index a size-1 dim with 0 (match).
      if (auto constant = dyn_cast<AffineConstantExpr>(e))
        result.push_back(cst(constant.getValue()));
      else
        result.push_back(ivs[cast<AffineDimExpr>(e).getPosition()]);
    }
    return result;
  }

  /// `accs` (row i of the tile at m + i, column vector j at n + j * width,
  /// i-major; width 0: scalars) with the epilogue applied when the k block
  /// ending at `k1` is the last one, else as they are. Without an epilogue,
  /// `accs`.
  SmallVector<Value> withEpilogue(ArrayRef<Value> accs, Value k1, Value m,
                                  int64_t mr, Value n, int64_t width) {
    if (c.body.epilogue.empty())
      return SmallVector<Value>(accs);
    Value last =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k1, sizes[c.k]);
    SmallVector<Type> types;
    for (Value acc : accs)
      types.push_back(acc.getType());
    auto ifOp = scf::IfOp::create(b, loc, types, last, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, loc, accs);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    int64_t nv = accs.size() / mr;
    SmallVector<Value> done;
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nv; ++j) {
        ivs[c.m] = add(m, i);
        ivs[c.n] = add(n, j * std::max<int64_t>(width, 1));
        done.push_back(epilogueOf(accs[i * nv + j], width));
      }
    scf::YieldOp::create(b, loc, done);
    return SmallVector<Value>(ifOp.getResults());
  }

  /// The epilogue for one accumulator at the current ivs: scalars (width 0)
  /// or vectors of `width` along n, the extra inputs loaded there
  /// (broadcast when not indexed by n).
  Value epilogueOf(Value acc, int64_t width) {
    Block *body = c.op.getBlock();
    IRMapping mapping;
    mapping.map(c.body.acc, acc);
    for (auto [i, extra] : llvm::enumerate(extras)) {
      SmallVector<Value> at = indicesOf(extraMaps[i]);
      Value v;
      if (width && extraMaps[i].isFunctionOfDim(c.n)) {
        v = vector::LoadOp::create(
            b, loc, VectorType::get({width}, b.getF32Type()), extra, at);
      } else {
        v = memref::LoadOp::create(b, loc, extra, at);
        if (width)
          v = vector::BroadcastOp::create(
              b, loc, VectorType::get({width}, v.getType()), v);
      }
      mapping.map(body->getArgument(c.body.firstExtra + i), v);
    }
    return cloneEpilogue(b, loc, c.body, body, mapping, width);
  }

  template <typename Body> void loop(Value lb, Value ub, int64_t step, Body body) {
    emitLoop(b, loc, lb, ub, step, body);
  }

  void emitOuter(unsigned depth) {
    if (depth == c.outer.size())
      return emitBlocks();
    loop(cst(0), sizes[c.outer[depth]], 1, [&](Value iv) {
      ivs[c.outer[depth]] = iv;
      emitOuter(depth + 1);
    });
  }

  /// Unpacked dot form (C not contiguous along n): k blocks, then n
  /// blocks, then m blocks with the n tiles outside the m tiles; the rows
  /// left over by the m tiles last, one at a time.
  void emitBlocks() {
    if (c.packed)
      return emitPacked();
    Value sizeM = sizes[c.m], sizeN = sizes[c.n], sizeK = sizes[c.k];
    int64_t tileM = kDotTileM, tileN = kDotTileN;
    loop(cst(0), sizeK, kBlockK, [&](Value k0) {
      Value k1 = arith::MinUIOp::create(b, loc, sizeK, add(k0, kBlockK));
      loop(cst(0), sizeN, kBlockN, [&](Value n0) {
        Value n1 = arith::MinUIOp::create(b, loc, sizeN, add(n0, kBlockN));
        Value mFull = fullEnd(cst(0), sizeM, tileM);
        Value nFull = fullEnd(n0, n1, tileN);
        // m blocks of kBlockM rows (their A block, 192 KB at k = 512, stays
        // in L2), and inside them the n tiles outermost: the 4 rows of B of
        // one n tile (8 KB) stay in L1 while the m tiles stream A from L2.
        // The streamed operand costs 3 loads per 12 FMAs this way, 4 with
        // the m tiles outermost.
        loop(cst(0), mFull, kBlockM, [&](Value mb0) {
          Value mb1 = arith::MinUIOp::create(b, loc, mFull, add(mb0, kBlockM));
          loop(n0, nFull, tileN, [&](Value n) {
            loop(mb0, mb1, tileM,
                 [&](Value m) { emitTile(m, tileM, n, tileN, k0, k1); });
          });
          loop(nFull, n1, 1, [&](Value n) {
            loop(mb0, mb1, tileM,
                 [&](Value m) { emitTile(m, tileM, n, 1, k0, k1); });
          });
        });
        loop(mFull, sizeM, 1, [&](Value m) {
          loop(n0, nFull, tileN,
               [&](Value n) { emitTile(m, 1, n, tileN, k0, k1); });
          loop(nFull, n1, 1, [&](Value n) { emitTile(m, 1, n, 1, k0, k1); });
        });
      });
    });
  }

  /// Packed form: k blocks of kPackK, n blocks of kBlockN; each (k, n)
  /// block of B is copied into `pack` [kBlockN/16][kPackK][16], then 6x16
  /// tiles of C are accumulated with broadcasts of A (see the file comment
  /// for the loop order); columns past the last whole panel use 1x1 tiles
  /// of the unpacked code.
  void emitPacked() {
    Value sizeM = sizes[c.m], sizeN = sizes[c.n], sizeK = sizes[c.k];
    {
      OpBuilder::InsertionGuard guard(b);
      auto func = c.op->getParentOfType<func::FuncOp>();
      b.setInsertionPointToStart(&func.getBody().front());
      if (bf16Dot) {
        // bf16 pairs: one i32 per pair of k values (half the rows), in
        // byte buffers that AMX also reads as bf16 tiles.
        int64_t panels = kBlockN / t.panelN();
        pack = bytesAs({panels, kPackK / 2, t.panelN()}, b.getI32Type());
        packBf16 = viewAs(pack, {panels, kPackK / 2, 2 * t.panelN()},
                          b.getBF16Type());
        apack = bytesAs({kPackM, kPackK / 2}, b.getI32Type());
        apackBf16 = viewAs(apack, {kPackM, kPackK}, b.getBF16Type());
        if (t.amx)
          scratch = memref::AllocaOp::create(
              b, loc,
              MemRefType::get({kAmxRows, kNnVectorsN * kAmxCols},
                              b.getF32Type()),
              b.getI64IntegerAttr(64));
      } else {
        pack = memref::AllocaOp::create(
            b, loc,
            MemRefType::get({kBlockN / t.panelN(), kPackK, t.panelN()},
                            b.getF32Type()),
            b.getI64IntegerAttr(64));
      }
    }
    loop(cst(0), sizeK, kPackK, [&](Value k0) {
      Value k1 = arith::MinUIOp::create(b, loc, sizeK, add(k0, kPackK));
      loop(cst(0), sizeN, kBlockN, [&](Value n0) {
        Value n1 = arith::MinUIOp::create(b, loc, sizeN, add(n0, kBlockN));
        Value nP = fullEnd(n0, n1, t.panelN());
        Value panels = arith::DivUIOp::create(
            b, loc, arith::SubIOp::create(b, loc, nP, n0), cst(t.panelN()));
        Value kLen = arith::SubIOp::create(b, loc, k1, k0);
        setNextBlock(n0, k0);
        // Pack: pack[p][kk][j] = B[n0 + 16 p + j][k0 + kk] (dot form) or
        // B[k0 + kk][n0 + 16 p + j] (nn form, 2 vectors per kk).
        loop(cst(0), panels, 1, [&](Value p) {
          Value nBase = arith::AddIOp::create(
              b, loc, n0, arith::MulIOp::create(b, loc, p, cst(t.panelN())));
          if (bf16Dot)
            return packPanelBf16(p, nBase, n0, k0, kLen);
          if (!c.dot) {
            auto vecType = VectorType::get({kVector}, b.getF32Type());
            loop(cst(0), kLen, 1, [&](Value kk) {
              ivs[c.k] = arith::AddIOp::create(b, loc, k0, kk);
              for (int64_t j = 0; j < t.panelN(); j += kVector) {
                ivs[c.n] = add(nBase, j);
                Value v = loadB(vecType);
                vector::StoreOp::create(b, loc, v, pack,
                                        ValueRange{p, kk, cst(j)});
              }
              prefetchNextBlock(arith::SubIOp::create(b, loc, nBase, n0), kk);
            });
            return;
          }
          // Dot form: 8x8 blocks transposed in registers, then the k
          // values past the last multiple of 8 one by one.
          Value kFull = fullEnd(cst(0), kLen, kVector);
          loop(cst(0), kFull, kVector, [&](Value kk) {
            for (int64_t j = 0; j < t.panelN(); j += kVector)
              packTransposed(nBase, n0, j, k0, kk, p, kk, [&] {
                return loadB(VectorType::get({kVector}, b.getF32Type()));
              });
          });
          for (int64_t j = 0; j < t.panelN(); ++j) {
            ivs[c.n] = add(nBase, j);
            loop(kFull, kLen, 1, [&](Value kk) {
              ivs[c.k] = arith::AddIOp::create(b, loc, k0, kk);
              Value v = loadB(b.getF32Type());
              memref::StoreOp::create(b, loc, v, pack,
                                      ValueRange{p, kk, cst(j)});
            });
          }
        });
        // m blocks of kPackM rows; in each, the panels outside the m tiles,
        // so one panel (16 KB) stays in L1 while the block's tiles stream
        // their rows of A from L2 (6 broadcasts per 12 FMAs, where the
        // panels streamed from L2 would cost 2 full vectors).
        Value mFull = fullEnd(cst(0), sizeM, t.rows);
        auto panelBase = [&](Value p) {
          return arith::AddIOp::create(
              b, loc, n0, arith::MulIOp::create(b, loc, p, cst(t.panelN())));
        };
        loop(cst(0), mFull, kPackM, [&](Value mb0) {
          Value mb1 = arith::MinUIOp::create(b, loc, mFull, add(mb0, kPackM));
          if (bf16Dot)
            packRowsBf16(mb0, mb1, k0, kLen);
          loop(cst(0), panels, 1, [&](Value p) {
            Value n = panelBase(p);
            Value kLine = arith::AddIOp::create(
                b, loc, k0,
                arith::MulIOp::create(b, loc, p,
                                      cst(t.prefetchLinesA() * kFloatsPerLine)));
            loop(mb0, mb1, t.rows, [&](Value m) {
              // Prefetch the same tile of the next m block (from L3/DRAM):
              // t.prefetchLinesA() cache lines of each of its rows per panel,
              // so the 8 panels bring its kPackK values of k into L2
              // before it runs.
              for (int64_t i = 0; i < t.rows; ++i)
                for (int64_t l = 0; l < t.prefetchLinesA(); ++l) {
                  ivs[c.m] = add(m, kPackM + i);
                  ivs[c.k] = add(kLine, kFloatsPerLine * l);
                  memref::PrefetchOp::create(b, loc, a, indices(0),
                                             /*isWrite=*/false,
                                             /*localityHint=*/2,
                                             /*isDataCache=*/true);
                }
              // And the next tile's 6 rows of C (one line each): with the
              // m tiles inside the panels, consecutive tiles touch new rows
              // of C, which the hardware prefetcher does not predict.
              for (int64_t i = 0; i < t.rows; ++i) {
                ivs[c.m] = add(m, t.rows + i);
                ivs[c.n] = n;
                memref::PrefetchOp::create(b, loc, out, indices(2),
                                           /*isWrite=*/true,
                                           /*localityHint=*/3,
                                           /*isDataCache=*/true);
              }
              tile(m, t.rows, n, p, k0, kLen, mb0);
            });
          });
        });
        // The rows past the last whole tile (M mod 6: 4 at 1024 image
        // tokens, 2 at 1280) in one tile of 4, 2 and 1 rows as they fit:
        // a 1-row tile has 2 accumulators, too few to hide the FMA latency,
        // so 4 rows one by one took as long as 16 of the 6-row tiles' rows.
        Value mStart = mFull;
        if (bf16Dot)
          packRowsBf16(mFull, sizeM, k0, kLen);
        for (int64_t rows : {6, 4, 2, 1}) {
          if (rows >= t.rows)
            continue;
          Value mEnd = fullEnd(mStart, sizeM, rows);
          loop(mStart, mEnd, rows, [&](Value m) {
            loop(cst(0), panels, 1, [&](Value p) {
              tile(m, rows, panelBase(p), p, k0, kLen, mFull);
            });
          });
          mStart = mEnd;
        }
        // Columns past the last whole panel.
        loop(nP, n1, 1, [&](Value n) {
          loop(cst(0), sizeM, 1, [&](Value m) {
            emitTile(m, 1, n, 1, k0, k1);
          });
        });
      });
    });
  }

  /// pack[p][row + c][j + i] = element c of `loadRow()` at B[nBase + j +
  /// i][k0 + kk] for i, c < 8 (8 f32 of k, or 8 bf16 pairs): 8 rows of B
  /// loaded as vectors along k and transposed with the unpack / shuffle /
  /// lane-swap sequence (24 shuffles instead of 64 scalar loads and stores
  /// with a 64-byte stride).
  void packTransposed(Value nBase, Value n0, int64_t j, Value k0, Value kk,
                      Value p, Value row, llvm::function_ref<Value()> loadRow) {
    SmallVector<Value> rows;
    ivs[c.k] = arith::AddIOp::create(b, loc, k0, kk);
    for (int64_t i = 0; i < kVector; ++i) {
      ivs[c.n] = add(nBase, j + i);
      rows.push_back(loadRow());
    }
    Value offset = arith::SubIOp::create(b, loc, nBase, n0);
    for (int64_t i = 0; i < kVector; ++i)
      prefetchNextBlock(add(offset, j + i), kk);
    SmallVector<Value> columns = transpose8x8(rows);
    for (int64_t col = 0; col < kVector; ++col)
      vector::StoreOp::create(b, loc, columns[col], pack,
                              ValueRange{p, add(row, col), cst(j)});
  }

  /// The columns of 8 vectors of 8 elements (any 32-bit type): result[c]
  /// holds element c of each row, with the unpack / shuffle / lane-swap
  /// sequence (24 shuffles instead of 64 scalar loads and stores).
  SmallVector<Value> transpose8x8(ArrayRef<Value> rows) {
    auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> mask) -> Value {
      return vector::ShuffleOp::create(b, loc, x, y, mask);
    };
    // Interleave pairs of rows (unpcklps / unpckhps within 128-bit lanes).
    SmallVector<Value> t, u;
    for (int64_t i = 0; i < kVector; i += 2) {
      t.push_back(shuffle(rows[i], rows[i + 1], {0, 8, 1, 9, 4, 12, 5, 13}));
      t.push_back(shuffle(rows[i], rows[i + 1], {2, 10, 3, 11, 6, 14, 7, 15}));
    }
    // Pairs of pairs (shufps 0x44 / 0xEE): 4 rows of one column per lane.
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t q = 0; q < 2; ++q) {
        Value x = t[4 * h + q], y = t[4 * h + q + 2];
        u.push_back(shuffle(x, y, {0, 1, 8, 9, 4, 5, 12, 13}));
        u.push_back(shuffle(x, y, {2, 3, 10, 11, 6, 7, 14, 15}));
      }
    // u[0..3] hold columns 0-3 (low lane) and 4-7 (high lane) of rows 0-3,
    // u[4..7] the same of rows 4-7: join the lanes (vperm2f128).
    SmallVector<Value> columns(kVector);
    for (int64_t col = 0; col < 4; ++col) {
      columns[col] = shuffle(u[col], u[col + 4], {0, 1, 2, 3, 8, 9, 10, 11});
      columns[col + 4] =
          shuffle(u[col], u[col + 4], {4, 5, 6, 7, 12, 13, 14, 15});
    }
    return columns;
  }

  /// The block of B packed after the one at (n0, k0): the next n block,
  /// or the first n block of the next k block after the last. Computed once
  /// per block for prefetchNextBlock.
  void setNextBlock(Value n0, Value k0) {
    Value n = add(n0, kBlockN);
    Value wrap = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, n,
                                       sizes[c.n]);
    nextN = arith::SelectOp::create(b, loc, wrap, cst(0), n);
    nextK = arith::SelectOp::create(b, loc, wrap, add(k0, kPackK), k0);
  }

  /// Prefetches B[nextN + row][nextK + kk] (dot form) or
  /// B[nextK + kk][nextN + row] (nn form), clamped into B, while the packing
  /// copies the same place of the current block: B's rows are kilobytes
  /// apart, too many streams for the hardware prefetcher, so the packing
  /// would wait on DRAM for its lines (measured: `proj_out` -15 % in one
  /// run, others within the noise; the M = 1 GEMVs, already at DRAM
  /// bandwidth, unchanged).
  void prefetchNextBlock(Value row, Value kk) {
    auto clamp = [&](Value v, Value size) -> Value {
      return arith::MinUIOp::create(b, loc, v,
                                    arith::SubIOp::create(b, loc, size, cst(1)));
    };
    ivs[c.n] = clamp(arith::AddIOp::create(b, loc, nextN, row), sizes[c.n]);
    ivs[c.k] = clamp(arith::AddIOp::create(b, loc, nextK, kk), sizes[c.k]);
    memref::PrefetchOp::create(b, loc, bm, indices(1), /*isWrite=*/false,
                               /*localityHint=*/3, /*isDataCache=*/true);
  }

  /// Whether k0 starts the first k block of a kiln.zero_init contraction,
  /// whose output holds no zeros to start from (kiln-fold-zero-fill).
  Value firstOfZeroInit(Value k0) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k0, cst(0));
  }

  /// The C tile [m..m+mr, n..n+nv*width) as mr x nv vectors of `width`,
  /// row by row: the accumulators a register tile starts from (in the first
  /// k block of a zero-init contraction zeros, of a bias-init one the bias,
  /// nv loads shared by the rows, without reading C).
  SmallVector<Value> loadTile(Value m, int64_t mr, Value n, int64_t nv,
                              int64_t width, Value k0) {
    auto vecType = VectorType::get({width}, b.getF32Type());
    auto loads = [&] {
      SmallVector<Value> acc;
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nv; ++j) {
          ivs[c.m] = add(m, i);
          ivs[c.n] = add(n, j * width);
          acc.push_back(
              vector::LoadOp::create(b, loc, vecType, out, indices(2)));
        }
      return acc;
    };
    if (!zeroInit)
      return loads();
    SmallVector<Type> types(mr * nv, vecType);
    auto ifOp = scf::IfOp::create(b, loc, types, firstOfZeroInit(k0),
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      SmallVector<Value> start(
          nv, bias ? Value() : arith::ConstantOp::create(
                                   b, loc, b.getZeroAttr(vecType)));
      for (int64_t j = 0; bias && j < nv; ++j)
        start[j] = vector::LoadOp::create(b, loc, vecType, bias,
                                          ValueRange{add(n, j * width)});
      SmallVector<Value> tile;
      for (int64_t i = 0; i < mr; ++i)
        tile.append(start);
      scf::YieldOp::create(b, loc, tile);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, loc, loads());
    }
    return SmallVector<Value>(ifOp.getResults());
  }

  /// One packed register tile of rows [m, m + mr): the f32 FMA kernel, or
  /// the bf16 pairs' (its A rows packed from `mBase` by packRowsBf16):
  /// AMX tiles for whole 16-row tiles where the level has them, else
  /// vdpbf16ps.
  void tile(Value m, int64_t mr, Value n, Value p, Value k0, Value kLen,
            Value mBase) {
    if (bf16Dot && t.amx && mr == kAmxRows)
      return amxTile(m, n, p, k0, kLen, mBase);
    if (bf16Dot)
      return bf16Tile(m, mr, n, p, k0, kLen, mBase);
    packedTile(m, mr, n, p, k0, kLen);
  }

  /// A 64-byte aligned stack buffer of `shape` elements of `element`, as a
  /// memref.view of bytes (so other views may alias it).
  Value bytesAs(ArrayRef<int64_t> shape, Type element) {
    int64_t bytes = element.getIntOrFloatBitWidth() / 8;
    for (int64_t d : shape)
      bytes *= d;
    Value buffer = memref::AllocaOp::create(
        b, loc, MemRefType::get({bytes}, b.getI8Type()),
        b.getI64IntegerAttr(64));
    return memref::ViewOp::create(b, loc, MemRefType::get(shape, element),
                                  buffer, cst(0), ValueRange{});
  }
  /// The bytes under `view` (a bytesAs result) as `shape` of `element`.
  Value viewAs(Value view, ArrayRef<int64_t> shape, Type element) {
    Value buffer = view.getDefiningOp<memref::ViewOp>().getSource();
    return memref::ViewOp::create(b, loc, MemRefType::get(shape, element),
                                  buffer, cst(0), ValueRange{});
  }

  // --- AMX (the `amx` option) ------------------------------------------
  //
  // tdpbf16ps multiplies a 16 x 32 bf16 tile of A by a 32 x 16 one of B
  // (16 rows of pairs, the panels' layout) into a 16 x 16 f32 tile. A
  // 16-row register tile of the packed form is two of them side by side
  // (32 columns, one panel): per 32 values of k, one tile load of A's
  // pairs, two of the panel and two tdpbf16ps. The sums over the k block
  // go to a 16 x 32 scratch buffer; the vector code then adds them to the
  // tile's start (zeros, bias or C), applies the epilogue and stores.

  Type amxTileType(Type element, int64_t cols) {
    return amx::TileType::get({kAmxRows, cols}, element);
  }

  /// scratch = sum over the first `amxPairs` pairs of k of A's rows
  /// [r0, r0 + 16) times panel p: a straight line of tile ops for a whole
  /// k block (the accumulator tiles never cross a block boundary, which
  /// LLVM's AMX lowering needs), else a loop through the scratch.
  void amxProducts(Value r0, Value p, Value kLen, Value amxPairs) {
    Type bf16Tile = amxTileType(b.getBF16Type(), 2 * kAmxCols);
    Type f32Tile = amxTileType(b.getF32Type(), kAmxCols);
    auto step = [&](Value kp, Value c0, Value c1) {
      Value a = amx::TileLoadOp::create(
          b, loc, bf16Tile, apackBf16,
          ValueRange{r0, arith::MulIOp::create(b, loc, kp, cst(2))});
      SmallVector<Value> out;
      for (auto [j, acc] : llvm::enumerate(SmallVector<Value>{c0, c1})) {
        Value bt = amx::TileLoadOp::create(
            b, loc, bf16Tile, packBf16,
            ValueRange{p, kp, cst(j * 2 * kAmxCols)});
        out.push_back(amx::TileMulFOp::create(b, loc, f32Tile, a, bt, acc));
      }
      return out;
    };
    auto full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, kLen,
                                      cst(kPackK));
    auto ifFull = scf::IfOp::create(b, loc, full, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifFull.getThenRegion().front());
    {
      Value c0 = amx::TileZeroOp::create(b, loc, f32Tile);
      Value c1 = amx::TileZeroOp::create(b, loc, f32Tile);
      for (int64_t kp = 0; kp < kPackK / 2; kp += kAmxRows) {
        SmallVector<Value> next = step(cst(kp), c0, c1);
        c0 = next[0];
        c1 = next[1];
      }
      amx::TileStoreOp::create(b, loc, scratch, ValueRange{cst(0), cst(0)}, c0);
      amx::TileStoreOp::create(b, loc, scratch,
                               ValueRange{cst(0), cst(kAmxCols)}, c1);
    }
    b.setInsertionPointToStart(&ifFull.getElseRegion().front());
    Value zero = amx::TileZeroOp::create(b, loc, f32Tile);
    for (int64_t j = 0; j < kNnVectorsN; ++j)
      amx::TileStoreOp::create(b, loc, scratch,
                               ValueRange{cst(0), cst(j * kAmxCols)}, zero);
    loop(cst(0), amxPairs, kAmxRows, [&](Value kp) {
      SmallVector<Value> acc;
      for (int64_t j = 0; j < kNnVectorsN; ++j)
        acc.push_back(amx::TileLoadOp::create(
            b, loc, f32Tile, scratch, ValueRange{cst(0), cst(j * kAmxCols)}));
      SmallVector<Value> next = step(kp, acc[0], acc[1]);
      for (int64_t j = 0; j < kNnVectorsN; ++j)
        amx::TileStoreOp::create(b, loc, scratch,
                                 ValueRange{cst(0), cst(j * kAmxCols)},
                                 next[j]);
    });
  }

  /// C[m..m+16, n..n+32] over the k block: AMX for the pairs of k in whole
  /// groups of 16, then per row the start, the scratch row, vdpbf16ps for
  /// the pairs left, the epilogue and the store.
  void amxTile(Value m, Value n, Value p, Value k0, Value kLen, Value mBase) {
    Value r0 = arith::SubIOp::create(b, loc, m, mBase);
    Value pairs = arith::DivUIOp::create(b, loc, add(kLen, 1), cst(2));
    Value amxPairs = fullEnd(cst(0), pairs, kAmxRows);
    amxProducts(r0, p, kLen, amxPairs);
    auto pairType = VectorType::get({t.lanes}, b.getI32Type());
    auto bf16Type = VectorType::get({2 * t.lanes}, b.getBF16Type());
    auto f32Type = VectorType::get({t.lanes}, b.getF32Type());
    for (int64_t i = 0; i < kAmxRows; ++i) {
      Value row = add(m, i);
      SmallVector<Value> acc = loadTile(row, 1, n, kNnVectorsN, t.lanes, k0);
      for (int64_t j = 0; j < kNnVectorsN; ++j)
        acc[j] = arith::AddFOp::create(
            b, loc, acc[j],
            vector::LoadOp::create(b, loc, f32Type, scratch,
                                   ValueRange{cst(i), cst(j * t.lanes)}));
      acc = emitLoopCarrying(
          b, loc, amxPairs, pairs, 1, acc,
          [&](Value kp, SmallVector<Value> acc) {
            Value pair = memref::LoadOp::create(b, loc, apack,
                                                ValueRange{add(r0, i), kp});
            Value splat = vector::BitCastOp::create(
                b, loc, bf16Type,
                vector::BroadcastOp::create(b, loc, pairType, pair));
            for (int64_t j = 0; j < kNnVectorsN; ++j) {
              Value panel = vector::BitCastOp::create(
                  b, loc, bf16Type,
                  vector::LoadOp::create(b, loc, pairType, pack,
                                         ValueRange{p, kp, cst(j * t.lanes)}));
              acc[j] = x86vector::DotBF16Op::create(b, loc, acc[j], splat,
                                                    panel);
            }
            return acc;
          });
      storeTile(acc, row, 1, n, k0, kLen);
    }
  }

  // --- bf16 pairs (the `bf16-dot` option) -------------------------------
  //
  // vdpbf16ps multiplies pairs of bf16 and adds both products to an f32
  // lane: acc[j] += a[2j] b[2j] + a[2j+1] b[2j+1]. Both operands are
  // packed as pairs of consecutive k values in one i32 (the lower k in the
  // low half, as they lie in memory): B's panels [p][k/2][32 columns] once
  // per block, A's rows [row][k/2] once per m block and k block (rounded
  // to nearest even), so a tile step is 2 loads of the panel, one 32-bit
  // broadcast of A per row and 2 dots per row, for 2 k values.

  Value cstI32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }

  /// A narrow element of B (bf16 or e4m3, scalar) as bf16 bits in the low
  /// half of an i32: e4m3 values are exact in bf16, the top half of their
  /// f32 widening.
  Value bf16BitsOfB(Value x) {
    if (x.getType().isBF16())
      return arith::ExtUIOp::create(
          b, loc, b.getI32Type(),
          arith::BitcastOp::create(b, loc, b.getI16Type(), x));
    Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
    return arith::ShRUIOp::create(
        b, loc, arith::BitcastOp::create(b, loc, b.getI32Type(), wide),
        cstI32(16));
  }

  /// i32 `v`, or a vector of it shaped like `like`.
  Value i32Like(Type like, int64_t v) {
    auto vecType = dyn_cast<VectorType>(like);
    if (!vecType)
      return cstI32(v);
    auto type = VectorType::get(vecType.getShape(), b.getI32Type());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getI32IntegerAttr(v)));
  }

  /// f32 `x` (scalar or vector) as bf16 bits in the low half of i32s,
  /// rounded to nearest even as vcvtneps2bf16 rounds (NaN stays a quiet
  /// NaN).
  Value bf16BitsOfF32(Value x) {
    auto vecType = dyn_cast<VectorType>(x.getType());
    Type i32 = vecType ? Type(VectorType::get(vecType.getShape(),
                                              b.getI32Type()))
                       : Type(b.getI32Type());
    Value bits = arith::BitcastOp::create(b, loc, i32, x);
    Value lsb = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, bits, i32Like(i32, 16)),
        i32Like(i32, 1));
    Value bias = arith::AddIOp::create(b, loc, i32Like(i32, 0x7FFF), lsb);
    Value rounded = arith::ShRUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, bits, bias), i32Like(i32, 16));
    Value nan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
    return arith::SelectOp::create(b, loc, nan, i32Like(i32, 0x7FC0), rounded);
  }

  /// f32 `x` (scalar or vector) rounded to the nearest bf16, as f32.
  Value roundedToBf16(Value x) {
    Value bits = bf16BitsOfF32(x);
    return arith::BitcastOp::create(
        b, loc, x.getType(),
        arith::ShLIOp::create(b, loc, bits, i32Like(bits.getType(), 16)));
  }

  Value pairOf(Value lo, Value hi) {
    return arith::OrIOp::create(
        b, loc, lo, arith::ShLIOp::create(b, loc, hi, cstI32(16)));
  }

  /// B's 16 values along k at the ivs as 8 pairs (vector<8xi32>).
  Value loadBPairs16() {
    Type stored = cast<MemRefType>(bm.getType()).getElementType();
    auto pairs = VectorType::get({kVector}, b.getI32Type());
    Value raw = vector::LoadOp::create(
        b, loc, VectorType::get({2 * kVector}, stored), bm, indices(1));
    if (stored.isBF16())
      return vector::BitCastOp::create(b, loc, pairs, raw);
    auto i32s = VectorType::get({2 * kVector}, b.getI32Type());
    Value wide = arith::ExtFOp::create(
        b, loc, VectorType::get({2 * kVector}, b.getF32Type()), raw);
    Value top = arith::ShRUIOp::create(
        b, loc, vector::BitCastOp::create(b, loc, i32s, wide),
        arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(i32s, b.getI32IntegerAttr(16))));
    Value halves = arith::TruncIOp::create(
        b, loc, VectorType::get({2 * kVector}, b.getI16Type()), top);
    return vector::BitCastOp::create(b, loc, pairs, halves);
  }

  /// pack[p][kp][j] = B[nBase + j][k0 + 2 kp, + 1] as a bf16 pair, for kp
  /// < ceil(kLen / 2) (the pair past an odd kLen's last k padded with 0):
  /// 8 pairs x 8 columns at a time with transpose8x8, the pairs past the
  /// last multiple of 8 one by one.
  void packPanelBf16(Value p, Value nBase, Value n0, Value k0, Value kLen) {
    Value pairs = arith::DivUIOp::create(b, loc, kLen, cst(2));
    Value pFull = fullEnd(cst(0), pairs, kVector);
    loop(cst(0), pFull, kVector, [&](Value kp) {
      Value kk = arith::MulIOp::create(b, loc, kp, cst(2));
      for (int64_t j = 0; j < t.panelN(); j += kVector)
        packTransposed(nBase, n0, j, k0, kk, p, kp,
                       [&] { return loadBPairs16(); });
    });
    for (int64_t j = 0; j < t.panelN(); ++j) {
      ivs[c.n] = add(nBase, j);
      packPairsOneByOne(
          pFull, pairs, k0, kLen,
          [&] {
            return bf16BitsOfB(
                memref::LoadOp::create(b, loc, bm, indices(1)));
          },
          pack, [&](Value kp) { return SmallVector<Value>{p, kp, cst(j)}; });
    }
  }

  /// dest[at(kp)] = the pair of the values `load` gives at k = k0 + 2 kp
  /// and k0 + 2 kp + 1 (ivs[c.k] set before each call; as bf16 bits in the
  /// low halves), for kp in [from, pairs); then, when kLen is odd, the last
  /// value paired with 0 at kp = pairs.
  void packPairsOneByOne(Value from, Value pairs, Value k0, Value kLen,
                         llvm::function_ref<Value()> load, Value dest,
                         llvm::function_ref<SmallVector<Value>(Value)> at) {
    loop(from, pairs, 1, [&](Value kp) {
      Value k = arith::AddIOp::create(
          b, loc, k0, arith::MulIOp::create(b, loc, kp, cst(2)));
      ivs[c.k] = k;
      Value lo = load();
      ivs[c.k] = add(k, 1);
      Value hi = load();
      memref::StoreOp::create(b, loc, pairOf(lo, hi), dest, at(kp));
    });
    Value odd = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne,
        arith::RemUIOp::create(b, loc, kLen, cst(2)), cst(0));
    auto ifOdd = scf::IfOp::create(b, loc, odd, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOdd.getThenRegion().front());
    ivs[c.k] = arith::SubIOp::create(
        b, loc, arith::AddIOp::create(b, loc, k0, kLen), cst(1));
    memref::StoreOp::create(b, loc, load(), dest, at(pairs));
  }

  /// apack[m - mFrom][kp] = A[m][k0 + 2 kp, + 1] rounded to a bf16 pair,
  /// for m in [mFrom, mTo) (at most kPackM rows), kp < ceil(kLen / 2).
  void packRowsBf16(Value mFrom, Value mTo, Value k0, Value kLen) {
    Value pairs = arith::DivUIOp::create(b, loc, kLen, cst(2));
    Value kFull = fullEnd(cst(0), kLen, 2 * t.lanes);
    auto f32s = VectorType::get({t.lanes}, b.getF32Type());
    auto bf16s = VectorType::get({t.lanes}, b.getBF16Type());
    auto pairType = VectorType::get({t.lanes / 2}, b.getI32Type());
    loop(mFrom, mTo, 1, [&](Value m) {
      Value r = arith::SubIOp::create(b, loc, m, mFrom);
      ivs[c.m] = m;
      // t.lanes values (vcvtneps2bf16) per step, twice per trip.
      loop(cst(0), kFull, 2 * t.lanes, [&](Value kk) {
        for (int64_t h = 0; h < 2; ++h) {
          ivs[c.k] = arith::AddIOp::create(b, loc, k0, add(kk, h * t.lanes));
          Value v = vector::LoadOp::create(b, loc, f32s, a, indices(0));
          Value rounded =
              x86vector::CvtPackedF32ToBF16Op::create(b, loc, bf16s, v);
          Value kp = arith::DivUIOp::create(b, loc, add(kk, h * t.lanes),
                                            cst(2));
          vector::StoreOp::create(
              b, loc, vector::BitCastOp::create(b, loc, pairType, rounded),
              apack, ValueRange{r, kp});
        }
      });
      Value pStart = arith::DivUIOp::create(b, loc, kFull, cst(2));
      packPairsOneByOne(
          pStart, pairs, k0, kLen,
          [&] {
            return bf16BitsOfF32(
                memref::LoadOp::create(b, loc, a, indices(0)));
          },
          apack, [&](Value kp) { return SmallVector<Value>{r, kp}; });
    });
  }

  /// C[m..m+mr, n..n+32] += A * B over the k block with vdpbf16ps: per pair
  /// of k, 2 loads of the panel, mr 32-bit broadcasts from apack (rows
  /// from m - mBase) and 2 mr dots; pairs unrolled by 2.
  void bf16Tile(Value m, int64_t mr, Value n, Value p, Value k0, Value kLen,
                Value mBase) {
    auto pairType = VectorType::get({t.lanes}, b.getI32Type());
    auto bf16Type = VectorType::get({2 * t.lanes}, b.getBF16Type());
    Value pairs = arith::DivUIOp::create(b, loc, add(kLen, 1), cst(2));
    Value r0 = arith::SubIOp::create(b, loc, m, mBase);
    auto step = [&](Value kp, SmallVector<Value> acc) {
      SmallVector<Value> panel;
      for (int64_t j = 0; j < kNnVectorsN; ++j)
        panel.push_back(vector::BitCastOp::create(
            b, loc, bf16Type,
            vector::LoadOp::create(b, loc, pairType, pack,
                                   ValueRange{p, kp, cst(j * t.lanes)})));
      for (int64_t i = 0; i < mr; ++i) {
        Value pair = memref::LoadOp::create(b, loc, apack,
                                            ValueRange{add(r0, i), kp});
        Value splat = vector::BitCastOp::create(
            b, loc, bf16Type, vector::BroadcastOp::create(b, loc, pairType, pair));
        for (int64_t j = 0; j < kNnVectorsN; ++j)
          acc[i * kNnVectorsN + j] = x86vector::DotBF16Op::create(
              b, loc, acc[i * kNnVectorsN + j], splat, panel[j]);
      }
      return acc;
    };
    SmallVector<Value> acc = loadTile(m, mr, n, kNnVectorsN, t.lanes, k0);
    Value main = fullEnd(cst(0), pairs, 2);
    acc = emitLoopCarrying(b, loc, cst(0), main, 2, acc,
                           [&](Value kp, SmallVector<Value> acc) {
                             return step(add(kp, 1), step(kp, acc));
                           });
    acc = emitLoopCarrying(b, loc, main, pairs, 1, acc, step);
    storeTile(acc, m, mr, n, k0, kLen);
  }

  /// C[m..m+mr, n..n+16] += A[m..m+mr, k0..k0+kLen] * pack[p] in registers:
  /// k unrolled by kPackUnrollK (the loop's increment, compare and branch
  /// then cost 3 instructions per 48 FMAs, not per 12; +4 % for the kernel
  /// on data in cache), then the k values left one at a time.
  void packedTile(Value m, int64_t mr, Value n, Value p, Value k0,
                  Value kLen) {
    auto vecType = VectorType::get({t.lanes}, b.getF32Type());
    // One k: 2 vectors of the panel, mr broadcasts of A, 2 mr FMAs.
    auto step = [&](Value kk, ValueRange iter) {
      ivs[c.k] = arith::AddIOp::create(b, loc, k0, kk);
      SmallVector<Value> rowsB, next;
      for (int64_t j = 0; j < kNnVectorsN; ++j)
        rowsB.push_back(vector::LoadOp::create(
            b, loc, vecType, pack, ValueRange{p, kk, cst(j * t.lanes)}));
      for (int64_t i = 0; i < mr; ++i) {
        ivs[c.m] = add(m, i);
        Value scalar = memref::LoadOp::create(b, loc, a, indices(0));
        Value splat = vector::BroadcastOp::create(b, loc, vecType, scalar);
        for (int64_t j = 0; j < kNnVectorsN; ++j)
          next.push_back(vector::FMAOp::create(
              b, loc, vecType, splat, rowsB[j], iter[i * kNnVectorsN + j]));
      }
      return next;
    };
    auto kLoop = [&](Value from, Value to, int64_t unroll, ValueRange init) {
      return emitLoopCarrying(b, loc, from, to, unroll, SmallVector<Value>(init),
                              [&](Value kk, SmallVector<Value> acc) {
                                for (int64_t u = 0; u < unroll; ++u)
                                  acc = step(add(kk, u), acc);
                                return acc;
                              });
    };
    SmallVector<Value> acc = loadTile(m, mr, n, kNnVectorsN, t.lanes, k0);
    Value kMain = fullEnd(cst(0), kLen, kPackUnrollK);
    acc = kLoop(cst(0), kMain, kPackUnrollK, acc);
    acc = kLoop(kMain, kLen, 1, acc);
    storeTile(acc, m, mr, n, k0, kLen);
  }

  /// A packed tile's accumulators, with the epilogue when [k0, k0 + kLen)
  /// is the last k block, stored to C[m..m+mr, n..n+panel).
  void storeTile(ArrayRef<Value> tile, Value m, int64_t mr, Value n, Value k0,
                 Value kLen) {
    SmallVector<Value> acc =
        withEpilogue(tile, arith::AddIOp::create(b, loc, k0, kLen), m, mr, n,
                     t.lanes);
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < kNnVectorsN; ++j) {
        ivs[c.m] = add(m, i);
        ivs[c.n] = add(n, j * t.lanes);
        vector::StoreOp::create(b, loc, acc[i * kNnVectorsN + j], out,
                                indices(2));
      }
  }

  void emitTile(Value m, int64_t mr, Value n, int64_t nr, Value k0, Value k1) {
    if (c.dot) {
      // k unrolled by 2 (16 per trip), then one more vector of 8, then
      // single elements: the unrolled loop spends its 5 scalar instructions
      // (induction, compare, address) on 24 FMAs instead of 12.
      Value kPair = fullEnd(k0, k1, kUnrollK * kVector);
      Value kVec = fullEnd(kPair, k1, kVector);
      auto vecType = VectorType::get({kVector}, b.getF32Type());
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(vecType));
      SmallVector<Value> acc(mr * nr, zero);
      acc = dotLoop(m, mr, n, nr, k0, kPair, kVector, kUnrollK, acc);
      acc = dotLoop(m, mr, n, nr, kPair, kVec, kVector, 1, acc);
      SmallVector<Value> sums = reduce(acc, /*init=*/{});
      sums = dotTile(m, mr, n, nr, kVec, k1, 1, sums);
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) {
          ivs[c.m] = add(m, i);
          ivs[c.n] = add(n, j);
          Value old = memref::LoadOp::create(b, loc, out, indices(2));
          if (zeroInit)
            old = arith::SelectOp::create(
                b, loc, firstOfZeroInit(k0),
                bias ? memref::LoadOp::create(b, loc, bias, ValueRange{ivs[c.n]})
                           .getResult()
                     : arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f))
                           .getResult(),
                old);
          sums[i * nr + j] =
              arith::AddFOp::create(b, loc, old, sums[i * nr + j]);
        }
      sums = withEpilogue(sums, k1, m, mr, n, /*width=*/0);
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) {
          ivs[c.m] = add(m, i);
          ivs[c.n] = add(n, j);
          memref::StoreOp::create(b, loc, sums[i * nr + j], out, indices(2));
        }
      return;
    }
    nnTile(m, mr, n, nr, k0, k1);
  }

  /// Dot form: mr x nr accumulators of `width` lanes over k in [k0, k1)
  /// step width; returns the mr*nr sums (added to `init` when given).
  SmallVector<Value> dotTile(Value m, int64_t mr, Value n, int64_t nr, Value k0,
                             Value k1, int64_t width, ArrayRef<Value> init) {
    auto vecType = VectorType::get({width}, b.getF32Type());
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(vecType));
    SmallVector<Value> acc(mr * nr, zero);
    return reduce(dotLoop(m, mr, n, nr, k0, k1, width, 1, acc), init);
  }

  /// The k loop of a dot tile: mr x nr accumulators of `width` lanes over
  /// [k0, k1), `unroll` steps of `width` per trip; returns the accumulators.
  SmallVector<Value> dotLoop(Value m, int64_t mr, Value n, int64_t nr,
                             Value k0, Value k1, int64_t width, int64_t unroll,
                             ArrayRef<Value> acc) {
    auto vecType = VectorType::get({width}, b.getF32Type());
    auto forOp = scf::ForOp::create(
        b, loc, k0, k1, cst(width * unroll), acc,
        [&](OpBuilder &nested, Location, Value k, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          SmallVector<Value> next(iter.begin(), iter.end());
          for (int64_t u = 0; u < unroll; ++u) {
            ivs[c.k] = add(k, u * width);
            // The 3 rows of A stay in registers; each row of B is loaded
            // right before its 3 FMAs, so LLVM keeps 12 + 3 + 1 registers
            // live (loading all 4 rows of B first spills an accumulator).
            SmallVector<Value> rowsA;
            for (int64_t i = 0; i < mr; ++i) {
              ivs[c.m] = add(m, i);
              Value row =
                  vector::LoadOp::create(b, loc, vecType, a, indices(0));
              // The columns the bf16 panels leave use the same numerics.
              rowsA.push_back(bf16Dot ? roundedToBf16(row) : row);
            }
            for (int64_t j = 0; j < nr; ++j) {
              ivs[c.n] = add(n, j);
              Value rowB = loadB(vecType);
              for (int64_t i = 0; i < mr; ++i)
                next[i * nr + j] = vector::FMAOp::create(
                    b, loc, vecType, rowsA[i], rowB, next[i * nr + j]);
            }
          }
          scf::YieldOp::create(b, loc, next);
        });
    return SmallVector<Value>(forOp.getResults());
  }

  /// One horizontal sum per accumulator (added to `init` when given).
  SmallVector<Value> reduce(ArrayRef<Value> accs, ArrayRef<Value> init) {
    SmallVector<Value> sums;
    for (int64_t i = 0; i < (int64_t)accs.size(); ++i) {
      Value acc = accs[i];
      // Partial sums are reassociated anyway (that is the point of the
      // lanes): let LLVM reduce them as a tree.
      sums.push_back(vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD, acc,
          init.empty() ? Value() : init[i], arith::FastMathFlags::reassoc));
    }
    return sums;
  }

  /// nn form: C[m..m+mr, n..n+nr] kept in registers over k in [k0, k1).
  void nnTile(Value m, int64_t mr, Value n, int64_t nr, Value k0, Value k1) {
    int64_t width = nr >= kVector ? kVector : 1;
    int64_t nv = nr / width;
    auto vecType = VectorType::get({width}, b.getF32Type());
    SmallVector<Value> acc = loadTile(m, mr, n, nv, width, k0);
    auto forOp = scf::ForOp::create(
        b, loc, k0, k1, cst(1), acc,
        [&](OpBuilder &nested, Location, Value k, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          ivs[c.k] = k;
          SmallVector<Value> rowsB, next;
          for (int64_t j = 0; j < nv; ++j) {
            ivs[c.n] = add(n, j * width);
            rowsB.push_back(loadB(vecType));
          }
          for (int64_t i = 0; i < mr; ++i) {
            ivs[c.m] = add(m, i);
            Value scalar = memref::LoadOp::create(b, loc, a, indices(0));
            Value splat = vector::BroadcastOp::create(b, loc, vecType, scalar);
            for (int64_t j = 0; j < nv; ++j)
              next.push_back(vector::FMAOp::create(b, loc, vecType, splat,
                                                   rowsB[j], iter[i * nv + j]));
          }
          scf::YieldOp::create(b, loc, next);
        });
    SmallVector<Value> done =
        withEpilogue(SmallVector<Value>(forOp.getResults()), k1, m, mr, n,
                     width);
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nv; ++j) {
        ivs[c.m] = add(m, i);
        ivs[c.n] = add(n, j * width);
        vector::StoreOp::create(b, loc, done[i * nv + j], out, indices(2));
      }
  }

  OpBuilder &b;
  Location loc;
  Contraction c;
  Tiling t;
  SmallVector<Value> ivs, sizes;
  SmallVector<AffineMap> maps;
  Value a, bm, out, pack;
  Value apack; // bf16 pairs of A's rows (bf16Dot)
  Value packBf16, apackBf16; // the same bytes as bf16 (AMX tile loads)
  Value scratch; // AMX: the 16 x 32 sums of one tile over a k block
  bool bf16Dot = false; // the packed form with vdpbf16ps
  Value bias; // kiln.bias_init's bias, else null
  SmallVector<Value> extras; // kiln.epilogue's inputs
  SmallVector<AffineMap> extraMaps;
  Value nextN, nextK; // the block after the one being packed
  bool zeroInit;
};

struct VectorizeContractionsPass
    : impl::VectorizeContractionsPassBase<VectorizeContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if ((lanes != 8 && lanes != 16) || rows < 1 || rows > 16 ||
        kPackM % rows != 0 || (bf16Dot && lanes != 16) ||
        (amx && !bf16Dot)) {
      getOperation().emitError("kiln-cpu-vectorize-contractions: lanes must "
                               "be 8 or 16 (16 with bf16-dot), amx needs "
                               "bf16-dot, and rows divide ")
          << kPackM << " (got lanes=" << lanes.getValue() << ", rows=" << rows.getValue()
          << ")";
      return signalPassFailure();
    }
    SmallVector<Contraction> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Contraction> c = match(op))
        found.push_back(*c);
    });
    for (Contraction &c : found) {
      OpBuilder b(c.op);
      Tiling tiling;
      tiling.lanes = lanes;
      tiling.rows = rows;
      tiling.bf16Dot = bf16Dot;
      tiling.amx = amx;
      Emitter(b, c, tiling).emit();
      c.op.erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
