//===- PromoteWeightsToArguments.cpp - kiln.weight to func arguments ------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "passes/kiln/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_PROMOTEWEIGHTSTOARGUMENTSPASS
#include "passes/kiln/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kWeightAttr = "kiln.weight";

struct PromoteWeightsToArgumentsPass
    : impl::PromoteWeightsToArgumentsPassBase<PromoteWeightsToArgumentsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(promote(func)))
        return signalPassFailure();
  }

  static LogicalResult promote(func::FuncOp func) {
    // Distinct names in first-use order: the argument order is stable.
    llvm::MapVector<StringAttr, SmallVector<WeightOp>> byName;
    func.walk([&](WeightOp op) {
      byName[op.getNameAttr()].push_back(op);
    });
    for (auto &[name, ops] : byName) {
      Type type = ops.front().getType();
      for (WeightOp op : ops)
        if (op.getType() != type)
          return op.emitOpError("weight '")
                 << name.getValue() << "' is used with two types: " << type
                 << " and " << op.getType();
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(
              index, type,
              DictionaryAttr::get(func.getContext(),
                                  {NamedAttribute(StringAttr::get(
                                                      func.getContext(),
                                                      kWeightAttr),
                                                  name)}),
              ops.front().getLoc())))
        return failure();
      Value arg = func.getArgument(index);
      for (WeightOp op : ops) {
        op.getResult().replaceAllUsesWith(arg);
        op.erase();
      }
    }
    return success();
  }
};

} // namespace
} // namespace mlir::kiln
