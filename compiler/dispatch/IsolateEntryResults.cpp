//===- IsolateEntryResults.cpp - One whole allocation per result ----------===//

#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_ISOLATEENTRYRESULTSPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

/// A copy of `value` in a new identity-layout allocation.
Value copyToFreshAllocation(OpBuilder &b, Location loc, Value value) {
  auto type = cast<MemRefType>(value.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(memref::DimOp::create(b, loc, value, d));
  auto fresh = MemRefType::get(type.getShape(), type.getElementType());
  Value alloc = memref::AllocOp::create(b, loc, fresh, dynamicSizes,
                                        b.getI64IntegerAttr(64));
  memref::CopyOp::create(b, loc, value, alloc);
  return alloc;
}

struct IsolateEntryResultsPass
    : impl::IsolateEntryResultsPassBase<IsolateEntryResultsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || func->hasAttr("kiln.dispatch"))
        continue;
      func.walk([&](func::ReturnOp ret) {
        OpBuilder b(ret);
        llvm::DenseSet<Value> claimed;
        for (OpOperand &result : ret->getOpOperands()) {
          Value value = result.get();
          if (!isa<MemRefType>(value.getType()))
            continue;
          if (value.getDefiningOp<memref::AllocOp>() &&
              claimed.insert(value).second)
            continue;
          result.set(copyToFreshAllocation(b, ret.getLoc(), value));
        }
        func.setFunctionType(FunctionType::get(
            func.getContext(), func.getArgumentTypes(), ret.getOperandTypes()));
      });
    }
  }
};

} // namespace
} // namespace mlir::kiln
