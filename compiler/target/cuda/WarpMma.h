//===- WarpMma.h - Warp-level tensor-core building blocks --------*- C++ -*-===//
//
// What the CUDA target's tensor-core kernels (kiln-cuda-tile-contractions,
// kiln-cuda-tile-attention) share: a thread's warp and lane, the mma.sync
// m16n8k16 bf16 instruction, and bf16 pairs packed into its registers.
//
// Fragment layouts of mma.m16n8k16 with .bf16 inputs (PTX ISA, "Matrix
// Fragments for mma.m16n8k16 with floating point type"), with
// group = lane / 4 and inGroup = lane % 4:
//   A (16x16, row): register q holds (row group + 8 * (q % 2),
//                   cols 2 * inGroup + 8 * (q / 2) + {0, 1})
//   B (16x8, col):  register q holds (rows 2 * inGroup + 8 * q + {0, 1},
//                   col group)
//   C (16x8, f32):  element r is (row group + 8 * (r / 2),
//                   col 2 * inGroup + r % 2)
// each register packing its two bf16 values with the lower column (A) or
// row (B) in the low 16 bits. A C fragment pair (16 x 16) holds exactly the
// values an A fragment needs for the same 16 x 16 block, which is how
// attention's probabilities feed the second product without a shuffle.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CUDA_WARPMMA_H
#define KILN_COMPILER_TARGET_CUDA_WARPMMA_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {

constexpr int64_t kWarpSize = 32;
// One mma.sync.m16n8k16 and its accumulators per lane.
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 16;
constexpr int64_t kAccsPerMma = 4;

/// A thread's place in its block, along x.
struct WarpPosition {
  Value thread;   // in the block
  Value warp;     // in the block
  Value group;    // lane / 4: a fragment's row (A, C) or column (B)
  Value inGroup;  // lane % 4: a fragment's column pair (A, C) or row pair (B)
};

/// The calling thread's index in the grid and the grid's thread count,
/// along x.
std::pair<Value, Value> emitGridThreads(OpBuilder &b, Location loc);

/// The calling thread's place in its block (blocks are whole warps).
WarpPosition emitWarpPosition(OpBuilder &b, Location loc);

/// The loop over `tiles` that blocks take grid-stride (block id, block id
/// + grid size, ...): uniform in a block, as the barriers inside need.
scf::ForOp emitBlockTileLoop(OpBuilder &b, Location loc, Value tiles);

/// An scf.for from `lb` to `ub` by `step` carrying `init`, whose body
/// `body` emits with `b` (the kernels' emitters keep one builder) and
/// returns the values to carry on.
scf::ForOp emitCarriedLoop(
    OpBuilder &b, Location loc, Value lb, Value ub, Value step,
    ValueRange init,
    llvm::function_ref<SmallVector<Value>(Value iv, ValueRange carried)> body);

/// Unsigned division and remainder of indices in 32 bits: a 64-bit one is
/// a long instruction sequence on the GPU (and made ptxas spill). The
/// kernels divide tile numbers and flattened rows, which stay below 2^32
/// for any tensor a GPU holds.
Value divIndex(OpBuilder &b, Location loc, Value x, Value y);
Value remIndex(OpBuilder &b, Location loc, Value x, Value y);

/// `value` (f32 or bf16) as bf16, rounded to nearest even.
Value toBf16(OpBuilder &b, Location loc, Value value);

/// Two bf16 values in one 32-bit register, `low` in the low half.
Value packBf16(OpBuilder &b, Location loc, Value low, Value high);

/// d = a * b + c on the tensor cores: `a` the 4 and `b` the 2 packed
/// registers of the lane's fragments, `c` its 4 f32 accumulators; returns
/// the 4 of d.
SmallVector<Value> emitMmaBf16(OpBuilder &b, Location loc, ValueRange a,
                               ValueRange bFrag, ValueRange c);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CUDA_WARPMMA_H
