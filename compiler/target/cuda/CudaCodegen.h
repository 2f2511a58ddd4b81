//===- CudaCodegen.h - Kernels to PTX ---------------------------*- C++ -*-===//
//
// The CUDA target: takes the outlined kernels (kiln.dispatch functions on
// memrefs, before the CPU target's workgroup distribution), gives every op
// to GPU threads (kiln-cuda-distribute-to-threads), moves the kernels into a
// gpu.module and lowers it through the gpu and nvvm dialects to PTX with
// LLVM's NVPTX backend. The runtime's CUDA device loads the PTX with the
// driver (runtime/hal/kernel_abi.h, "CUDA kernels").
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CUDA_CUDACODEGEN_H
#define KILN_COMPILER_TARGET_CUDA_CUDACODEGEN_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// A GPU architecture the CUDA target generates code for.
struct CudaTarget {
  std::string name;        // the executable's target: "cuda-sm_90a"
  std::string chip;        // LLVM's NVPTX CPU: "sm_90a"
  int computeCapability;   // 90
  bool archSpecific;       // "a" targets run on exactly that capability
  // Contractions on tensor cores (kiln-cuda-tile-contractions: inputs
  // rounded to bf16, f32 accumulation), else in f32 one output element per
  // thread, exactly as on the CPU.
  bool tensorCores = true;
};

/// The target for `spec`, "cuda:sm_<major><minor>[a]" (sm_80 and newer);
/// failure for anything else.
FailureOr<CudaTarget> lookupCudaTarget(llvm::StringRef spec);

/// The CUDA toolkit folder the target takes libdevice from (math functions):
/// $CUDA_HOME, else $CUDA_PATH, else /usr/local/cuda, else the
/// cuda-toolkit folder beside the compiler's bin/ (where setup.sh unpacks
/// NVIDIA's wheel); empty when none of them has nvvm/libdevice.
std::string findCudaToolkit();

/// Threads per block of every kernel the CUDA target emits.
constexpr int64_t kCudaBlockSize = 256;

/// The attribute of a kernel whose block takes more than one output element
/// per thread (the tensor-core kernels): how many, for the runtime's grid.
constexpr llvm::StringLiteral kElementsPerBlockAttr = "kiln.elements_per_block";

/// The compiled kernels of a module.
struct CudaExecutableCode {
  std::string ptx;
  std::vector<std::string> kernels;  // .entry names, in module order
  // Per kernel: the output elements one block takes (kCudaBlockSize unless
  // the kernel says otherwise, kElementsPerBlockAttr).
  std::vector<uint64_t> elementsPerBlock;
};

/// Compiles every kiln.dispatch function of `module` (which it consumes;
/// other functions are dropped) into one PTX module. Errors are emitted on
/// the module.
FailureOr<CudaExecutableCode> compileCudaKernels(ModuleOp module,
                                                 const CudaTarget &target);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CUDA_CUDACODEGEN_H
