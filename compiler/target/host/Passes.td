//===- Passes.td - Host program passes ---------------------*- tablegen -*-===//

#ifndef KILN_COMPILER_TARGET_HOST_PASSES_TD
#define KILN_COMPILER_TARGET_HOST_PASSES_TD

include "mlir/Pass/PassBase.td"

def AnnotateDimAliasesPass : Pass<"kiln-annotate-dim-aliases", "mlir::ModuleOp"> {
  let summary = "Records which dynamic argument sizes must be equal";
  let description = [{
    Runs on linalg on tensors. Structured ops tie the sizes of their operands
    (every operand dimension indexed by the same loop has the same size),
    tensor.empty takes sizes from tensor.dim, reshapes keep their untouched
    dimensions, concat keeps all but one, a slice keeps the dimensions it
    takes whole. Union-find over those equalities
    finds the dynamic argument dimensions that must agree, e.g. the batch of
    `hidden_states` and of `timestep`. Each function gets
    `kiln.dim_aliases = array<i64: arg, dim, canonical_arg, canonical_dim, ...>`
    for every dynamic argument dimension that is not the first of its class,
    so the host program names one symbol per class and the runtime checks
    that the inputs agree instead of computing with mismatched shapes.
  }];
}

#endif // KILN_COMPILER_TARGET_HOST_PASSES_TD
