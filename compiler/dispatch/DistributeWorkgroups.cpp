//===- DistributeWorkgroups.cpp - Block distribution over workgroups ------===//

#include "compiler/dispatch/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_DISTRIBUTEWORKGROUPSPASS
#include "compiler/dispatch/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";
constexpr llvm::StringLiteral kExtentAttr = "kiln.workgroup_extent";

/// The (kernel argument, dimension) whose size is loop 0's trip count, if
/// loop 0 is parallel: the first operand that indexes a dimension by d0.
std::optional<std::pair<int64_t, int64_t>>
distributedExtent(linalg::LinalgOp op, func::FuncOp kernel) {
  if (op.getNumLoops() == 0 ||
      op.getIteratorTypesArray().front() != utils::IteratorType::parallel)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto arg = dyn_cast<BlockArgument>(operand.get());
    if (!arg || arg.getOwner() != &kernel.getBody().front())
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [pos, expr] : llvm::enumerate(map.getResults()))
      if (auto dim = dyn_cast<AffineDimExpr>(expr); dim && dim.getPosition() == 0)
        return std::pair<int64_t, int64_t>(arg.getArgNumber(), pos);
  }
  return std::nullopt;
}

/// Restricts dimension 0 of `loop` to the block of workgroup `id` out of
/// `count`: [lb + id*chunk*step, min(ub, lb + (id+1)*chunk*step)).
void restrictToBlock(OpBuilder &b, scf::ParallelOp loop, Value id,
                     Value count) {
  Location loc = loop.getLoc();
  b.setInsertionPoint(loop);
  Value lb = loop.getLowerBound()[0], ub = loop.getUpperBound()[0],
        step = loop.getStep()[0];
  Value trips = arith::CeilDivUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, ub, lb), step);
  Value chunk = arith::CeilDivUIOp::create(b, loc, trips, count);
  Value span = arith::MulIOp::create(b, loc, chunk, step);
  Value start = arith::AddIOp::create(
      b, loc, lb, arith::MulIOp::create(b, loc, id, span));
  Value end = arith::MinUIOp::create(
      b, loc, ub, arith::AddIOp::create(b, loc, start, span));
  // Blocks past the end are empty: start >= end.
  start = arith::MinUIOp::create(b, loc, start, end);
  loop.getLowerBoundMutable().slice(0, 1).assign(start);
  loop.getUpperBoundMutable().slice(0, 1).assign(end);
}

LogicalResult distribute(func::FuncOp kernel) {
  Block &body = kernel.getBody().front();
  Location loc = kernel.getLoc();
  OpBuilder b(kernel.getContext());
  IndexType index = b.getIndexType();
  unsigned first = kernel.getNumArguments();
  if (failed(kernel.insertArgument(first, index, {}, loc)) ||
      failed(kernel.insertArgument(first + 1, index, {}, loc)))
    return failure();
  Value id = kernel.getArgument(first), count = kernel.getArgument(first + 1);

  IRRewriter rewriter(kernel.getContext());
  for (auto copy : llvm::make_early_inc_range(body.getOps<memref::CopyOp>())) {
    rewriter.setInsertionPoint(copy);
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                copy.getTarget());
  }
  SmallVector<linalg::LinalgOp> ops(body.getOps<linalg::LinalgOp>());
  if (ops.size() != 1)
    return kernel.emitOpError("expects exactly one compute op per kernel, "
                              "found ")
           << ops.size();
  linalg::LinalgOp op = ops.front();
  std::optional<std::pair<int64_t, int64_t>> extent =
      distributedExtent(op, kernel);

  rewriter.setInsertionPoint(op);
  FailureOr<linalg::LinalgLoops> loops =
      linalg::linalgOpToParallelLoops(rewriter, op);
  if (failed(loops))
    return op.emitOpError("cannot be turned into loops");
  rewriter.eraseOp(op);

  auto parallel = loops->empty() ? scf::ParallelOp()
                                 : dyn_cast<scf::ParallelOp>(loops->front());
  if (extent && parallel) {
    restrictToBlock(b, parallel, id, count);
  } else {
    // No parallel dimension: workgroup 0 does all the work.
    b.setInsertionPointToStart(&body);
    Value isFirst = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, id,
        arith::ConstantIndexOp::create(b, loc, 0));
    auto guard = scf::IfOp::create(b, loc, isFirst, /*withElse=*/false);
    Operation *terminator = body.getTerminator();
    for (Operation &inner : llvm::make_early_inc_range(body))
      if (&inner != guard && &inner != terminator &&
          !inner.isBeforeInBlock(guard))
        inner.moveBefore(guard.thenBlock()->getTerminator());
    extent.reset();
  }
  if (extent)
    kernel->setAttr(kExtentAttr,
                    b.getDenseI64ArrayAttr({extent->first, extent->second}));
  return success();
}

struct DistributeWorkgroupsPass
    : impl::DistributeWorkgroupsPassBase<DistributeWorkgroupsPass> {
  using DistributeWorkgroupsPassBase::DistributeWorkgroupsPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto kernel : module.getOps<func::FuncOp>())
      if (kernel->hasAttr(kDispatchAttr) && failed(distribute(kernel)))
        return signalPassFailure();
    if (hostWorkgroups < 1) {
      module.emitError("host-workgroups must be >= 1");
      return signalPassFailure();
    }
    // The host runs workgroups 0..N-1 in sequence; the runtime's executor
    // replaces this loop with a parallel dispatch.
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      auto kernel = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (kernel && kernel->hasAttr(kDispatchAttr) &&
          call.getNumOperands() + 2 == kernel.getNumArguments())
        calls.push_back(call);
    });
    for (func::CallOp call : calls) {
      OpBuilder b(call);
      Location loc = call.getLoc();
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value count = arith::ConstantIndexOp::create(b, loc, hostWorkgroups);
      auto loop = scf::ForOp::create(b, loc, zero, count, one);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      SmallVector<Value> operands(call.getOperands());
      operands.push_back(loop.getInductionVar());
      operands.push_back(count);
      func::CallOp::create(b, loc, call.getCallee(), TypeRange{}, operands);
      call.erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
