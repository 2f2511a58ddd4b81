//===- ModelLimits.h - User limits to the ranges of input sizes -*- C++ -*-===//
//
// An artifact is compiled for a range of every dynamic input size, and the
// runtime refuses calls outside it with a message naming the limit. Users
// think in images and prompts, not in dims: this maps
// --max-image-size / --max-references / --max-batch / --max-text-tokens to
// the dims the FLUX importers create ("denoise.hidden_states[1]" is the
// image tokens of the target plus every reference).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_PIPELINE_MODELLIMITS_H
#define KILN_COMPILER_PIPELINE_MODELLIMITS_H

#include "llvm/ADT/StringMap.h"

#include <cstdint>
#include <string>

namespace mlir::kiln {

struct ModelLimits {
  int64_t maxImageSize = 2048;  // pixels, each side
  int64_t maxReferences = 4;    // reference images besides the target
  int64_t maxBatch = 4;         // images per call
  int64_t maxTextTokens = 512;  // T5 sequence length
};

/// The largest value of each known dim; `vaeDownsampling` is the VAE's
/// pixels per latent (2^(blocks - 1); 8 for FLUX.1).
llvm::StringMap<int64_t> dimLimitsFor(const ModelLimits &limits,
                                      int64_t vaeDownsampling);

/// The limits as the JSON object the runtime reads from the artifact's
/// "kiln/limits.json" ({"max_image_size": 2048, ...}).
std::string limitsJson(const ModelLimits &limits);

/// The VAE's pixels per latent from `<modelDir>/vae/config.json`
/// (block_out_channels), or 8 when the folder has no VAE.
int64_t vaeDownsamplingOf(const std::string &modelDir);

} // namespace mlir::kiln

#endif // KILN_COMPILER_PIPELINE_MODELLIMITS_H
