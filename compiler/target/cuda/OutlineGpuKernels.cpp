//===- OutlineGpuKernels.cpp - kiln.dispatch functions as gpu.func --------===//

#include "compiler/target/cpu/Passes.h"
#include "compiler/target/cuda/CudaCodegen.h"
#include "compiler/target/cuda/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_OUTLINEGPUKERNELSPASS
#include "compiler/target/cuda/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";
constexpr llvm::StringLiteral kKernelModule = "kiln_cuda_kernels";

struct OutlineGpuKernelsPass
    : impl::OutlineGpuKernelsPassBase<OutlineGpuKernelsPass> {
  using OutlineGpuKernelsPassBase::OutlineGpuKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 1 || blockSize > 1024) {
      module.emitError("block-size must be in [1, 1024], got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), kKernelModule);
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    SymbolTable kernels(gpuModule);
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (!func->hasAttr(kDispatchAttr) || func.isExternal()) {
        func.erase();
        continue;
      }
      b.setInsertionPointToEnd(gpuModule.getBody());
      // The CPU target's symbol: the artifact names one kernel per dispatch
      // and both targets' executables call it the same.
      auto kernel = gpu::GPUFuncOp::create(b, func.getLoc(),
                                           cpuKernelSymbol(func.getName()),
                                           func.getFunctionType());
      kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                      b.getUnitAttr());
      kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
          {static_cast<int32_t>(blockSize), 1, 1}));
      if (Attribute perBlock = func->getAttr(kElementsPerBlockAttr))
        kernel->setAttr(kElementsPerBlockAttr, perBlock);
      // gpu.func's builder makes an entry block; the function's own replaces
      // it, with its arguments.
      kernel.getBody().getBlocks().clear();
      kernel.getBody().takeBody(func.getBody());
      kernel.walk([&](func::ReturnOp ret) {
        OpBuilder rb(ret);
        gpu::ReturnOp::create(rb, ret.getLoc());
        ret.erase();
      });
      // Buffers a block shares (the tensor-core kernels' stages) become the
      // kernel's workgroup attributions: shared memory.
      SmallVector<memref::AllocaOp> shared;
      kernel.walk([&](memref::AllocaOp alloca) {
        if (auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(
                alloca.getType().getMemorySpace());
            space && space.getValue() == gpu::AddressSpace::Workgroup)
          shared.push_back(alloca);
      });
      for (memref::AllocaOp alloca : shared) {
        alloca.replaceAllUsesWith(
            kernel.addWorkgroupAttribution(alloca.getType(), alloca.getLoc()));
        alloca.erase();
      }
      kernels.insert(kernel);
      func.erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
