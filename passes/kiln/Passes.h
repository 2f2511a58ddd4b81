//===- Passes.h - Passes on the kiln dialect --------------------*- C++ -*-===//

#ifndef KILN_PASSES_KILN_PASSES_H
#define KILN_PASSES_KILN_PASSES_H

#include "dialects/kiln/IR/KilnDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/kiln/Passes.h.inc"

/// The kiln-level optimization pipeline, run before lowering: shape
/// refinement, canonicalization, then the fusions, then CSE.
void buildKilnOptimizationPipeline(OpPassManager &pm);

/// Registers every pass of this folder and the `kiln-optimize` pipeline.
void registerKilnPassesAndPipelines();

} // namespace mlir::kiln

#endif // KILN_PASSES_KILN_PASSES_H
