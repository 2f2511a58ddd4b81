//===- FlashAttentionLoops.h - kiln.flash_attention as scalar loops -*- C++ -*-===//
//
// The reference lowering of kiln.flash_attention on memrefs, one (batch,
// query, head) row at a time: the keys in order, a running maximum and sum
// of exponentials, the output row rescaled whenever the maximum grows
// (FlashAttention's online softmax, scalar). Hosts that run the module
// themselves (the JIT) use the whole-op form; the CUDA target gives each
// thread one row; the CPU target's vectorized kernel is checked against it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DISPATCH_FLASHATTENTIONLOOPS_H
#define KILN_COMPILER_DISPATCH_FLASHATTENTIONLOOPS_H

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {

/// Emits at `b`'s insertion point the computation of out[batch, query, head,
/// :] for the memref form of `op`.
void emitFlashAttentionRow(OpBuilder &b, Location loc, FlashAttentionOp op,
                           Value batch, Value query, Value head);

/// Replaces the memref form of `op` by loops over its rows around
/// emitFlashAttentionRow.
void lowerFlashAttentionToLoops(RewriterBase &rewriter, FlashAttentionOp op);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DISPATCH_FLASHATTENTIONLOOPS_H
