//===- LinalgBodyEmitter.cpp - A linalg op's body at given indices --------===//

#include "compiler/target/cuda/LinalgBodyEmitter.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::kiln {

SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ValueRange ivs) {
  SmallVector<Value> results;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    results.push_back(
        affine::AffineApplyOp::create(b, loc, map.getSubMap({i}), ivs));
  return results;
}

SmallVector<Value> emitBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
                            ValueRange ivs, ValueRange accs) {
  Block *body = op.getBlock();
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value value = input->get();
    BlockArgument arg = body->getArgument(input->getOperandNumber());
    if (isa<MemRefType>(value.getType()))
      value = memref::LoadOp::create(
          b, loc, value,
          applyMap(b, loc, op.getMatchingIndexingMap(input), ivs));
    mapping.map(arg, value);
  }
  for (auto [i, acc] : llvm::enumerate(accs))
    if (acc)
      mapping.map(body->getArgument(op.getNumDpsInputs() + i), acc);
  for (Operation &inner : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  SmallVector<Value> results;
  for (Value yielded : body->getTerminator()->getOperands())
    results.push_back(mapping.lookupOrDefault(yielded));
  return results;
}

void emitElementAt(OpBuilder &b, Location loc, linalg::LinalgOp op,
                   ValueRange coords) {
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  SmallVector<Value> ivs(op.getNumLoops());
  for (unsigned d = 0; d < outMap.getNumResults(); ++d)
    ivs[outMap.getDimPosition(d)] = coords[d];
  SmallVector<Value> initial;
  for (OpOperand &init : op.getDpsInitsMutable())
    initial.push_back(op.getMatchingBlockArgument(&init).use_empty()
                          ? Value()
                          : memref::LoadOp::create(b, loc, init.get(), coords));
  SmallVector<Value> results = emitBody(b, loc, op, ivs, initial);
  for (auto [result, init] : llvm::zip(results, op.getDpsInits()))
    memref::StoreOp::create(b, loc, result, init, coords);
}

Value rootBuffer(Value view) {
  while (Operation *def = view.getDefiningOp()) {
    auto viewLike = dyn_cast<ViewLikeOpInterface>(def);
    if (!viewLike)
      break;
    view = viewLike.getViewSource();
  }
  return view;
}

} // namespace mlir::kiln
