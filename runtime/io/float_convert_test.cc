#include "runtime/io/float_convert.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::io {
namespace {

TEST(FloatConvertTest, HalfValues) {
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);             // largest normal
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
  EXPECT_EQ(HalfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7e00)));
}

TEST(FloatConvertTest, BFloat16Values) {
  EXPECT_EQ(BFloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(BFloat16ToFloat(0xc040), -3.0f);
  EXPECT_EQ(BFloat16ToFloat(0x3e20), 0.15625f);
}

TEST(FloatConvertTest, ConvertsAnUnalignedTensor) {
  // bf16 1.0, -3.0 starting one byte into the buffer.
  const uint8_t bytes[] = {0, 0x80, 0x3f, 0x40, 0xc0};
  TensorView view{"w", DType::BF16, {2}, bytes + 1, 4};
  std::vector<float> out(2);
  ASSERT_TRUE(ConvertToF32(view, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out, (std::vector<float>{1.0f, -3.0f}));
}

TEST(FloatConvertTest, RejectsOtherDTypesAndSizes) {
  const int64_t value = 7;
  TensorView view{"ids", DType::I64, {1}, reinterpret_cast<const uint8_t*>(&value), 8};
  std::vector<float> out(1);
  absl::Status status = ConvertToF32(view, absl::MakeSpan(out));
  EXPECT_NE(status.message().find("tensor 'ids' is I64, expected F32, F16 or BF16"),
            std::string::npos) << status;
  std::vector<float> wrong(3);
  view.dtype = DType::F32;
  status = ConvertToF32(view, absl::MakeSpan(wrong));
  EXPECT_NE(status.message().find("1 elements do not fit an output of 3"),
            std::string::npos) << status;
}

// Round to nearest even, at the exact halfway points between neighbours.
TEST(FloatConvertTest, FloatToBFloat16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBFloat16(-2.0f), 0xc000);
  // 1 + 2^-8 is halfway between 1 (even) and 1 + 2^-7 (odd): down.
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up.
  EXPECT_EQ(FloatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  // Just above the halfway point: up.
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)),
            0x3f81);
  EXPECT_EQ(FloatToBFloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  // The largest finite f32 rounds up to infinity, as in PyTorch.
  EXPECT_EQ(FloatToBFloat16(std::numeric_limits<float>::max()), 0x7f80);
  const uint16_t nan = FloatToBFloat16(std::nanf(""));
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(nan)));
}

// Every e4m3 code round-trips (NaN stays NaN), rounding is to nearest even
// between neighbours, and values past 448 saturate.
TEST(FloatConvertTest, E4M3RoundTripsAndRounds) {
  for (int code = 0; code < 256; ++code) {
    const float value = E4M3ToFloat(static_cast<uint8_t>(code));
    if ((code & 0x7f) == 0x7f) {
      EXPECT_TRUE(std::isnan(value)) << code;
      continue;
    }
    // -0 and +0 are both zero; every other code maps back to itself.
    if (code == 0x80) continue;
    EXPECT_EQ(FloatToE4M3(value), code) << code << " " << value;
  }
  EXPECT_EQ(E4M3ToFloat(0x7e), 448.0f);
  EXPECT_EQ(E4M3ToFloat(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(E4M3ToFloat(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(E4M3ToFloat(0x38), 1.0f);
  // 1 + 1/16 is halfway between 1 (0x38, even) and 1.125 (0x39): down; 1 +
  // 3/16 between 1.125 (odd) and 1.25: up.
  EXPECT_EQ(FloatToE4M3(1.0625f), 0x38);
  EXPECT_EQ(FloatToE4M3(1.1875f), 0x3a);
  EXPECT_EQ(FloatToE4M3(-1.1f), 0xb9);
  EXPECT_EQ(FloatToE4M3(1000.0f), 0x7e);
  EXPECT_EQ(FloatToE4M3(-1e30f), 0xfe);
  EXPECT_EQ(FloatToE4M3(std::numeric_limits<float>::infinity()), 0x7e);
  EXPECT_EQ(FloatToE4M3(-std::numeric_limits<float>::infinity()), 0xfe);
  EXPECT_EQ(FloatToE4M3(std::ldexp(1.0f, -12)), 0x00);  // rounds to 0
}

TEST(FloatConvertTest, ConvertsToBFloat16) {
  const float values[] = {1.0f, 0.1f, -3.5f};
  TensorView view;
  view.name = "w";
  view.dtype = DType::F32;
  view.shape = {3};
  view.data = reinterpret_cast<const uint8_t*>(values);
  view.nbytes = sizeof values;
  std::vector<uint16_t> out(3);
  ASSERT_TRUE(ConvertToBF16(view, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out[0], 0x3f80);
  EXPECT_EQ(out[1], 0x3dcd);  // 0.1 = 0x3dcccccd -> 0x3dcd
  EXPECT_EQ(out[2], 0xc060);
  std::vector<uint16_t> wrong(2);
  EXPECT_FALSE(ConvertToBF16(view, absl::MakeSpan(wrong)).ok());
}

}  // namespace
}  // namespace kiln::io
