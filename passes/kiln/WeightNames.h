//===- WeightNames.h - Parameters the compiler derives -----------*- C++ -*-===//
//
// kiln-quantize-fp8 adds, next to each FP8 weight, a parameter that no
// checkpoint has: its per-output-channel scales. Its name is the weight's
// plus this suffix ('#' appears in no PyTorch parameter name), and
// kiln-compile's writer computes it from the weight's checkpoint tensor.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_KILN_WEIGHTNAMES_H
#define KILN_PASSES_KILN_WEIGHTNAMES_H

#include "llvm/ADT/StringRef.h"

namespace mlir::kiln {

constexpr llvm::StringLiteral kFp8ScaleSuffix = "#e4m3_scale";

} // namespace mlir::kiln

#endif // KILN_PASSES_KILN_WEIGHTNAMES_H
