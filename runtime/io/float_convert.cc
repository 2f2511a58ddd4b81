#include "runtime/io/float_convert.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::io {

static float FromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    if (mantissa == 0) return FromBits(sign);
    // Subnormal: normalize, since every f16 subnormal is an f32 normal.
    exponent = 127 - 15 + 1;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    return FromBits(sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13));
  }
  if (exponent == 31) return FromBits(sign | 0x7f800000u | (mantissa << 13));
  return FromBits(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

float BFloat16ToFloat(uint16_t bits) { return FromBits(uint32_t{bits} << 16); }

uint16_t FloatToBFloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  // Round to nearest even: add 0x7fff plus the lowest kept bit, truncate.
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

uint8_t FloatToE4M3(float value) {
  const uint8_t sign = std::signbit(value) ? 0x80 : 0;
  if (std::isnan(value)) return sign | 0x7f;
  const float a = std::fabs(value);
  if (std::isinf(a)) return sign | 0x7e;  // saturate, as every value past 464
  if (a < std::ldexp(1.0f, -6)) {
    // Subnormals, m * 2^-9; m == 8 is the smallest normal, code 0x08.
    return sign | static_cast<uint8_t>(std::nearbyint(a * 512.0f));
  }
  int exponent;
  const float fraction = std::frexp(a, &exponent);  // a = fraction * 2^exponent
  int e = exponent - 1;                              // a = (2 fraction) 2^e
  int m = static_cast<int>(std::nearbyint((2 * fraction - 1) * 8));
  if (m == 8) {
    m = 0;
    ++e;
  }
  if (e > 8 || (e == 8 && m == 7)) return sign | 0x7e;  // saturate to 448
  return sign | static_cast<uint8_t>(((e + 7) << 3) | m);
}

float E4M3ToFloat(uint8_t bits) {
  const float sign = (bits & 0x80) ? -1.0f : 1.0f;
  const int e = (bits >> 3) & 0xf, m = bits & 7;
  if (e == 0xf && m == 7) return std::nanf("");
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -9);
  return sign * std::ldexp(1.0f + m / 8.0f, e - 7);
}

absl::Status ConvertToBF16(const TensorView& view, absl::Span<uint16_t> out) {
  const int64_t n = view.numel();
  if (view.dtype == DType::BF16 && static_cast<int64_t>(out.size()) == n) {
    if (n > 0) std::memcpy(out.data(), view.data, 2 * n);
    return absl::OkStatus();
  }
  // Through f32 (exact for F16 and F32), then one rounding.
  std::vector<float> widened(n);
  if (static_cast<int64_t>(out.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", view.name, "': ", n,
                     " elements do not fit an output of ", out.size()));
  }
  KILN_RETURN_IF_ERROR(ConvertToF32(view, absl::MakeSpan(widened)));
  for (int64_t i = 0; i < n; ++i) out[i] = FloatToBFloat16(widened[i]);
  return absl::OkStatus();
}

absl::Status ConvertToF32(const TensorView& view, absl::Span<float> out) {
  const int64_t n = view.numel();
  if (static_cast<int64_t>(out.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", view.name, "': ", n,
                     " elements do not fit an output of ", out.size()));
  }
  // Safetensors data is only byte-aligned: read each element by memcpy.
  auto half = [&](int64_t i) {
    uint16_t bits;
    std::memcpy(&bits, view.data + 2 * i, 2);
    return bits;
  };
  switch (view.dtype) {
    case DType::F32:
      if (n > 0) std::memcpy(out.data(), view.data, 4 * n);
      return absl::OkStatus();
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) out[i] = HalfToFloat(half(i));
      return absl::OkStatus();
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) out[i] = BFloat16ToFloat(half(i));
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", view.name, "' is ", DTypeName(view.dtype),
                       ", expected F32, F16 or BF16"));
  }
}

}  // namespace kiln::io
