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
// The packed form's tile is a pass option: the AVX-512 levels use 16 lanes
// and 12x32 tiles in zmm registers; the levels that multiply bf16 run
// narrow-weight linears on bf16 pairs (vdpbf16ps) or AMX tiles, in
// PackedBf16Tiles.cpp. The Emitter (ContractionEmitter.h) holds one
// contraction's state; this file has the matcher, the pass and the f32
// code.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cpu/ContractionEmitter.h"
#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_VECTORIZECONTRACTIONSPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace cpu_contraction {

void Emitter::emit() {
  for (Range range :
       cast<linalg::LinalgOp>(c.op.getOperation()).createLoopRanges(b, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  emitOuter(0);
}

Value Emitter::fullEnd(Value from, Value to, int64_t step) {
  Value len = arith::SubIOp::create(b, loc, to, from);
  Value full = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, len, cst(step)), cst(step));
  return arith::AddIOp::create(b, loc, from, full);
}

SmallVector<Value> Emitter::indices(unsigned operand) {
  return indicesOf(maps[operand]);
}

Value Emitter::loadB(Type type) {
  Type stored = cast<MemRefType>(bm.getType()).getElementType();
  auto vecType = dyn_cast<VectorType>(type);
  Type loadType =
      vecType ? VectorType::get(vecType.getShape(), stored) : stored;
  Value v =
      vecType
          ? vector::LoadOp::create(b, loc, loadType, bm, indices(1)).getResult()
          : memref::LoadOp::create(b, loc, bm, indices(1)).getResult();
  return stored == b.getF32Type()
             ? v
             : arith::ExtFOp::create(b, loc, type, v).getResult();
}

SmallVector<Value> Emitter::indicesOf(AffineMap map) {
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

SmallVector<Value> Emitter::withEpilogue(ArrayRef<Value> accs, Value k1,
                                         Value m, int64_t mr, Value n,
                                         int64_t width) {
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

Value Emitter::epilogueOf(Value acc, int64_t width) {
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

void Emitter::emitOuter(unsigned depth) {
  if (depth == c.outer.size())
    return emitBlocks();
  loop(cst(0), sizes[c.outer[depth]], 1, [&](Value iv) {
    ivs[c.outer[depth]] = iv;
    emitOuter(depth + 1);
  });
}

void Emitter::emitBlocks() {
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

void Emitter::emitPacked() {
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

void Emitter::packTransposed(Value nBase, Value n0, int64_t j, Value k0,
                             Value kk, Value p, Value row,
                             llvm::function_ref<Value()> loadRow) {
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

SmallVector<Value> Emitter::transpose8x8(ArrayRef<Value> rows) {
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

void Emitter::setNextBlock(Value n0, Value k0) {
  Value n = add(n0, kBlockN);
  Value wrap = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, n,
                                     sizes[c.n]);
  nextN = arith::SelectOp::create(b, loc, wrap, cst(0), n);
  nextK = arith::SelectOp::create(b, loc, wrap, add(k0, kPackK), k0);
}

void Emitter::prefetchNextBlock(Value row, Value kk) {
  auto clamp = [&](Value v, Value size) -> Value {
    return arith::MinUIOp::create(b, loc, v,
                                  arith::SubIOp::create(b, loc, size, cst(1)));
  };
  ivs[c.n] = clamp(arith::AddIOp::create(b, loc, nextN, row), sizes[c.n]);
  ivs[c.k] = clamp(arith::AddIOp::create(b, loc, nextK, kk), sizes[c.k]);
  memref::PrefetchOp::create(b, loc, bm, indices(1), /*isWrite=*/false,
                             /*localityHint=*/3, /*isDataCache=*/true);
}

Value Emitter::firstOfZeroInit(Value k0) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k0, cst(0));
}

SmallVector<Value> Emitter::loadTile(Value m, int64_t mr, Value n, int64_t nv,
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

void Emitter::tile(Value m, int64_t mr, Value n, Value p, Value k0, Value kLen,
                   Value mBase) {
  if (bf16Dot && t.amx && mr == kAmxRows)
    return amxTile(m, n, p, k0, kLen, mBase);
  if (bf16Dot)
    return bf16Tile(m, mr, n, p, k0, kLen, mBase);
  packedTile(m, mr, n, p, k0, kLen);
}

void Emitter::packedTile(Value m, int64_t mr, Value n, Value p, Value k0,
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

void Emitter::storeTile(ArrayRef<Value> tile, Value m, int64_t mr, Value n,
                        Value k0, Value kLen) {
  SmallVector<Value> acc = withEpilogue(
      tile, arith::AddIOp::create(b, loc, k0, kLen), m, mr, n, t.lanes);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < kNnVectorsN; ++j) {
      ivs[c.m] = add(m, i);
      ivs[c.n] = add(n, j * t.lanes);
      vector::StoreOp::create(b, loc, acc[i * kNnVectorsN + j], out,
                              indices(2));
    }
}

void Emitter::emitTile(Value m, int64_t mr, Value n, int64_t nr, Value k0,
                       Value k1) {
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

SmallVector<Value> Emitter::dotTile(Value m, int64_t mr, Value n, int64_t nr,
                                    Value k0, Value k1, int64_t width,
                                    ArrayRef<Value> init) {
  auto vecType = VectorType::get({width}, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(vecType));
  SmallVector<Value> acc(mr * nr, zero);
  return reduce(dotLoop(m, mr, n, nr, k0, k1, width, 1, acc), init);
}

SmallVector<Value> Emitter::dotLoop(Value m, int64_t mr, Value n, int64_t nr,
                                    Value k0, Value k1, int64_t width,
                                    int64_t unroll, ArrayRef<Value> acc) {
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

SmallVector<Value> Emitter::reduce(ArrayRef<Value> accs, ArrayRef<Value> init) {
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

void Emitter::nnTile(Value m, int64_t mr, Value n, int64_t nr, Value k0,
                     Value k1) {
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

} // namespace cpu_contraction

namespace {
using namespace cpu_contraction;

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
          << kPackM << " (got lanes=" << lanes.getValue()
          << ", rows=" << rows.getValue() << ")";
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

