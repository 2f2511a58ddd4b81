#include "runtime/io/dtype.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::io {
namespace {

struct Expected {
  DType dtype;
  const char* name;
  size_t size;
};

const std::vector<Expected>& AllDTypes() {
  static const auto* all = new std::vector<Expected>{
      {DType::F32, "F32", 4},   {DType::F16, "F16", 2},
      {DType::BF16, "BF16", 2}, {DType::F8_E4M3, "F8_E4M3", 1},
      {DType::F64, "F64", 8},   {DType::I64, "I64", 8},
      {DType::I32, "I32", 4},   {DType::I8, "I8", 1},
      {DType::U8, "U8", 1},     {DType::BOOL, "BOOL", 1},
  };
  return *all;
}

// Tests that every dtype has its safetensors name and size, and parses back.
TEST(DTypeTest, NamesSizesAndParsing) {
  for (const Expected& e : AllDTypes()) {
    EXPECT_STREQ(DTypeName(e.dtype), e.name);
    EXPECT_EQ(DTypeSize(e.dtype), e.size) << e.name;
    EXPECT_EQ(DTypeFromName(e.name), e.dtype) << e.name;
    EXPECT_NE(SupportedDTypeNames().find(e.name), std::string::npos) << e.name;
  }
}

// Tests that names are matched exactly and other safetensors dtypes are not
// accepted.
TEST(DTypeTest, RejectsOtherNames) {
  for (const char* name : {"f32", "F8_E5M2", "I16", "U32", "float32", ""})
    EXPECT_EQ(DTypeFromName(name), std::nullopt) << name;
}

// Tests that a dtype prints as its name (gtest and logs use operator<<).
TEST(DTypeTest, PrintsName) {
  std::ostringstream os;
  os << DType::BF16 << " " << DType::F8_E4M3;
  EXPECT_EQ(os.str(), "BF16 F8_E4M3");
}

}  // namespace
}  // namespace kiln::io
