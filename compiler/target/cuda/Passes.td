//===- Passes.td - The CUDA target -------------------------*- tablegen -*-===//

#ifndef KILN_COMPILER_TARGET_CUDA_PASSES_TD
#define KILN_COMPILER_TARGET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def DistributeToThreadsPass
    : Pass<"kiln-cuda-distribute-to-threads", "mlir::ModuleOp"> {
  let summary = "Each linalg op of a kernel as a grid-stride loop over its "
                "output elements";
  let description = [{
    Rewrites every linalg op on memrefs in a `kiln.dispatch` function into a
    loop over the elements of its output that GPU threads share: thread
    `block_id.x * block_dim.x + thread_id.x` takes the output elements
    `tid, tid + grid_dim.x * block_dim.x, ...` in row-major order, computes
    the op's parallel loop indices from the element's coordinates, and runs
    the reduction loops (if any) itself with the output element carried in
    registers, storing it once. Any grid size covers the whole output, so the
    runtime chooses the grid.

    The ownership of an output element depends only on its coordinates, so
    several ops of one kernel that write the same buffer (the fill, the
    contraction and the epilogue that kiln-cpu-materialize-zero-init makes
    of a fused contraction) see each other's writes in program order, from
    the same thread, without a grid barrier. Such ops must write the same
    memref; the pass fails otherwise.

    ```mlir
    // Before: one matmul.
    linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>)
                  outs(%c : memref<?x32xf32>)
    // After: c[i, j] per element, k in registers.
    scf.for %e = %tid to %count step %stride {
      %i, %j = (%e floordiv 32, %e mod 32)
      %init = memref.load %c[%i, %j]
      %sum = scf.for %k = 0 to 64 iter_args(%acc = %init) -> f32 {...}
      memref.store %sum, %c[%i, %j]
    }
    ```
  }];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect"];
}

def TileContractionsPass
    : Pass<"kiln-cuda-tile-contractions", "mlir::ModuleOp"> {
  let summary = "Contractions on tensor cores: block tiles staged in shared "
                "memory, mma.sync m16n8k16 (bf16 inputs, f32 accumulation)";
  let description = [{
    Rewrites a `kiln.dispatch` kernel made of one contraction (one n and one
    k loop, any number of m and batch loops; inputs f32 or bf16, output
    f32; a body that multiplies and accumulates, widening bf16) and, around
    it, elementwise ops that write the contraction's output in place (the
    zero or bias start and the epilogue kiln-cpu-materialize-zero-init puts
    back) into block tiles on tensor cores. Kernels of any other form are
    left to kiln-cuda-distribute-to-threads.

    Block `g` of the grid takes the 128x128 output tiles `g, g + blocks,
    ...` (batch-major, then m, then n; the m loops flattened). Per stage of
    32 k, its 256 threads hold the tile's A and B rows (two threads per
    row, f32 rounded to bf16 to nearest even, zero past the last k) as
    bf16 pairs in registers, store them in two workgroup buffers
    (`memref.alloca` in `#gpu.address_space<workgroup>`, which
    kiln-cuda-outline-kernels makes the kernel's shared memory) and meet
    at a barrier; then they load the next stage's pairs into registers
    (in flight while the warps multiply), each of the 8 warps reads its A
    and B fragments from shared memory (PTX's mma.sync layouts,
    compiler/target/cuda/WarpMma.h) and multiplies its 64x32 part with
    4x4 mma.sync, and the block meets again before the next stage. The
    elementwise ops run on the elements of each lane's accumulator
    fragments: the ones before the contraction where the lane loads its
    start, the ones after it where it stores the result, so ownership stays
    per element. Rows and columns past the output are computed from the
    last row and column and not stored. The grid may have any size (the
    runtime sizes it by output elements, at least a block per tile).

    ```mlir
    // Before: a linear with a bias start and a GELU epilogue, as three ops.
    linalg.generic {bias broadcast} ins(%bias) outs(%c)
    linalg.generic {c[m, n] += a[m, k] * w[n, k]} ins(%a, %w) outs(%c)
    linalg.generic {gelu in place} outs(%c)
    // After (schematically):
    %stage_a = memref.alloca() : memref<128x20xi32, #gpu.address_space<workgroup>>
    scf.for %tile = %block to %tiles step %grid {
      %c0 ... %c63 = (bias broadcast; load c) at the lane's 64 elements
      %words:16 = (8 bf16 pairs of the thread's A and B rows at k = 0)
      %acc:80 = scf.for %k = 0 to %K step 32 iter_args(...) {
        store the 16 words; gpu.barrier
        %next:16 = (the pairs at k + 32)
        nvvm.mma.sync A[...] B[...] C[...] {shape = m16n8k16, bf16} x 32
        gpu.barrier
      }
      (store c; gelu in place) at the lane's 64 elements, inside the edge
    }
    ```
  }];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::math::MathDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::scf::SCFDialect"];
}

def TileAttentionPass : Pass<"kiln-cuda-tile-attention", "mlir::ModuleOp"> {
  let summary = "kiln.flash_attention on tensor cores, FlashAttention-2's "
                "warp form";
  let description = [{
    Rewrites each `kiln.flash_attention` (memref form) of a `kiln.dispatch`
    kernel whose head size is a static multiple of 16 (at most 256) and
    whose value size is a static multiple of 8 (at most 128), with f32 or
    bf16 inputs and an f32 output, into warp tiles: warp `w` takes the
    (batch, head, 16-query block) tiles `w, w + warps, ...`; each lane keeps
    its Q fragments, a running maximum and sum for its two rows, and its O
    accumulators in registers; per 16 keys, S = Q K^T is two mma.sync
    m16n8k16 chains over the head, the online softmax runs on S's fragment
    (maximum and sum across the 4 lanes of a row by gpu.shuffle xor), and
    O = O * alpha + P V takes P's fragment, rounded to bf16, as the A
    operand. Scores are scaled, masked (the mask's size-1 dimensions
    broadcast) and -inf past the last key or, when causal, after the query.
    Other attentions are left to kiln-cuda-distribute-to-threads.

    ```mlir
    // Before:
    kiln.flash_attention ins(%q, %k, %v : ...) outs(%o : memref<1x?x2x16xf32>) {scale = 0.25 : f64}
    // After (schematically):
    scf.for %tile = %warp to %tiles step %warps {
      %qfrag = Q[rows, :] as bf16 A fragments
      %state:12 = scf.for %k0 = 0 to %keys step 16 iter_args(-inf, -inf, 0, 0, 0...) {
        %s = nvvm.mma.sync(Q, K^T) x 2 ; scale, mask, online softmax
        %o = nvvm.mma.sync(P, V) x (value size / 8)
      }
      O / sum stored for the rows inside the output
    }
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::scf::SCFDialect"];
}

def OutlineGpuKernelsPass
    : Pass<"kiln-cuda-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Moves the kiln.dispatch functions into a gpu.module as "
                "kernels";
  let description = [{
    Each `kiln.dispatch` `func.func` becomes a `gpu.func ... kernel` of the
    same signature in `gpu.module @kiln_cuda_kernels`, named like the CPU
    target's exported symbol (`kiln_kernel_<name>`), with the block size
    the runtime launches it with (`known_block_size`); every other function
    is erased. The runtime passes each memref argument as its descriptor's
    words, one kernel parameter per word (runtime/hal/kernel_abi.h), which
    is how convert-gpu-to-nvvm expands memref arguments of kernels. A
    `memref.alloca` in `#gpu.address_space<workgroup>` becomes a workgroup
    attribution of the kernel: memory its block shares.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block the kernels are launched with">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

#endif // KILN_COMPILER_TARGET_CUDA_PASSES_TD
