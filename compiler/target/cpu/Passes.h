//===- Passes.h - The CPU target --------------------------------*- C++ -*-===//

#ifndef KILN_COMPILER_TARGET_CPU_PASSES_H
#define KILN_COMPILER_TARGET_CPU_PASSES_H

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "compiler/target/cpu/Passes.h.inc"

/// The exported symbol of a dispatch kernel (runtime/hal/kernel_abi.h).
std::string cpuKernelSymbol(llvm::StringRef dispatchName);

/// Registers the CPU target passes.
void registerCpuTargetPasses();

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CPU_PASSES_H
