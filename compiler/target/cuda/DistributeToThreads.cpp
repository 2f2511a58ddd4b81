//===- DistributeToThreads.cpp - Linalg ops as grid-stride loops ----------===//
//
// The CUDA target's general lowering: correct for every linalg op a
// dispatch can hold (elementwise chains, reductions, contractions,
// convolutions), one output element per thread and iteration. It is the
// path every dispatch has; faster kernels for particular op kinds replace it
// for those ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/FlashAttentionLoops.h"
#include "compiler/target/cuda/LinalgBodyEmitter.h"
#include "compiler/target/cuda/Passes.h"
#include "compiler/target/cuda/WarpMma.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_DISTRIBUTETOTHREADSPASS
#include "compiler/target/cuda/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";

/// The first output element of this thread and the distance to its next:
/// global thread id and the grid's thread count, along x.
std::pair<Value, Value> threadStartAndStride(OpBuilder &b, Location loc) {
  return emitGridThreads(b, loc);
}

/// Rewrites `op` into the grid-stride loop the pass description shows.
LogicalResult distribute(linalg::LinalgOp op, Value start, Value stride) {
  if (!op.hasPureBufferSemantics())
    return op.emitOpError("the CUDA target distributes linalg ops on memrefs");
  // Outputs share one map, so one coordinate names an element of each.
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  for (OpOperand &init : op.getDpsInitsMutable())
    if (op.getMatchingIndexingMap(&init) != outMap)
      return op.emitOpError("the CUDA target needs every output indexed "
                            "alike");
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (!outMap.isProjectedPermutation())
    return op.emitOpError("the CUDA target needs an output map that is a "
                          "projected permutation, got ")
           << AffineMapAttr::get(outMap);
  SmallVector<unsigned> reductions;
  for (unsigned loop = 0; loop < iterators.size(); ++loop) {
    bool indexesOutput = outMap.isFunctionOfDim(loop);
    if (iterators[loop] == utils::IteratorType::parallel && !indexesOutput)
      return op.emitOpError("parallel loop ")
             << loop << " does not index the output; the CUDA target gives "
             << "each output element to one thread";
    if (!indexesOutput)
      reductions.push_back(loop);
  }

  OpBuilder b(op);
  Location loc = op.getLoc();
  Value out = op.getDpsInitOperand(0)->get();
  SmallVector<Range> ranges = op.createLoopRanges(b, loc);
  SmallVector<Value> sizes;
  Value total = arith::ConstantIndexOp::create(b, loc, 1);
  for (unsigned d = 0; d < outMap.getNumResults(); ++d) {
    sizes.push_back(memref::DimOp::create(b, loc, out, d));
    total = arith::MulIOp::create(b, loc, total, sizes.back());
  }
  auto elements = scf::ForOp::create(b, loc, start, total, stride);
  b.setInsertionPointToStart(elements.getBody());

  // The element's coordinates, row-major: the output's last dim fastest.
  SmallVector<Value> coords(sizes.size()), ivs(iterators.size());
  Value rest = elements.getInductionVar();
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    coords[d] = d == 0 ? rest : arith::RemUIOp::create(b, loc, rest, sizes[d]);
    if (d > 0)
      rest = arith::DivUIOp::create(b, loc, rest, sizes[d]);
    ivs[outMap.getDimPosition(d)] = coords[d];
  }

  // The outputs' old values, where the body reads them (an accumulation, an
  // in-place update); a plain write need not load them.
  SmallVector<Value> initial;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    bool read = !reductions.empty() ||
                !op.getMatchingBlockArgument(&init).use_empty();
    initial.push_back(read ? memref::LoadOp::create(b, loc, init.get(), coords)
                           : Value());
  }
  SmallVector<Value> results;
  if (reductions.empty()) {
    results = emitBody(b, loc, op, ivs, initial);
  } else {
    SmallVector<Value> lbs, ubs, steps;
    for (unsigned loop : reductions) {
      lbs.push_back(getValueOrCreateConstantIndexOp(b, loc, ranges[loop].offset));
      ubs.push_back(getValueOrCreateConstantIndexOp(b, loc, ranges[loop].size));
      steps.push_back(getValueOrCreateConstantIndexOp(b, loc, ranges[loop].stride));
    }
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, lbs, ubs, steps, initial,
        [&](OpBuilder &nested, Location l, ValueRange reductionIvs,
            ValueRange carried) -> scf::ValueVector {
          SmallVector<Value> all(ivs);
          for (auto [loop, iv] : llvm::zip(reductions, reductionIvs))
            all[loop] = iv;
          return emitBody(nested, l, op, all, carried);
        });
    results = nest.results;
  }
  for (auto [result, init] : llvm::zip(results, op.getDpsInits()))
    memref::StoreOp::create(b, loc, result, init, coords);
  op->erase();
  return success();
}

/// kiln.flash_attention: each thread takes whole (batch, query, head) rows,
/// the online softmax over the keys in registers (the scalar reference
/// form; tensor-core attention replaces it).
void distributeAttention(FlashAttentionOp op, Value start, Value stride) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value q = op.getQuery();
  SmallVector<Value> sizes;
  Value total = arith::ConstantIndexOp::create(b, loc, 1);
  for (unsigned d = 0; d < 3; ++d) {
    sizes.push_back(memref::DimOp::create(b, loc, q, d));
    total = arith::MulIOp::create(b, loc, total, sizes.back());
  }
  auto rows = scf::ForOp::create(b, loc, start, total, stride);
  b.setInsertionPointToStart(rows.getBody());
  // Row-major over (batch, query, head): neighbouring threads take the heads
  // of one token, whose q and output rows are adjacent in memory.
  Value rest = rows.getInductionVar();
  Value head = arith::RemUIOp::create(b, loc, rest, sizes[2]);
  rest = arith::DivUIOp::create(b, loc, rest, sizes[2]);
  Value query = arith::RemUIOp::create(b, loc, rest, sizes[1]);
  Value batch = arith::DivUIOp::create(b, loc, rest, sizes[1]);
  emitFlashAttentionRow(b, loc, op, batch, query, head);
  op->erase();
}

LogicalResult distributeKernel(func::FuncOp kernel) {
  IRRewriter rewriter(kernel.getContext());
  kernel.walk([&](memref::CopyOp copy) {
    rewriter.setInsertionPoint(copy);
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                copy.getTarget());
  });
  SmallVector<FlashAttentionOp> attentions;
  kernel.walk([&](FlashAttentionOp op) { attentions.push_back(op); });
  if (!attentions.empty()) {
    // Outlining gives a kernel op a dispatch of its own.
    OpBuilder b(kernel.getContext());
    b.setInsertionPointToStart(&kernel.getBody().front());
    auto [start, stride] = threadStartAndStride(b, kernel.getLoc());
    for (FlashAttentionOp op : attentions)
      distributeAttention(op, start, stride);
    return success();
  }
  SmallVector<linalg::LinalgOp> ops;
  kernel.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  if (ops.empty())
    return success();
  // Several ops share the threads' ownership of output elements (the pass
  // description says why) as long as none reads what another one writes and
  // ops that write the same buffer write it through the same view.
  for (linalg::LinalgOp writer : ops)
    for (Value written : writer.getDpsInits())
      for (linalg::LinalgOp other : ops) {
        if (other == writer)
          continue;
        for (OpOperand *input : other.getDpsInputOperands())
          if (rootBuffer(input->get()) == rootBuffer(written))
            return other.emitOpError(
                "reads a buffer another op of its kernel writes; the CUDA "
                "target needs a grid barrier there");
        for (Value alsoWritten : other.getDpsInits())
          if (alsoWritten != written &&
              rootBuffer(alsoWritten) == rootBuffer(written))
            return other.emitOpError(
                "writes a buffer another op of its kernel writes through "
                "another view; the CUDA target needs a grid barrier there");
      }
  OpBuilder b(kernel.getContext());
  b.setInsertionPointToStart(&kernel.getBody().front());
  auto [start, stride] = threadStartAndStride(b, kernel.getLoc());
  for (linalg::LinalgOp op : ops)
    if (failed(distribute(op, start, stride)))
      return failure();
  return success();
}

struct DistributeToThreadsPass
    : impl::DistributeToThreadsPassBase<DistributeToThreadsPass> {
  void runOnOperation() override {
    for (auto kernel : getOperation().getOps<func::FuncOp>())
      if (kernel->hasAttr(kDispatchAttr) && failed(distributeKernel(kernel)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
