// Widening of 16-bit floats to f32: checkpoints store bf16 or f16, while the
// CPU target computes (and stores its parameters) in f32.
#ifndef KILN_RUNTIME_IO_FLOAT_CONVERT_H_
#define KILN_RUNTIME_IO_FLOAT_CONVERT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/io/safetensors.h"

namespace kiln::io {

// IEEE binary16 to binary32, exactly (subnormals, infinities, NaN kept).
float HalfToFloat(uint16_t bits);

// bfloat16 to binary32: the same bits in the upper half, exactly.
float BFloat16ToFloat(uint16_t bits);

// Writes `view`'s elements as f32 to `out` (numel elements). F32, F16 and
// BF16 only; InvalidArgument naming the tensor for other dtypes or when
// `out` has the wrong size.
absl::Status ConvertToF32(const TensorView& view, absl::Span<float> out);

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_FLOAT_CONVERT_H_
