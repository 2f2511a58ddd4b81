//===- KernelTestContext.h - An MLIRContext for the CPU target's gtests -*- C++ -*-===//
//
// Every dialect, the Kiln dialect and the pipeline's passes registered: what
// the gtests that compile kernels with the real CPU target need.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CPU_KERNELTESTCONTEXT_H
#define KILN_COMPILER_TARGET_CPU_KERNELTESTCONTEXT_H

#include "compiler/pipeline/Pipelines.h"
#include "dialects/kiln/IR/KilnDialect.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

#include <memory>

namespace mlir::kiln {

inline std::unique_ptr<MLIRContext> makeKernelTestContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<KilnDialect>();
  registerKilnPipelinePasses();
  return std::make_unique<MLIRContext>(registry);
}

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CPU_KERNELTESTCONTEXT_H
