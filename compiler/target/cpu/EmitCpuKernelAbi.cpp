//===- EmitCpuKernelAbi.cpp - Export kernels with the runtime's ABI -------===//

#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_EMITCPUKERNELABIPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kCInterfacePrefix = "_mlir_ciface_";

/// Adds the ABI wrapper of one C-interface kernel, whose arguments are one
/// descriptor pointer per binding, then workgroup id and count.
LogicalResult emitWrapper(ModuleOp module, LLVM::LLVMFuncOp ciface) {
  LLVM::LLVMFunctionType type = ciface.getFunctionType();
  unsigned numBindings = type.getNumParams() - 2;
  MLIRContext *ctx = module.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  for (unsigned i = 0; i < numBindings; ++i)
    if (type.getParamType(i) != ptr)
      return ciface.emitOpError("expects descriptor pointers then two i64 "
                                "workgroup values");
  if (type.getParamType(numBindings) != i64 ||
      type.getParamType(numBindings + 1) != i64)
    return ciface.emitOpError("expects the workgroup id and count last");

  StringRef name = ciface.getSymName().drop_front(kCInterfacePrefix.size());
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = ciface.getLoc();
  auto wrapper = LLVM::LLVMFuncOp::create(
      b, loc, cpuKernelSymbol(name),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                  {ptr, i64, i64}));
  Block *body = wrapper.addEntryBlock(b);
  b.setInsertionPointToStart(body);
  SmallVector<Value> args;
  for (unsigned i = 0; i < numBindings; ++i) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, body->getArgument(0),
                                     ArrayRef<LLVM::GEPArg>{int32_t(i)});
    args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
  }
  args.push_back(body->getArgument(1));
  args.push_back(body->getArgument(2));
  LLVM::CallOp::create(b, loc, ciface, args);
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  return success();
}

struct EmitCpuKernelAbiPass
    : impl::EmitCpuKernelAbiPassBase<EmitCpuKernelAbiPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func->hasAttr("kiln.dispatch") &&
          func.getSymName().starts_with(kCInterfacePrefix))
        kernels.push_back(func);
    for (LLVM::LLVMFuncOp kernel : kernels)
      if (failed(emitWrapper(module, kernel)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
