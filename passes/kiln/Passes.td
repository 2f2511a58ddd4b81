//===- Passes.td - Passes on the kiln dialect -------------*- tablegen -*-===//
//
// One pass per file (<VerbNoun>.cpp). Adding a fusion pass: declare it here,
// write passes/kiln/<VerbNoun>.cpp with GEN_PASS_DEF_<NAME>, add the file to
// CMakeLists.txt and a lit test under test/passes/kiln/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_KILN_PASSES_TD
#define KILN_PASSES_KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def RefineShapesPass : Pass<"kiln-refine-shapes", "mlir::ModuleOp"> {
  let summary = "Tightens kiln result types to what inference proves";
  let description = [{
    Re-runs result-type inference on every kiln op, in program order, and
    replaces a declared result type by the inferred one wherever the inferred
    one knows more static dimensions. Users outside the kiln dialect keep the
    type they had through a `tensor.cast`, so function signatures stay valid.
    Run it after specializing a dynamic function to concrete sizes.

    Before:
    ```mlir
    func.func @f(%x: tensor<1x24x64xf32>, %w: tensor<128x64xf32>) -> tensor<1x?x128xf32> {
      %y = kiln.linear %x, %w : (tensor<1x24x64xf32>, tensor<128x64xf32>) -> tensor<1x?x128xf32>
      return %y : tensor<1x?x128xf32>
    }
    ```
    After:
    ```mlir
      %y = kiln.linear %x, %w : (tensor<1x24x64xf32>, tensor<128x64xf32>) -> tensor<1x24x128xf32>
      %c = tensor.cast %y : tensor<1x24x128xf32> to tensor<1x?x128xf32>
      return %c : tensor<1x?x128xf32>
    ```
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def FuseLinearBiasPass : Pass<"kiln-fuse-linear-bias", "mlir::ModuleOp"> {
  let summary = "Folds a bias add after a bias-free linear into the linear";
  let description = [{
    `kiln.add(kiln.linear(x, W), b)` with `b` of shape `[out_features]`
    becomes `kiln.linear(x, W, b)`, so the bias is added in the GEMM's
    epilogue instead of by a second pass over memory. The linear must have no
    other user.

    Before:
    ```mlir
    %y = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
    %z = kiln.add %y, %b : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
    ```
    After:
    ```mlir
    %z = kiln.linear %x, %w, %b : (tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<?x128xf32>
    ```
  }];
  let dependentDialects = ["mlir::kiln::KilnDialect"];
}

def PromoteWeightsToArgumentsPass
    : Pass<"kiln-promote-weights-to-arguments", "mlir::ModuleOp"> {
  let summary = "Turns kiln.weight ops into function arguments";
  let description = [{
    Each distinct weight name used in a function becomes one new trailing
    argument of that function, tagged `{kiln.weight = "<name>"}`, so that a
    runner (the JIT test harness, later the runtime's binding code) passes
    the checkpoint's tensors in. Functions without weights are untouched.

    Before:
    ```mlir
    func.func @f(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
      %w = kiln.weight "proj.weight" : tensor<8x64xf32>
      %y = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<8x64xf32>) -> tensor<?x8xf32>
      return %y : tensor<?x8xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(%x: tensor<?x64xf32>, %w: tensor<8x64xf32> {kiln.weight = "proj.weight"}) -> tensor<?x8xf32> {
      %y = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<8x64xf32>) -> tensor<?x8xf32>
      return %y : tensor<?x8xf32>
    }
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

#endif // KILN_PASSES_KILN_PASSES_TD
