//===- Passes.h - Conversions between levels --------------------*- C++ -*-===//

#ifndef KILN_COMPILER_CONVERSION_PASSES_H
#define KILN_COMPILER_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "compiler/conversion/Passes.h.inc"

/// Registers the conversion passes with the global registry.
void registerKilnLoweringPasses();

} // namespace mlir::kiln

#endif // KILN_COMPILER_CONVERSION_PASSES_H
