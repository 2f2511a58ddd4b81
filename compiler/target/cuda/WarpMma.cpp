//===- WarpMma.cpp - Warp-level tensor-core building blocks ---------------===//

#include "compiler/target/cuda/WarpMma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::kiln {

std::pair<Value, Value> emitGridThreads(OpBuilder &b, Location loc) {
  Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value blockSize = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  Value gridSize = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
  Value start = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, block, blockSize), thread);
  return {start, arith::MulIOp::create(b, loc, gridSize, blockSize)};
}

WarpPosition emitWarpPosition(OpBuilder &b, Location loc) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  WarpPosition position;
  position.thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  position.warp = divIndex(b, loc, position.thread, index(kWarpSize));
  Value lane = remIndex(b, loc, position.thread, index(kWarpSize));
  position.group = divIndex(b, loc, lane, index(4));
  position.inGroup = remIndex(b, loc, lane, index(4));
  return position;
}

template <typename OpTy>
static Value inI32(OpBuilder &b, Location loc, Value x, Value y) {
  Type i32 = b.getI32Type();
  Value result =
      OpTy::create(b, loc, arith::IndexCastUIOp::create(b, loc, i32, x),
                   arith::IndexCastUIOp::create(b, loc, i32, y));
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), result);
}

Value divIndex(OpBuilder &b, Location loc, Value x, Value y) {
  return inI32<arith::DivUIOp>(b, loc, x, y);
}

Value remIndex(OpBuilder &b, Location loc, Value x, Value y) {
  return inI32<arith::RemUIOp>(b, loc, x, y);
}

Value toBf16(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isBF16())
    return value;
  return arith::TruncFOp::create(b, loc, b.getBF16Type(), value);
}

Value packBf16(OpBuilder &b, Location loc, Value low, Value high) {
  auto widen = [&](Value half) {
    Value bits = arith::BitcastOp::create(b, loc, b.getI16Type(), half);
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), bits);
  };
  Value shift = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(16));
  return arith::OrIOp::create(
      b, loc, widen(low), arith::ShLIOp::create(b, loc, widen(high), shift));
}

scf::ForOp emitBlockTileLoop(OpBuilder &b, Location loc, Value tiles) {
  Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value grid = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
  return scf::ForOp::create(b, loc, block, tiles, grid);
}

scf::ForOp emitCarriedLoop(
    OpBuilder &b, Location loc, Value lb, Value ub, Value step,
    ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value iv, ValueRange carried)> body) {
  return scf::ForOp::create(
      b, loc, lb, ub, step, init,
      [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.restoreInsertionPoint(nested.saveInsertionPoint());
        scf::YieldOp::create(b, loc, body(iv, carried));
      });
}

SmallVector<Value> emitMmaBf16(OpBuilder &b, Location loc, ValueRange a,
                               ValueRange bFrag, ValueRange c) {
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(kAccsPerMma, b.getF32Type()));
  Value d = NVVM::MmaOp::create(
      b, loc, resultType, a, bFrag, c, {kMmaM, kMmaN, kMmaK}, std::nullopt,
      std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> results;
  for (int64_t r = 0; r < kAccsPerMma; ++r)
    results.push_back(LLVM::ExtractValueOp::create(b, loc, d, r));
  return results;
}

} // namespace mlir::kiln
