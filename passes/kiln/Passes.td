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

def QuantizeFp8Pass : Pass<"kiln-quantize-fp8", "mlir::ModuleOp"> {
  let summary = "Linear weights as FP8 E4M3 with per-output-channel scales";
  let description = [{
    Rewrites the weight of each eligible `kiln.linear` (a 2-d f32
    `kiln.weight` of `component`, used by that linear only, whose name no
    `keep` pattern matches) into `kiln.dequantize` of an e4m3 weight of the
    same name and an f32 scale per output channel named `<name>#e4m3_scale`.
    kiln-compile's writer fills both from the checkpoint: scale[n] =
    max|W[n, :]| / 448, data = e4m3(W / scale), rounded to nearest even.
    The lowering to linalg never builds the f32 weight (kiln.dequantize).

    The default `keep` patterns (regular expressions on the weight name) are
    what the common FP8 FLUX checkpoints keep in bf16: the input embedders
    (`x_embedder`, `context_embedder`), the timestep, guidance and pooled
    text embedders (`time_text_embed`) and the final layer (its modulation
    `norm_out` and the top-level `proj_out`). The blocks' modulation linears
    (`norm1.linear`, ...) are quantized: ~27 % of FLUX.1's bytes. Keep them
    too with `keep=...,norm[^.]*\\.linear`. `kiln-compile --weights=fp8-e4m3` stores the kept
    ones as bf16. With `report` each weight's decision and the byte totals
    are printed to stderr.

    ```mlir
    // Before
    %w = kiln.weight "transformer.blocks.0.ff.weight" : tensor<256x64xf32>
    %y = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<256x64xf32>) -> tensor<?x256xf32>
    // After
    %q = kiln.weight "transformer.blocks.0.ff.weight" : tensor<256x64xf8E4M3FN>
    %s = kiln.weight "transformer.blocks.0.ff.weight#e4m3_scale" : tensor<256xf32>
    %w = kiln.dequantize %q, %s : (tensor<256x64xf8E4M3FN>, tensor<256xf32>) -> tensor<256x64xf32>
    %y = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<256x64xf32>) -> tensor<?x256xf32>
    ```
  }];
  let options = [
    Option<"component", "component", "std::string", /*default=*/"\"transformer\"",
           "Quantize the linears of this component only">,
    ListOption<"keep", "keep", "std::string",
               "Weight-name patterns (regular expressions) that stay as they "
               "are; empty: the default policy above; 'none': quantize all">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Print each weight's decision and the bytes to stderr">
  ];
  let statistics = [
    Statistic<"quantized", "quantized", "Linear weights quantized to e4m3">,
    Statistic<"kept", "kept", "Linear weights the policy kept">
  ];
  let dependentDialects = ["mlir::kiln::KilnDialect"];
}

#endif // KILN_PASSES_KILN_PASSES_TD
