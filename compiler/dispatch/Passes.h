//===- Passes.h - Dispatch formation ----------------------------*- C++ -*-===//

#ifndef KILN_COMPILER_DISPATCH_PASSES_H
#define KILN_COMPILER_DISPATCH_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "compiler/dispatch/Passes.h.inc"

/// Registers the dispatch-formation passes.
void registerKilnDispatchPasses();

} // namespace mlir::kiln

#endif // KILN_COMPILER_DISPATCH_PASSES_H
