// Conversions between checkpoint dtypes and the artifact's: checkpoints
// store bf16, f16 or f32; the artifact stores parameters as f32 or, for
// weights the kernels widen themselves (kiln-compile --weights=bf16), bf16.
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

// binary32 to bfloat16, rounded to nearest even (as PyTorch's
// tensor.to(torch.bfloat16)); NaN stays a quiet NaN of the same sign.
uint16_t FloatToBFloat16(float value);

// OCP FP8 E4M3 ("e4m3fn": 1 sign, 4 exponent bits biased by 7, 3 mantissa
// bits, no infinities, NaN = S.1111.111, largest finite 448). FloatToE4M3
// rounds to nearest even and saturates to +-448 (as the FP8 FLUX recipes
// do after scaling); NaN stays NaN.
uint8_t FloatToE4M3(float value);
float E4M3ToFloat(uint8_t bits);

// Writes `view`'s elements as bfloat16 bits to `out` (numel elements): BF16
// copied, F32 and F16 rounded by FloatToBFloat16. InvalidArgument as
// ConvertToF32.
absl::Status ConvertToBF16(const TensorView& view, absl::Span<uint16_t> out);

// Writes `view`'s elements as f32 to `out` (numel elements). F32, F16 and
// BF16 only; InvalidArgument naming the tensor for other dtypes or when
// `out` has the wrong size.
absl::Status ConvertToF32(const TensorView& view, absl::Span<float> out);

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_FLOAT_CONVERT_H_
