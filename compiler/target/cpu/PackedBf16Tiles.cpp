//===- PackedBf16Tiles.cpp - Narrow-weight contractions on bf16 pairs ----===//
//
// kiln-cpu-vectorize-contractions' tiles for a linear whose weight is bf16
// or e4m3 on the levels that multiply bf16 (the `bf16-dot` and `amx`
// options): B's panels and A's rows packed as pairs of bf16 along k, then
// vdpbf16ps register tiles or AMX tdpbf16ps tiles with f32 sums
// (ContractionEmitter.h declares the steps; docs/DECISIONS.md, session 8,
// says why activations are rounded to bf16 there).
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cpu/ContractionEmitter.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

namespace mlir::kiln::cpu_contraction {

Value Emitter::bytesAs(ArrayRef<int64_t> shape, Type element) {
  int64_t bytes = element.getIntOrFloatBitWidth() / 8;
  for (int64_t d : shape)
    bytes *= d;
  Value buffer = memref::AllocaOp::create(
      b, loc, MemRefType::get({bytes}, b.getI8Type()),
      b.getI64IntegerAttr(64));
  return memref::ViewOp::create(b, loc, MemRefType::get(shape, element),
                                buffer, cst(0), ValueRange{});
}

Value Emitter::viewAs(Value view, ArrayRef<int64_t> shape, Type element) {
  Value buffer = view.getDefiningOp<memref::ViewOp>().getSource();
  return memref::ViewOp::create(b, loc, MemRefType::get(shape, element),
                                buffer, cst(0), ValueRange{});
}

Type Emitter::amxTileType(Type element, int64_t cols) {
  return amx::TileType::get({kAmxRows, cols}, element);
}

void Emitter::amxProducts(Value r0, Value p, Value kLen, Value amxPairs) {
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

void Emitter::amxTile(Value m, Value n, Value p, Value k0, Value kLen,
                      Value mBase) {
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

Value Emitter::cstI32(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
}

Value Emitter::bf16BitsOfB(Value x) {
  if (x.getType().isBF16())
    return arith::ExtUIOp::create(
        b, loc, b.getI32Type(),
        arith::BitcastOp::create(b, loc, b.getI16Type(), x));
  Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  return arith::ShRUIOp::create(
      b, loc, arith::BitcastOp::create(b, loc, b.getI32Type(), wide),
      cstI32(16));
}

Value Emitter::i32Like(Type like, int64_t v) {
  auto vecType = dyn_cast<VectorType>(like);
  if (!vecType)
    return cstI32(v);
  auto type = VectorType::get(vecType.getShape(), b.getI32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getI32IntegerAttr(v)));
}

Value Emitter::bf16BitsOfF32(Value x) {
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

Value Emitter::roundedToBf16(Value x) {
  Value bits = bf16BitsOfF32(x);
  return arith::BitcastOp::create(
      b, loc, x.getType(),
      arith::ShLIOp::create(b, loc, bits, i32Like(bits.getType(), 16)));
}

Value Emitter::pairOf(Value lo, Value hi) {
  return arith::OrIOp::create(
      b, loc, lo, arith::ShLIOp::create(b, loc, hi, cstI32(16)));
}

Value Emitter::loadBPairs16() {
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

void Emitter::packPanelBf16(Value p, Value nBase, Value n0, Value k0,
                            Value kLen) {
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

void Emitter::packPairsOneByOne(
    Value from, Value pairs, Value k0, Value kLen,
    llvm::function_ref<Value()> load, Value dest,
    llvm::function_ref<SmallVector<Value>(Value)> at) {
  loop(from, pairs, 1, [&](Value kp) {
    Value k = arith::AddIOp::create(b, loc, k0,
                                    arith::MulIOp::create(b, loc, kp, cst(2)));
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

void Emitter::packRowsBf16(Value mFrom, Value mTo, Value k0, Value kLen) {
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

void Emitter::bf16Tile(Value m, int64_t mr, Value n, Value p, Value k0,
                       Value kLen, Value mBase) {
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
          b, loc, bf16Type,
          vector::BroadcastOp::create(b, loc, pairType, pair));
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

} // namespace mlir::kiln::cpu_contraction
