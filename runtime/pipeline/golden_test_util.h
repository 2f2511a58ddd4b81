// Test-only: reading the golden cases of test/goldens/cases/ and comparing
// float32 results with them in ulps. Include only from *_test.cc.
#ifndef KILN_RUNTIME_PIPELINE_GOLDEN_TEST_UTIL_H_
#define KILN_RUNTIME_PIPELINE_GOLDEN_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "runtime/io/safetensors.h"

namespace kiln::pipeline::testing {

// KILN_GOLDENS_DIR/<relative>, e.g. "cases/sampler/vae_scaling.safetensors".
inline std::string GoldenPath(const std::string& relative) {
  return std::string(KILN_GOLDENS_DIR) + "/" + relative;
}

// Opens a case file; a failure fails the test and returns nullptr.
inline std::unique_ptr<io::SafetensorsFile> OpenCase(const std::string& dir,
                                                     const std::string& name) {
  auto file = io::SafetensorsFile::Open(
      GoldenPath("cases/" + dir + "/" + name + ".safetensors"));
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? std::move(*file) : nullptr;
}

// The values of tensor `name` of `dtype` (copied: safetensors data need not
// be aligned). A missing tensor or another dtype fails the test.
template <typename T>
std::vector<T> Values(const io::SafetensorsFile& file, const std::string& name,
                      io::DType dtype) {
  auto view = file.Get(name);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return {};
  EXPECT_EQ((*view)->dtype, dtype) << name;
  if ((*view)->dtype != dtype) return {};
  std::vector<T> out((*view)->nbytes / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), (*view)->data, (*view)->nbytes);
  return out;
}
inline std::vector<float> F32(const io::SafetensorsFile& f,
                              const std::string& n) {
  return Values<float>(f, n, io::DType::F32);
}
inline std::vector<int64_t> I64(const io::SafetensorsFile& f,
                                const std::string& n) {
  return Values<int64_t>(f, n, io::DType::I64);
}

inline std::vector<int64_t> Shape(const io::SafetensorsFile& file,
                                  const std::string& name) {
  auto view = file.Get(name);
  return view.ok() ? (*view)->shape : std::vector<int64_t>{};
}

inline std::string Metadata(const io::SafetensorsFile& file,
                            const std::string& key) {
  auto it = file.metadata().find(key);
  EXPECT_NE(it, file.metadata().end()) << "no metadata '" << key << "'";
  return it == file.metadata().end() ? "" : it->second;
}

// A metadata value written with Python's repr(float): parsed exactly.
inline double MetadataDouble(const io::SafetensorsFile& file,
                             const std::string& key) {
  double value = std::nan("");
  EXPECT_TRUE(absl::SimpleAtod(Metadata(file, key), &value)) << key;
  return value;
}

// The distance in representable float32 values (0: bit-identical, 0 and
// -0 count as equal); huge for a NaN or a sign difference.
inline int64_t UlpDistance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return INT64_MAX;
  auto ordered = [](float v) {
    int32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return bits < 0 ? -static_cast<int64_t>(bits & 0x7FFFFFFF)
                    : static_cast<int64_t>(bits);
  };
  return std::llabs(ordered(a) - ordered(b));
}

// The largest ulp distance between two equally long vectors (a size
// mismatch fails the test).
inline int64_t MaxUlpDistance(const std::vector<float>& actual,
                              const std::vector<float>& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  int64_t worst = 0;
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    worst = std::max(worst, UlpDistance(actual[i], expected[i]));
  }
  return worst;
}

}  // namespace kiln::pipeline::testing

#endif  // KILN_RUNTIME_PIPELINE_GOLDEN_TEST_UTIL_H_
