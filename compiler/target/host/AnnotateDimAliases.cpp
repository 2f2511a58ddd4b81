//===- AnnotateDimAliases.cpp - Equal dynamic sizes of arguments ----------===//

#include "compiler/target/host/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_ANNOTATEDIMALIASESPASS
#include "compiler/target/host/Passes.h.inc"

namespace {

/// One dimension of one tensor value.
using DimNode = std::pair<Value, int64_t>;

/// Union-find over dimensions; the representative of a class is arbitrary.
class DimClasses {
public:
  DimNode find(DimNode n) {
    auto it = parent.find(n);
    if (it == parent.end() || it->second == n)
      return n;
    DimNode root = find(it->second);
    parent[n] = root;
    return root;
  }
  void unite(DimNode a, DimNode b) {
    DimNode ra = find(a), rb = find(b);
    if (ra != rb)
      parent[ra] = rb;
  }

private:
  llvm::DenseMap<DimNode, DimNode> parent;
};

int64_t rankOf(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type ? type.getRank() : 0;
}

/// Every operand dimension indexed by the same loop has one size; each
/// result has its init's shape.
void tieStructuredOp(linalg::LinalgOp op, DimClasses &classes) {
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop) {
    std::optional<DimNode> first;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<RankedTensorType>(operand.get().getType()))
        continue;
      AffineMap map = op.getMatchingIndexingMap(&operand);
      for (auto [pos, expr] : llvm::enumerate(map.getResults())) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        if (!dim || dim.getPosition() != loop)
          continue;
        DimNode node{operand.get(), int64_t(pos)};
        if (first)
          classes.unite(*first, node);
        else
          first = node;
      }
    }
  }
  for (auto [result, init] : llvm::zip(op->getResults(), op.getDpsInits()))
    for (int64_t d = 0; d < rankOf(result); ++d)
      classes.unite({result, d}, {init, d});
}

/// A dimension whose size is `tensor.dim %v, k` equals dimension k of %v.
void tieToDimValue(DimNode node, OpFoldResult size, DimClasses &classes) {
  auto value = dyn_cast<Value>(size);
  auto dim = value ? value.getDefiningOp<tensor::DimOp>() : nullptr;
  if (!dim)
    return;
  if (std::optional<int64_t> index = dim.getConstantIndex())
    classes.unite(node, {dim.getSource(), *index});
}

/// Reassociation groups of one dimension map it 1:1.
void tieReshape(Value collapsed, Value expanded,
                ArrayRef<ReassociationIndices> groups, DimClasses &classes) {
  for (auto [i, group] : llvm::enumerate(groups))
    if (group.size() == 1)
      classes.unite({collapsed, int64_t(i)}, {expanded, group.front()});
}

void collect(func::FuncOp func, DimClasses &classes) {
  func.walk([&](Operation *op) {
    if (auto structured = dyn_cast<linalg::LinalgOp>(op)) {
      tieStructuredOp(structured, classes);
    } else if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
      for (auto [d, size] : llvm::enumerate(empty.getMixedSizes()))
        tieToDimValue({empty.getResult(), int64_t(d)}, size, classes);
    } else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
      tieReshape(expand.getSrc(), expand.getResult(),
                 expand.getReassociationIndices(), classes);
      for (auto [d, size] : llvm::enumerate(expand.getMixedOutputShape()))
        tieToDimValue({expand.getResult(), int64_t(d)}, size, classes);
    } else if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      tieReshape(collapse.getResult(), collapse.getSrc(),
                 collapse.getReassociationIndices(), classes);
    } else if (auto castOp = dyn_cast<tensor::CastOp>(op)) {
      for (int64_t d = 0; d < rankOf(castOp.getResult()); ++d)
        classes.unite({castOp.getSource(), d}, {castOp.getResult(), d});
    } else if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
      // A slice whose size is some tensor's dimension has that size (the
      // usual torch.chunk along another axis keeps the batch this way).
      if (slice.getSourceType().getRank() == slice.getType().getRank())
        for (auto [d, size] : llvm::enumerate(slice.getMixedSizes()))
          tieToDimValue({slice.getResult(), int64_t(d)}, size, classes);
    } else if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      for (Value input : concat.getInputs())
        for (int64_t d = 0; d < rankOf(input); ++d)
          if (d != int64_t(concat.getDim()))
            classes.unite({input, d}, {concat.getResult(), d});
    }
  });
}

struct AnnotateDimAliasesPass
    : impl::AnnotateDimAliasesPassBase<AnnotateDimAliasesPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      DimClasses classes;
      collect(func, classes);
      // The first dynamic argument dimension of each class names it.
      llvm::DenseMap<DimNode, DimNode> canonical;
      SmallVector<int64_t> aliases;
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        if (!type)
          continue;
        for (int64_t d = 0; d < type.getRank(); ++d) {
          if (!type.isDynamicDim(d))
            continue;
          auto [it, inserted] =
              canonical.try_emplace(classes.find({arg, d}), DimNode{arg, d});
          if (inserted)
            continue;
          auto first = cast<BlockArgument>(it->second.first);
          aliases.append({int64_t(arg.getArgNumber()), d,
                          int64_t(first.getArgNumber()), it->second.second});
        }
      }
      if (aliases.empty())
        func->removeAttr(kDimAliasesAttr);
      else
        func->setAttr(kDimAliasesAttr,
                      DenseI64ArrayAttr::get(&getContext(), aliases));
    }
  }
};

} // namespace
} // namespace mlir::kiln
