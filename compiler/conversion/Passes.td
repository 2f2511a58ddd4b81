//===- Passes.td - Conversions between levels --------------*- tablegen -*-===//

#ifndef KILN_COMPILER_CONVERSION_PASSES_TD
#define KILN_COMPILER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerKilnToLinalgPass : Pass<"kiln-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lowers kiln ops to linalg/tensor/arith/math (the reference semantics)";
  let description = [{
    Rewrites every kiln op except `kiln.weight` into linalg.generic (and a
    few tensor ops) on tensors, following diffusers/transformers numerics:
    two-pass norms, a max-subtracted softmax, RoPE tables in float64. This is
    the meaning later optimizing lowerings are checked against; it is not
    fast. `kiln.weight` stays (see `kiln-promote-weights-to-arguments`).

    Before:
    ```mlir
    %y = kiln.silu %x : tensor<?x64xf32>
    ```
    After:
    ```mlir
    %y = linalg.generic {...} ins(%x : tensor<?x64xf32>) outs(%e : tensor<?x64xf32>) {
      ^bb0(%in: f32, %out: f32):  // x / (1 + exp(-x))
    } -> tensor<?x64xf32>
    ```
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect"
  ];
}

#endif // KILN_COMPILER_CONVERSION_PASSES_TD
