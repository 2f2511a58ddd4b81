//===- TestShapeExpressions.cpp - Test pass for ShapeExpressionBuilder ----===//
//
// Annotates every memref.alloc of every non-kernel function with the
// expression of each dynamic size, written with dim names "argN.dD", so lit
// tests can check the translation. Test-only: registered in kiln-opt.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/host/ShapeExpressions.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

namespace mlir::kiln {
namespace {

struct TestShapeExpressionsPass
    : PassWrapper<TestShapeExpressionsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestShapeExpressionsPass)
  StringRef getArgument() const final { return "kiln-test-shape-expressions"; }
  StringRef getDescription() const final {
    return "Annotates allocations with their size expressions (test only)";
  }
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || func->hasAttr("kiln.dispatch"))
        continue;
      ShapeExpressionBuilder builder(func);
      WalkResult result = func.walk([&](memref::AllocOp alloc) {
        SmallVector<Attribute> sizes;
        for (int64_t d = 0; d < alloc.getType().getRank(); ++d) {
          FailureOr<::kiln::artifact::Expression> expr =
              builder.dimension(alloc.getResult(), d);
          if (failed(expr))
            return WalkResult::interrupt();
          std::vector<std::string> names;
          for (auto [arg, dim] : builder.symbols())
            names.push_back("arg" + std::to_string(arg) + ".d" +
                            std::to_string(dim));
          sizes.push_back(StringAttr::get(&getContext(), expr->ToString(names)));
        }
        alloc->setAttr("kiln.test.sizes", ArrayAttr::get(&getContext(), sizes));
        return WalkResult::advance();
      });
      if (result.wasInterrupted())
        return signalPassFailure();
    }
  }
};

} // namespace

void registerTestShapeExpressionsPass() {
  PassRegistration<TestShapeExpressionsPass>();
}

} // namespace mlir::kiln
