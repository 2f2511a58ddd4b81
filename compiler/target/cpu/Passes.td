//===- Passes.td - The CPU target --------------------------*- tablegen -*-===//

#ifndef KILN_COMPILER_TARGET_CPU_PASSES_TD
#define KILN_COMPILER_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def EmitCpuKernelAbiPass : Pass<"kiln-emit-cpu-kernel-abi", "mlir::ModuleOp"> {
  let summary = "Exports each kernel with the runtime's CPU kernel ABI";
  let description = [{
    Runs on LLVM-dialect IR whose `kiln.dispatch` functions were lowered
    with `llvm.emit_c_interface`. For each, adds the exported function
    `kiln_kernel_<name>(ptr bindings, i64 workgroup_id, i64 workgroup_count)`
    (runtime/hal/kernel_abi.h): it loads the i-th descriptor pointer from
    `bindings[i]` and calls `_mlir_ciface_<name>` with them and the two
    workgroup values. Those wrappers are the symbols the artifact names.

    ```mlir
    llvm.func @kiln_kernel_f__dispatch_0(%bindings: !llvm.ptr, %id: i64, %count: i64) {
      %p0 = llvm.getelementptr %bindings[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %d0 = llvm.load %p0 : !llvm.ptr -> !llvm.ptr
      llvm.call @_mlir_ciface_f__dispatch_0(%d0, %id, %count) : (!llvm.ptr, i64, i64) -> ()
      llvm.return
    }
    ```
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def VectorizeContractionsPass
    : Pass<"kiln-cpu-vectorize-contractions", "mlir::ModuleOp"> {
  let summary = "Register-tiled vector<8xf32> code for f32 linalg contractions";
  let description = [{
    Rewrites every f32 `linalg.generic` contraction on memrefs (mulf + addf
    body, one reduction loop, projected-permutation maps) into k- and
    n-blocked `scf.for` loops around a register tile of `vector.fma`s:

    - both inputs contiguous along k (`x @ W^T`, `Q @ K^T`): a 3x4 tile of
      vector<8xf32> partial sums, reduced (`vector.reduction <add>`) once
      per k block of 512 and added to C;
    - B and C contiguous along n (`P @ V`): a 6x16 tile of C held in 12
      vector<8xf32> registers, updated with broadcasts of A.

    Tiles at the edges shrink (down to 1x1 and vector<1xf32>), so any shape
    works. Other ops are left as they are. Run before
    `convert-linalg-to-loops`; the output needs `convert-vector-to-llvm`.

    `lanes` and `rows` set the packed form's register tile: `rows` x
    2 vectors of `lanes` f32 (the defaults, 6 x 2 x 8, fill 12 of AVX2's 16
    ymm registers; AVX-512 targets use 16 lanes, zmm registers). With
    `bf16-dot`, a packed contraction whose weight B is bf16 or e4m3 packs B
    and A as pairs of bf16 along k and accumulates with
    `x86vector.avx512.dot` (vdpbf16ps): activations are rounded to bf16
    (nearest even), products and sums stay f32.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"8",
           "f32 lanes per vector of the packed micro-kernel (8 or 16)">,
    Option<"rows", "rows", "int64_t", /*default=*/"6",
           "rows of C per register tile of the packed form (a divisor of 96 up to 12)">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"false",
           "contractions with bf16 or e4m3 weights (the dot layout) on "
           "vdpbf16ps (AVX-512-BF16): A rounded to bf16, f32 sums; needs "
           "lanes=16">,
    Option<"amx", "amx", "bool", /*default=*/"false",
           "with bf16-dot: 16-row tiles of those contractions on AMX "
           "(tdpbf16ps, 16x32 bf16 by 32x16 bf16 into 16x16 f32 tiles)">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::x86vector::X86VectorDialect",
                           "mlir::amx::AMXDialect"];
}

def VectorizeAttentionPass
    : Pass<"kiln-cpu-vectorize-attention", "mlir::ModuleOp"> {
  let summary = "kiln.flash_attention as a register-tiled vector<8xf32> kernel";
  let description = [{
    Rewrites every `kiln.flash_attention` on memrefs into FlashAttention's
    loops: per (batch, head), blocks of 192 query rows; per block, the keys in
    blocks of 64, each copied transposed into a stack panel; per tile of 6
    query rows, the 6x64 scores from 6x16 register tiles of `vector.fma`,
    the online softmax over them (a running maximum and sum per row), and
    the output rows rescaled and updated with the probabilities times the
    values, 6x16 outputs in registers. No buffer larger than the panel and
    a few rows of 192 exists, so the memory is linear in the tokens. Ops whose
    operands are not contiguous along their last dimension become scalar
    loops (the reference form, compiler/dispatch/FlashAttentionLoops.h).
    `lanes=16` (AVX-512) makes the vectors zmm and the register tiles 6
    rows x 32 keys (scores) or 32 value columns (outputs).
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"8",
           "f32 lanes per vector (8 or 16)">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def ExpandFp8Pass : Pass<"kiln-expand-fp8", "mlir::ModuleOp"> {
  let summary = "arith.extf from f8E4M3FN as integer operations";
  let description = [{
    LLVM has no FP8 type, and MLIR's lowering to LLVM has no pattern for
    `arith.extf` from `f8E4M3FN` (FP8 weights, kiln-quantize-fp8). Each
    such extf, scalar or vector, becomes the conversion's bit operations:
    normals `sign << 24 | (exponent + 120) << 23 | mantissa << 20`,
    subnormals `mantissa * 2^-9` with the sign, S.1111.111 a quiet NaN.
    Run before the lowering to LLVM (CPU and CUDA kernels, the JIT host).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def MaterializeZeroInitPass
    : Pass<"kiln-cpu-materialize-zero-init", "mlir::ModuleOp"> {
  let summary = "Fills the outputs of kiln.zero_init ops the vectorizer left alone";
  let description = [{
    Runs on the kernels after kiln-cpu-vectorize-contractions. A linalg op
    still marked `kiln.zero_init` (see kiln-fold-zero-fill) gets a
    `linalg.fill` of zero of its output right before it, and loses the
    mark, so lowering it as plain loops stays correct.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect"];
}

def ApproximateMathPass : Pass<"kiln-cpu-approximate-math", "mlir::ModuleOp"> {
  let summary = "Polynomial approximations of math.exp, math.tanh and math.erf";
  let description = [{
    Rewrites f32 `math.exp`, `math.tanh` and `math.erf` into upstream's
    polynomial approximations (arith ops), so that the loops around them
    vectorize instead of calling libm once per element. Other math ops
    (sin, cos, rsqrt, ...) are left as they are.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def ReassociateReductionsPass
    : Pass<"kiln-cpu-reassociate-reductions", "mlir::ModuleOp"> {
  let summary = "Marks the arith ops of linalg reductions fastmath<reassoc>";
  let description = [{
    Adds `reassoc` to the fast-math flags of every arith op in the body of
    a `linalg.generic` with a reduction loop, so that LLVM's loop vectorizer
    may sum (or take the maximum) in vector lanes once the op is lowered to
    loops. Run after kiln-cpu-vectorize-contractions, before
    convert-linalg-to-loops.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

#endif // KILN_COMPILER_TARGET_CPU_PASSES_TD
