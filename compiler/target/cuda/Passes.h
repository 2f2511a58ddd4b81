//===- Passes.h - The CUDA target -------------------------------*- C++ -*-===//

#ifndef KILN_COMPILER_TARGET_CUDA_PASSES_H
#define KILN_COMPILER_TARGET_CUDA_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "compiler/target/cuda/Passes.h.inc"

/// Registers the CUDA target passes.
void registerCudaTargetPasses();

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CUDA_PASSES_H
