//===- NarrowWeights.cpp - Linear weights stored as bf16 -----------------===//
//
// A weight argument (kiln.weight) read only as the weight operand of
// contractions (the linears' W, [out, in]) becomes a bf16 tensor, and each
// contraction widens it in its body (arith.extf before the product). The
// artifact then stores those weights as bf16 (half the bytes, half the
// weight traffic), and each target widens them where it loads them: the CPU
// target while packing W's panels, the others per element. Weights used in
// any other way (norm scales, biases, embeddings, convolution kernels) stay
// f32: they are a small share of the bytes and are read by elementwise code.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_NARROWWEIGHTSPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kWeightAttr = "kiln.weight";

/// Whether `use` is the second input (the weight) of a plain contraction
/// whose body uses that input only in its product.
bool isContractionWeight(OpOperand &use) {
  auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
  if (!generic || use.getOperandNumber() != 1 ||
      generic.getNumDpsInputs() != 2 ||
      !linalg::isaContractionOpInterface(generic))
    return false;
  BlockArgument arg = generic.getBlock()->getArgument(1);
  return llvm::all_of(arg.getUsers(),
                      [](Operation *user) { return isa<arith::MulFOp>(user); });
}

/// Makes block argument 1 of `generic` `narrow` and widens it at the start
/// of the body for its users.
void widenInBody(linalg::GenericOp generic, Type narrow) {
  Block *body = generic.getBlock();
  BlockArgument arg = body->getArgument(1);
  Type wide = arg.getType();
  arg.setType(narrow);
  OpBuilder b = OpBuilder::atBlockBegin(body);
  auto widened = arith::ExtFOp::create(b, generic.getLoc(), wide, arg);
  arg.replaceAllUsesExcept(widened, widened);
}

struct NarrowWeightsPass : impl::NarrowWeightsPassBase<NarrowWeightsPass> {
  using NarrowWeightsPassBase::NarrowWeightsPassBase;

  void runOnOperation() override {
    if (dtype != "bf16") {
      getOperation().emitError("kiln-narrow-weights: dtype '")
          << dtype << "' is not supported (bf16)";
      return signalPassFailure();
    }
    Type bf16 = BFloat16Type::get(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        if (!func.getArgAttr(arg.getArgNumber(), kWeightAttr) || !type ||
            !type.getElementType().isF32() || arg.use_empty() ||
            !llvm::all_of(arg.getUses(), isContractionWeight))
          continue;
        arg.setType(type.clone(bf16));
        for (OpOperand &use : arg.getUses())
          widenInBody(cast<linalg::GenericOp>(use.getOwner()), bf16);
        ++narrowed;
      }
      func.setType(FunctionType::get(&getContext(),
                                     func.getBody().getArgumentTypes(),
                                     func.getResultTypes()));
    }
  }
};

} // namespace
} // namespace mlir::kiln
