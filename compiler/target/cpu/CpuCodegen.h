//===- CpuCodegen.h - Kernels to an x86-64 shared object --------*- C++ -*-===//
//
// The back half of the CPU target: takes the outlined, distributed kernels
// (kiln.dispatch functions on memrefs), lowers them to LLVM, exports each
// with the runtime's kernel ABI (runtime/hal/kernel_abi.h), compiles them for
// the chosen x86-64 level and links one ELF shared object with ld.lld.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CPU_CPUCODEGEN_H
#define KILN_COMPILER_TARGET_CPU_CPUCODEGEN_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// An x86-64 level the CPU target generates code for.
struct CpuTarget {
  std::string name;      // "cpu-x86_64-avx2"
  std::string llvmCpu;   // "x86-64-v3"
  std::vector<std::string> features;  // what the runtime must check
  /// The packed GEMM micro-kernel (kiln-cpu-vectorize-contractions'
  /// options): f32 lanes per vector and rows of C per register tile.
  int64_t vectorLanes = 8;
  int64_t tileRows = 6;
  /// Contractions with bf16/e4m3 weights on vdpbf16ps (bf16 activations).
  bool bf16Dot = false;
  /// ... and their 16-row tiles on AMX (tdpbf16ps).
  bool amx = false;
  std::string llvmFeatures; // beyond llvmCpu's: "+avx512bf16"
};

/// The target called `name`: cpu-x86_64 (baseline SSE2), cpu-x86_64-avx2
/// (x86-64-v3), cpu-x86_64-avx512 (x86-64-v4), cpu-x86_64-avx512bf16
/// (x86-64-v4 + AVX-512-BF16) or cpu-x86_64-amx (that + AMX-BF16);
/// failure for another name.
FailureOr<CpuTarget> lookupCpuTarget(llvm::StringRef name);

/// The names lookupCpuTarget accepts, for --help and errors.
std::string cpuTargetNames();

/// What `--target=cpu` compiles: one executable per x86-64 level worth
/// having (AVX2, AVX-512, and AMX when the weights are bf16/FP8: it differs
/// from AVX-512 only in their linears), the runtime running the most
/// capable one its CPU has. The AVX-512-BF16 level is not among them: on
/// the one such CPU measured (a Sapphire-Rapids-class Xeon,
/// docs/PERFORMANCE.md) its vdpbf16ps linears ran at 0.6x the AVX-512
/// level's f32 FMAs; users add it by name.
std::vector<std::string> defaultCpuTargetNames(bool narrowWeights);

/// The compiled kernels of a module.
struct CpuExecutableCode {
  std::vector<uint8_t> sharedObject;
  std::vector<std::string> kernels;  // exported ABI symbols, in module order
};

/// Compiles every kiln.dispatch function of `module` (other functions are
/// dropped from the compiled copy) into a shared object. Errors are emitted on
/// the module.
FailureOr<CpuExecutableCode> compileCpuKernels(ModuleOp module,
                                               const CpuTarget &target);

/// The same for several levels at once (one code per target, in order):
/// `module` is not changed. Each level's LLVM code generation runs on a
/// thread of its own.
FailureOr<std::vector<CpuExecutableCode>>
compileCpuKernels(ModuleOp module, llvm::ArrayRef<CpuTarget> targets);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CPU_CPUCODEGEN_H
