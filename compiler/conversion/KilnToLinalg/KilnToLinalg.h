//===- KilnToLinalg.h - Reference lowering of kiln to linalg ----*- C++ -*-===//
//
// The reference semantics of every kiln op, as linalg/tensor/arith/math on
// tensors: correct before fast. Optimizing lowerings of later stages are
// checked against what these produce. One pattern family per file.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_CONVERSION_KILNTOLINALG_KILNTOLINALG_H
#define KILN_COMPILER_CONVERSION_KILNTOLINALG_KILNTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {

/// linear, attention.
void populateDenseToLinalgPatterns(RewritePatternSet &patterns);
/// add, sub, mul, div, gelu, silu, modulate.
void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);
/// layer_norm, rms_norm, group_norm.
void populateNormToLinalgPatterns(RewritePatternSet &patterns);
/// rope_frequencies, rope, timestep_embedding, embedding.
void populatePositionToLinalgPatterns(RewritePatternSet &patterns);
/// relative_position_buckets, argmax, gather_tokens.
void populateTextEncoderToLinalgPatterns(RewritePatternSet &patterns);
/// conv2d, upsample, patchify, unpatchify.
void populateImageToLinalgPatterns(RewritePatternSet &patterns);
/// reshape, transpose.
void populateShapeToTensorPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateKilnToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::kiln

#endif // KILN_COMPILER_CONVERSION_KILNTOLINALG_KILNTOLINALG_H
