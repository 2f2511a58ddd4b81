//===- DistributeWorkgroups.cpp - Block distribution over workgroups ------===//

#include "compiler/dispatch/ContractionLike.h"
#include "compiler/dispatch/FlashAttentionLoops.h"
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

/// The (kernel argument, dimension) whose size is loop `loop`'s trip count:
/// the first kernel argument that indexes a dimension by d<loop> alone.
std::optional<std::pair<int64_t, int64_t>>
extentOf(linalg::LinalgOp op, func::FuncOp kernel, unsigned loop) {
  for (OpOperand &operand : op->getOpOperands()) {
    auto arg = dyn_cast<BlockArgument>(operand.get());
    if (!arg || arg.getOwner() != &kernel.getBody().front())
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [pos, expr] : llvm::enumerate(map.getResults()))
      if (auto dim = dyn_cast<AffineDimExpr>(expr);
          dim && dim.getPosition() == loop)
        return std::pair<int64_t, int64_t>(arg.getArgNumber(), pos);
  }
  return std::nullopt;
}

/// Whether every operand uses loop `loop` only as a whole dimension
/// (`d<loop>` alone, never inside `d0 + d1` or similar), so that restricting
/// the loop is restricting those dimensions with subviews.
bool isSliceable(linalg::LinalgOp op, unsigned loop) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    for (AffineExpr expr : op.getMatchingIndexingMap(&operand).getResults())
      if (expr.isFunctionOfDim(loop) && !isa<AffineDimExpr>(expr))
        return false;
  }
  return true;
}

/// Whether loop `loop` is the output's innermost (contiguous) dimension:
/// its blocks are rounded to 16 elements (whole vectors and register tiles
/// for the CPU code generator, no cache line written by two threads).
int64_t granuleOf(linalg::LinalgOp op, unsigned loop) {
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (map.getNumResults() > 0)
    if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
        dim && dim.getPosition() == loop)
      return 16;
  return 1;
}

/// The loop to split over workgroups. The outermost parallel loop is often
/// the batch (1 at run time), which leaves one workgroup and one thread, so
/// the choice is the parallel loop with the most static blocks (the output
/// features of a linear, the channels of an elementwise op): static extents
/// are the model's sizes and stay large. When no static loop has at least 4
/// blocks, the innermost dynamic parallel loop (tokens rather than batch).
/// Only loops that some kernel argument states the size of and that subviews
/// can restrict qualify.
std::optional<unsigned> chooseLoop(linalg::LinalgOp op, func::FuncOp kernel) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  std::optional<unsigned> best, dynamicBest;
  int64_t bestBlocks = 0;
  for (unsigned loop = 0; loop < iterators.size(); ++loop) {
    if (iterators[loop] != utils::IteratorType::parallel ||
        !extentOf(op, kernel, loop) || !isSliceable(op, loop))
      continue;
    if (ShapedType::isDynamic(ranges[loop])) {
      dynamicBest = loop;
      continue;
    }
    int64_t blocks = llvm::divideCeil(ranges[loop], granuleOf(op, loop));
    if (ranges[loop] > 1 && blocks > bestBlocks) {
      best = loop;
      bestBlocks = blocks;
    }
  }
  if (dynamicBest && (!best || bestBlocks < 4))
    return dynamicBest;
  return best;
}

/// The granule of the workgroup blocks of `loop`. For the output features of
/// a contraction it is larger than granuleOf's 16: each workgroup streams the
/// whole of A (tokens x k) once per block of W it owns, so 64 blocks of 32
/// columns read A 48 times for a 1536-wide linear, from DRAM when A exceeds
/// the L3 (39 MB for proj_out's 7680-wide input). Blocks of 128 columns read
/// it 12 times (the CPU code generator's n blocks, kBlockN in
/// VectorizeContractions.cpp, are 128 too). The granule halves (down to 16)
/// while fewer than 8 blocks would remain for the threads.
int64_t blockGranuleOf(linalg::LinalgOp op, unsigned loop) {
  int64_t granule = granuleOf(op, loop);
  int64_t range = op.getStaticLoopRanges()[loop];
  if (granule == 1 || ShapedType::isDynamic(range) ||
      !isContractionLike(op))
    return granule;
  int64_t wide = 128;
  while (wide > granule && llvm::divideCeil(range, wide) < 8)
    wide /= 2;
  return wide;
}

/// Workgroup `id` of `count` gets [start, end) of loop `loop`, contiguous
/// blocks of ceil(trips / count) rounded up to a multiple of `granule`.
std::pair<Value, Value> blockOf(OpBuilder &b, Location loc, Value size,
                                Value id, Value count, int64_t granule) {
  Value chunk = arith::CeilDivUIOp::create(b, loc, size, count);
  if (granule > 1) {
    Value g = arith::ConstantIndexOp::create(b, loc, granule);
    chunk = arith::MulIOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, chunk, g), g);
  }
  Value end = arith::MinUIOp::create(
      b, loc, size,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, id, chunk), chunk));
  // Blocks past the end are empty: start == end.
  Value start =
      arith::MinUIOp::create(b, loc, arith::MulIOp::create(b, loc, id, chunk),
                             end);
  return {start, end};
}

/// Restricts loop `loop` of `op` to [start, end): every operand becomes a
/// subview of its block, and linalg.index ops are offset back to the full
/// iteration space. Returns the restricted op (the original is erased).
linalg::LinalgOp restrictLoop(RewriterBase &rewriter, linalg::LinalgOp op,
                              unsigned loop, Value start, Value end) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value extent = arith::SubIOp::create(rewriter, loc, end, start);
  SmallVector<Value> operands;
  for (OpOperand &operand : op->getOpOperands()) {
    Value value = operand.get();
    auto type = dyn_cast<MemRefType>(value.getType());
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!type || !map.isFunctionOfDim(loop)) {
      operands.push_back(value);
      continue;
    }
    SmallVector<OpFoldResult> offsets, sizes,
        strides(type.getRank(), rewriter.getIndexAttr(1));
    for (auto [pos, expr] : llvm::enumerate(map.getResults())) {
      if (expr.isFunctionOfDim(loop)) {
        offsets.push_back(start);
        sizes.push_back(extent);
      } else {
        offsets.push_back(rewriter.getIndexAttr(0));
        sizes.push_back(memref::getMixedSize(rewriter, loc, value, pos));
      }
    }
    operands.push_back(memref::SubViewOp::create(rewriter, loc, value, offsets,
                                                 sizes, strides));
  }
  Operation *restricted = clone(rewriter, op, TypeRange{}, operands);
  auto linalgOp = cast<linalg::LinalgOp>(restricted);
  SmallVector<OpFoldResult> indexOffsets(op.getNumLoops(),
                                         rewriter.getIndexAttr(0));
  indexOffsets[loop] = start;
  linalg::offsetIndices(rewriter, linalgOp, indexOffsets);
  rewriter.eraseOp(op);
  return linalgOp;
}

/// Attention splits its heads over the workgroups: each head is independent
/// and a whole (batch, head) keeps its keys and values in cache across the
/// query rows. Every operand but the mask has heads in dimension 2; the
/// mask in dimension 1, unless it broadcasts there (a static 1).
LogicalResult distributeAttention(func::FuncOp kernel, FlashAttentionOp op,
                                  Value id, Value count, bool lowerToLoops) {
  auto query = dyn_cast<BlockArgument>(op.getQuery());
  if (!query || query.getOwner() != &kernel.getBody().front())
    return op.emitOpError("expects the query to be a kernel argument");
  Location loc = op.getLoc();
  IRRewriter rewriter(op);
  Value heads = memref::DimOp::create(rewriter, loc, query, 2);
  auto [start, end] = blockOf(rewriter, loc, heads, id, count, 1);
  Value extent = arith::SubIOp::create(rewriter, loc, end, start);
  auto restrict = [&](Value value, unsigned dim) -> Value {
    // The mask broadcasts a static 1 over the heads: every workgroup reads
    // it whole.
    auto type = cast<MemRefType>(value.getType());
    if (value == op.getMask() && type.getDimSize(dim) == 1)
      return value;
    SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0)),
        strides(4, rewriter.getIndexAttr(1)), sizes;
    for (unsigned d = 0; d < 4; ++d)
      sizes.push_back(memref::getMixedSize(rewriter, loc, value, d));
    offsets[dim] = start;
    sizes[dim] = extent;
    return memref::SubViewOp::create(rewriter, loc, value, offsets, sizes,
                                      strides);
  };
  Value mask = op.getMask() ? restrict(op.getMask(), 1) : Value();
  auto restricted = FlashAttentionOp::create(
      rewriter, loc, TypeRange{}, restrict(op.getQuery(), 2),
      restrict(op.getKey(), 2), restrict(op.getValue(), 2),
      restrict(op.getInit(), 2), mask, op.getScaleAttr(), op.getCausalAttr());
  rewriter.eraseOp(op);
  if (lowerToLoops)
    lowerFlashAttentionToLoops(rewriter, restricted);
  kernel->setAttr(kExtentAttr, rewriter.getDenseI64ArrayAttr(
                                   {query.getArgNumber(), 2}));
  return success();
}

LogicalResult distribute(func::FuncOp kernel, bool lowerToLoops) {
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
  SmallVector<FlashAttentionOp> attentions(body.getOps<FlashAttentionOp>());
  SmallVector<linalg::LinalgOp> ops(body.getOps<linalg::LinalgOp>());
  if (attentions.size() == 1 && ops.empty())
    return distributeAttention(kernel, attentions.front(), id, count,
                               lowerToLoops);
  if (ops.size() + attentions.size() != 1)
    return kernel.emitOpError("expects exactly one compute op per kernel, "
                              "found ")
           << ops.size() + attentions.size();
  linalg::LinalgOp op = ops.front();
  std::optional<unsigned> loop = chooseLoop(op, kernel);
  std::optional<std::pair<int64_t, int64_t>> extent;
  if (loop) {
    extent = extentOf(op, kernel, *loop);
    b.setInsertionPoint(op);
    auto [arg, dim] = *extent;
    Value size = memref::DimOp::create(b, loc, kernel.getArgument(arg), dim);
    auto [start, end] = blockOf(b, loc, size, id, count, blockGranuleOf(op, *loop));
    op = restrictLoop(rewriter, op, *loop, start, end);
  }
  if (lowerToLoops || !loop) {
    rewriter.setInsertionPoint(op);
    if (failed(linalg::linalgOpToLoops(rewriter, op)))
      return op.emitOpError("cannot be turned into loops");
    rewriter.eraseOp(op);
  }
  if (!loop) {
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
      if (kernel->hasAttr(kDispatchAttr) && failed(distribute(kernel, lowerToLoops)))
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
