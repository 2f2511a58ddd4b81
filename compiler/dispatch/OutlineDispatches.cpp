//===- OutlineDispatches.cpp - One kernel per compute op ------------------===//

#include "compiler/dispatch/Passes.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_OUTLINEDISPATCHESPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";
constexpr llvm::StringLiteral kSizeEqualitiesAttr = "kiln.size_equalities";

/// The binding dimensions `op` needs equal: for each loop of a structured
/// op, every operand dimension indexed by it, as (binding, dim) pairs tied
/// to the first one; a copy's source and target, dimension by dimension.
/// The kernel takes its loop bounds from one binding and indexes the others
/// with them, so the runtime checks these before dispatching (an input
/// that disagrees would otherwise be read out of bounds).
SmallVector<int64_t> sizeEqualities(Operation *op,
                                    const llvm::SetVector<Value> &bindings) {
  SmallVector<int64_t> quads;
  auto tie = [&](Value a, int64_t da, Value b, int64_t db) {
    if (a == b && da == db)
      return;
    auto index = [&](Value v) {
      return static_cast<int64_t>(llvm::find(bindings, v) - bindings.begin());
    };
    quads.append({index(a), da, index(b), db});
  };
  if (auto copy = dyn_cast<memref::CopyOp>(op)) {
    auto type = cast<MemRefType>(copy.getSource().getType());
    for (int64_t d = 0; d < type.getRank(); ++d)
      tie(copy.getSource(), d, copy.getTarget(), d);
    return quads;
  }
  if (auto attention = dyn_cast<FlashAttentionOp>(op)) {
    for (const FlashAttentionOp::SizeTie &t : attention.getSizeTies())
      tie(t.a, t.aDim, t.b, t.bDim);
    return quads;
  }
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp)
    return quads;
  SmallVector<std::pair<Value, int64_t>> first(linalgOp.getNumLoops(),
                                               {Value(), -1});
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
    for (auto [d, result] : llvm::enumerate(map.getResults())) {
      auto loop = dyn_cast<AffineDimExpr>(result);
      if (!loop)
        continue;
      auto &owner = first[loop.getPosition()];
      if (!owner.first)
        owner = {operand.get(), static_cast<int64_t>(d)};
      else
        tie(owner.first, owner.second, operand.get(), d);
    }
  }
  return quads;
}

/// Ops that become kernels: every structured op, buffer copy and kernel op.
bool isComputeOp(Operation *op) {
  return isa<linalg::LinalgOp, memref::CopyOp, FlashAttentionOp>(op);
}

/// Host ops a kernel may recompute: pure index/scalar arithmetic and sizes.
bool isRecomputable(Operation *op) {
  return isa<arith::ArithDialect, affine::AffineDialect>(op->getDialect()) ||
         isa<memref::DimOp>(op);
}

class DispatchOutliner {
public:
  DispatchOutliner(ModuleOp module, func::FuncOp entry)
      : module(module), entry(entry) {}

  LogicalResult run() {
    SmallVector<Operation *> computeOps;
    for (Operation &op : entry.getBody().front())
      if (isComputeOp(&op))
        computeOps.push_back(&op);
    for (Operation *op : computeOps)
      if (failed(outline(op)))
        return failure();
    return success();
  }

private:
  LogicalResult outline(Operation *op) {
    // Kernel arguments: the memrefs the op reads or writes, in order.
    llvm::SetVector<Value> bindings;
    for (Value operand : op->getOperands())
      if (isa<MemRefType>(operand.getType()))
        bindings.insert(operand);
    // Everything else the op uses from the host must be recomputed inside.
    llvm::SetVector<Value> captured;
    for (Value operand : op->getOperands())
      if (!isa<MemRefType>(operand.getType()))
        captured.insert(operand);
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    llvm::SetVector<Operation *> slice;
    for (Value value : captured) {
      if (isa<MemRefType>(value.getType())) {
        bindings.insert(value);  // e.g. a table read with memref.load
        continue;
      }
      if (failed(collectSlice(op, value, bindings, slice)))
        return failure();
    }

    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    std::string name =
        (entry.getName() + "__dispatch_" + llvm::Twine(counter++)).str();
    SmallVector<Type> types;
    for (Value v : bindings)
      types.push_back(v.getType());
    auto kernel = func::FuncOp::create(b, op->getLoc(), name,
                                       b.getFunctionType(types, {}));
    kernel.setPrivate();
    kernel->setAttr(kDispatchAttr, b.getUnitAttr());
    SmallVector<int64_t> equalities = sizeEqualities(op, bindings);
    if (!equalities.empty())
      kernel->setAttr(kSizeEqualitiesAttr,
                      b.getDenseI64ArrayAttr(equalities));
    Block *body = kernel.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping mapping;
    for (auto [value, arg] : llvm::zip_equal(bindings, body->getArguments()))
      mapping.map(value, arg);
    // The slice is in host program order, so clones see their operands.
    for (Operation *dep : topologicalSort(slice))
      b.clone(*dep, mapping);
    b.clone(*op, mapping);
    func::ReturnOp::create(b, op->getLoc());

    OpBuilder host(op);
    func::CallOp::create(host, op->getLoc(), kernel, bindings.getArrayRef());
    op->erase();
    return success();
  }

  /// Adds the host ops computing `value` to `slice`; memrefs whose sizes
  /// they read become bindings. Fails on anything a kernel cannot redo.
  LogicalResult collectSlice(Operation *user, Value value,
                             llvm::SetVector<Value> &bindings,
                             llvm::SetVector<Operation *> &slice) {
    SmallVector<Value> worklist{value};
    while (!worklist.empty()) {
      Value v = worklist.pop_back_val();
      Operation *def = v.getDefiningOp();
      if (!def || !isRecomputable(def))
        return user->emitOpError("uses a host value that the kernel cannot "
                                 "recompute (")
               << (def ? def->getName().getStringRef() : "a block argument")
               << "); pass it through a buffer";
      if (!slice.insert(def))
        continue;
      for (Value operand : def->getOperands()) {
        if (isa<MemRefType>(operand.getType()))
          bindings.insert(operand);
        else
          worklist.push_back(operand);
      }
    }
    return success();
  }

  ModuleOp module;
  func::FuncOp entry;
  unsigned counter = 0;
};

struct OutlineDispatchesPass
    : impl::OutlineDispatchesPassBase<OutlineDispatchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && !func->hasAttr(kDispatchAttr))
        entries.push_back(func);
    for (func::FuncOp entry : entries)
      if (failed(DispatchOutliner(module, entry).run()))
        return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
