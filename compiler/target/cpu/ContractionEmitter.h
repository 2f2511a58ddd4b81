//===- ContractionEmitter.h - The contraction vectorizer's emitter -*- C++
//-*-===//
//
// The state and the steps of kiln-cpu-vectorize-contractions' code
// generation for one contraction (VectorizeContractions.cpp describes the
// forms and the loop nests). Its f32 register tiles are defined in
// VectorizeContractions.cpp, the bf16-pair and AMX tiles of narrow weights
// in PackedBf16Tiles.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CPU_CONTRACTIONEMITTER_H
#define KILN_COMPILER_TARGET_CPU_CONTRACTIONEMITTER_H

#include "compiler/dispatch/Attributes.h"
#include "compiler/dispatch/ContractionLike.h"
#include "compiler/target/cpu/LoopEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln::cpu_contraction {

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

/// A contraction the pass rewrites, and how (match in
/// VectorizeContractions.cpp).
struct Contraction {
  linalg::GenericOp op;
  ContractionBody body;
  unsigned m, n, k;
  bool dot; // else the nn form
  bool packed = false; // C contiguous along n: B packed into panels
  SmallVector<unsigned> outer; // every other loop, outermost first
};

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

  void emit();

private:
  Value cst(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, cst(v)).getResult();
  }
  /// x rounded down to a multiple of `step` past `from`.
  Value fullEnd(Value from, Value to, int64_t step);
  SmallVector<Value> indices(unsigned operand);
  /// B at the current ivs as `type` (f32 or a vector of f32 along B's
  /// contiguous dim): a bf16 or e4m3 B is loaded as stored and widened
  /// (arith.extf; kiln-expand-fp8 expands e4m3's), so the packed panels and
  /// the tiles stay f32.
  Value loadB(Type type);
  SmallVector<Value> indicesOf(AffineMap map);

  /// `accs` (row i of the tile at m + i, column vector j at n + j * width,
  /// i-major; width 0: scalars) with the epilogue applied when the k block
  /// ending at `k1` is the last one, else as they are. Without an epilogue,
  /// `accs`.
  SmallVector<Value> withEpilogue(ArrayRef<Value> accs, Value k1, Value m,
                                  int64_t mr, Value n, int64_t width);

  /// The epilogue for one accumulator at the current ivs: scalars (width 0)
  /// or vectors of `width` along n, the extra inputs loaded there
  /// (broadcast when not indexed by n).
  Value epilogueOf(Value acc, int64_t width);

  template <typename Body>
  void loop(Value lb, Value ub, int64_t step, Body body) {
    emitLoop(b, loc, lb, ub, step, body);
  }

  void emitOuter(unsigned depth);

  /// Unpacked dot form (C not contiguous along n): k blocks, then n
  /// blocks, then m blocks with the n tiles outside the m tiles; the rows
  /// left over by the m tiles last, one at a time.
  void emitBlocks();

  /// Packed form: k blocks of kPackK, n blocks of kBlockN; each (k, n)
  /// block of B is copied into `pack` [kBlockN/16][kPackK][16], then 6x16
  /// tiles of C are accumulated with broadcasts of A (see the file comment
  /// for the loop order); columns past the last whole panel use 1x1 tiles
  /// of the unpacked code.
  void emitPacked();

  /// pack[p][row + c][j + i] = element c of `loadRow()` at B[nBase + j +
  /// i][k0 + kk] for i, c < 8 (8 f32 of k, or 8 bf16 pairs): 8 rows of B
  /// loaded as vectors along k and transposed with the unpack / shuffle /
  /// lane-swap sequence (24 shuffles instead of 64 scalar loads and stores
  /// with a 64-byte stride).
  void packTransposed(Value nBase, Value n0, int64_t j, Value k0, Value kk,
                      Value p, Value row, llvm::function_ref<Value()> loadRow);

  /// The columns of 8 vectors of 8 elements (any 32-bit type): result[c]
  /// holds element c of each row, with the unpack / shuffle / lane-swap
  /// sequence (24 shuffles instead of 64 scalar loads and stores).
  SmallVector<Value> transpose8x8(ArrayRef<Value> rows);

  /// The block of B packed after the one at (n0, k0): the next n block,
  /// or the first n block of the next k block after the last. Computed once
  /// per block for prefetchNextBlock.
  void setNextBlock(Value n0, Value k0);

  /// Prefetches B[nextN + row][nextK + kk] (dot form) or
  /// B[nextK + kk][nextN + row] (nn form), clamped into B, while the packing
  /// copies the same place of the current block: B's rows are kilobytes
  /// apart, too many streams for the hardware prefetcher, so the packing
  /// would wait on DRAM for its lines (measured: `proj_out` -15 % in one
  /// run, others within the noise; the M = 1 GEMVs, already at DRAM
  /// bandwidth, unchanged).
  void prefetchNextBlock(Value row, Value kk);

  /// Whether k0 starts the first k block of a kiln.zero_init contraction,
  /// whose output holds no zeros to start from (kiln-fold-zero-fill).
  Value firstOfZeroInit(Value k0);

  /// The C tile [m..m+mr, n..n+nv*width) as mr x nv vectors of `width`,
  /// row by row: the accumulators a register tile starts from (in the first
  /// k block of a zero-init contraction zeros, of a bias-init one the bias,
  /// nv loads shared by the rows, without reading C).
  SmallVector<Value> loadTile(Value m, int64_t mr, Value n, int64_t nv,
                              int64_t width, Value k0);

  /// One packed register tile of rows [m, m + mr): the f32 FMA kernel, or
  /// the bf16 pairs' (its A rows packed from `mBase` by packRowsBf16):
  /// AMX tiles for whole 16-row tiles where the level has them, else
  /// vdpbf16ps.
  void tile(Value m, int64_t mr, Value n, Value p, Value k0, Value kLen,
            Value mBase);

  /// A 64-byte aligned stack buffer of `shape` elements of `element`, as a
  /// memref.view of bytes (so other views may alias it).
  Value bytesAs(ArrayRef<int64_t> shape, Type element);
  /// The bytes under `view` (a bytesAs result) as `shape` of `element`.
  Value viewAs(Value view, ArrayRef<int64_t> shape, Type element);

  // --- AMX (the `amx` option) ------------------------------------------
  //
  // tdpbf16ps multiplies a 16 x 32 bf16 tile of A by a 32 x 16 one of B
  // (16 rows of pairs, the panels' layout) into a 16 x 16 f32 tile. A
  // 16-row register tile of the packed form is two of them side by side
  // (32 columns, one panel): per 32 values of k, one tile load of A's
  // pairs, two of the panel and two tdpbf16ps. The sums over the k block
  // go to a 16 x 32 scratch buffer; the vector code then adds them to the
  // tile's start (zeros, bias or C), applies the epilogue and stores.

  Type amxTileType(Type element, int64_t cols);

  /// scratch = sum over the first `amxPairs` pairs of k of A's rows
  /// [r0, r0 + 16) times panel p: a straight line of tile ops for a whole
  /// k block (the accumulator tiles never cross a block boundary, which
  /// LLVM's AMX lowering needs), else a loop through the scratch.
  void amxProducts(Value r0, Value p, Value kLen, Value amxPairs);

  /// C[m..m+16, n..n+32] over the k block: AMX for the pairs of k in whole
  /// groups of 16, then per row the start, the scratch row, vdpbf16ps for
  /// the pairs left, the epilogue and the store.
  void amxTile(Value m, Value n, Value p, Value k0, Value kLen, Value mBase);

  // --- bf16 pairs (the `bf16-dot` option) -------------------------------
  //
  // vdpbf16ps multiplies pairs of bf16 and adds both products to an f32
  // lane: acc[j] += a[2j] b[2j] + a[2j+1] b[2j+1]. Both operands are
  // packed as pairs of consecutive k values in one i32 (the lower k in the
  // low half, as they lie in memory): B's panels [p][k/2][32 columns] once
  // per block, A's rows [row][k/2] once per m block and k block (rounded
  // to nearest even), so a tile step is 2 loads of the panel, one 32-bit
  // broadcast of A per row and 2 dots per row, for 2 k values.

  Value cstI32(int64_t v);

  /// A narrow element of B (bf16 or e4m3, scalar) as bf16 bits in the low
  /// half of an i32: e4m3 values are exact in bf16, the top half of their
  /// f32 widening.
  Value bf16BitsOfB(Value x);

  /// i32 `v`, or a vector of it shaped like `like`.
  Value i32Like(Type like, int64_t v);

  /// f32 `x` (scalar or vector) as bf16 bits in the low half of i32s,
  /// rounded to nearest even as vcvtneps2bf16 rounds (NaN stays a quiet
  /// NaN).
  Value bf16BitsOfF32(Value x);

  /// f32 `x` (scalar or vector) rounded to the nearest bf16, as f32.
  Value roundedToBf16(Value x);

  Value pairOf(Value lo, Value hi);

  /// B's 16 values along k at the ivs as 8 pairs (vector<8xi32>).
  Value loadBPairs16();

  /// pack[p][kp][j] = B[nBase + j][k0 + 2 kp, + 1] as a bf16 pair, for kp
  /// < ceil(kLen / 2) (the pair past an odd kLen's last k padded with 0):
  /// 8 pairs x 8 columns at a time with transpose8x8, the pairs past the
  /// last multiple of 8 one by one.
  void packPanelBf16(Value p, Value nBase, Value n0, Value k0, Value kLen);

  /// dest[at(kp)] = the pair of the values `load` gives at k = k0 + 2 kp
  /// and k0 + 2 kp + 1 (ivs[c.k] set before each call; as bf16 bits in the
  /// low halves), for kp in [from, pairs); then, when kLen is odd, the last
  /// value paired with 0 at kp = pairs.
  void packPairsOneByOne(Value from, Value pairs, Value k0, Value kLen,
                         llvm::function_ref<Value()> load, Value dest,
                         llvm::function_ref<SmallVector<Value>(Value)> at);

  /// apack[m - mFrom][kp] = A[m][k0 + 2 kp, + 1] rounded to a bf16 pair,
  /// for m in [mFrom, mTo) (at most kPackM rows), kp < ceil(kLen / 2).
  void packRowsBf16(Value mFrom, Value mTo, Value k0, Value kLen);

  /// C[m..m+mr, n..n+32] += A * B over the k block with vdpbf16ps: per pair
  /// of k, 2 loads of the panel, mr 32-bit broadcasts from apack (rows
  /// from m - mBase) and 2 mr dots; pairs unrolled by 2.
  void bf16Tile(Value m, int64_t mr, Value n, Value p, Value k0, Value kLen,
                Value mBase);

  /// C[m..m+mr, n..n+16] += A[m..m+mr, k0..k0+kLen] * pack[p] in registers:
  /// k unrolled by kPackUnrollK (the loop's increment, compare and branch
  /// then cost 3 instructions per 48 FMAs, not per 12; +4 % for the kernel
  /// on data in cache), then the k values left one at a time.
  void packedTile(Value m, int64_t mr, Value n, Value p, Value k0,
                  Value kLen);

  /// A packed tile's accumulators, with the epilogue when [k0, k0 + kLen)
  /// is the last k block, stored to C[m..m+mr, n..n+panel).
  void storeTile(ArrayRef<Value> tile, Value m, int64_t mr, Value n, Value k0,
                 Value kLen);

  void emitTile(Value m, int64_t mr, Value n, int64_t nr, Value k0, Value k1);

  /// Dot form: mr x nr accumulators of `width` lanes over k in [k0, k1)
  /// step width; returns the mr*nr sums (added to `init` when given).
  SmallVector<Value> dotTile(Value m, int64_t mr, Value n, int64_t nr, Value k0,
                             Value k1, int64_t width, ArrayRef<Value> init);

  /// The k loop of a dot tile: mr x nr accumulators of `width` lanes over
  /// [k0, k1), `unroll` steps of `width` per trip; returns the accumulators.
  SmallVector<Value> dotLoop(Value m, int64_t mr, Value n, int64_t nr,
                             Value k0, Value k1, int64_t width, int64_t unroll,
                             ArrayRef<Value> acc);

  /// One horizontal sum per accumulator (added to `init` when given).
  SmallVector<Value> reduce(ArrayRef<Value> accs, ArrayRef<Value> init);

  /// nn form: C[m..m+mr, n..n+nr] kept in registers over k in [k0, k1).
  void nnTile(Value m, int64_t mr, Value n, int64_t nr, Value k0, Value k1);

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

} // namespace mlir::kiln::cpu_contraction

#endif // KILN_COMPILER_TARGET_CPU_CONTRACTIONEMITTER_H
