#include "runtime/pipeline/noise.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"
#include "runtime/pipeline/philox.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;
using testing::I64;
using testing::MaxUlpDistance;

// Tests Random123's known-answer vector for philox4x64_10 (counter 0,
// key 0).
TEST(PhiloxTest, KnownAnswer) {
  EXPECT_EQ(
      Philox4x64({0, 0, 0, 0}, {0, 0}),
      (std::array<uint64_t, 4>{0x16554d9eca36314cULL, 0xdb20fe9d672d0fdcULL,
                               0xd7e772cee186176bULL, 0x7e68b68aec7ba23bULL}));
}

// Tests 16 (key, counter) pairs against numpy.random.Philox, with carries
// across counter words and all-ones keys and counters.
TEST(PhiloxTest, MatchesNumpy) {
  auto file = testing::OpenCase("sampler", "philox4x64");
  ASSERT_NE(file, nullptr);
  const std::vector<int64_t> keys = I64(*file, "in.key");
  const std::vector<int64_t> counters = I64(*file, "in.counter");
  const std::vector<int64_t> blocks = I64(*file, "out.block");
  ASSERT_EQ(blocks.size(), 64u);
  for (size_t i = 0; i < 16; ++i) {
    PhiloxCounter counter;
    for (int w = 0; w < 4; ++w) counter[w] = counters[4 * i + w];
    const auto block =
        Philox4x64(counter, {static_cast<uint64_t>(keys[2 * i]),
                             static_cast<uint64_t>(keys[2 * i + 1])});
    for (int w = 0; w < 4; ++w) {
      EXPECT_EQ(block[w], static_cast<uint64_t>(blocks[4 * i + w])) << i;
    }
  }
}

// Tests the noise definition in noise.h against its float64 numpy
// rendering; exact unless the two C libraries' log/cos/sin differ.
TEST(NoiseTest, MatchesReferenceValues) {
  for (const char* name : {"noise_seed42_stream0", "noise_seed42_stream1",
                           "noise_seed7_stream0"}) {
    SCOPED_TRACE(name);
    auto file = testing::OpenCase("sampler", name);
    ASSERT_NE(file, nullptr);
    const std::vector<float> expected = F32(*file, "out.noise");
    std::vector<float> noise(expected.size());
    FillGaussianNoise(std::stoull(testing::Metadata(*file, "seed")),
                      std::stoull(testing::Metadata(*file, "stream")), 0,
                      absl::MakeSpan(noise));
    // 0 with glibc and numpy 2.4.6 on x86-64; 1 allows for another libm.
    const int64_t ulps = MaxUlpDistance(noise, expected);
    EXPECT_LE(ulps, 1);
    RecordProperty(std::string("max_ulp_") + name, static_cast<int>(ulps));
  }
}

// Tests that a window starting mid-block equals the same slice of the
// stream, and that streams and seeds differ.
TEST(NoiseTest, IsCounterBased) {
  std::vector<float> all(40), window(29);
  FillGaussianNoise(9, 0, 0, absl::MakeSpan(all));
  FillGaussianNoise(9, 0, 7, absl::MakeSpan(window));
  EXPECT_EQ(window, std::vector<float>(all.begin() + 7, all.begin() + 36));
  std::vector<float> other_stream(40), other_seed(40);
  FillGaussianNoise(9, 1, 0, absl::MakeSpan(other_stream));
  FillGaussianNoise(10, 0, 0, absl::MakeSpan(other_seed));
  EXPECT_NE(all, other_stream);
  EXPECT_NE(all, other_seed);
}

// Tests image b of a batch is stream b: a batch-3 request holds the batch-1
// image first.
TEST(NoiseTest, BatchElementsAreStreams) {
  auto one = InitialLatentNoise(5, LatentShape{1, 4, 4, 6});
  auto three = InitialLatentNoise(5, LatentShape{3, 4, 4, 6});
  ASSERT_TRUE(one.ok() && three.ok());
  EXPECT_EQ(*one, std::vector<float>(three->begin(), three->begin() + 96));
  std::vector<float> stream2(96);
  FillGaussianNoise(5, 2, 0, absl::MakeSpan(stream2));
  EXPECT_EQ(stream2, std::vector<float>(three->begin() + 192, three->end()));
  EXPECT_TRUE(IsErrorWith(InitialLatentNoise(5, LatentShape{1, 4, 3, 6}),
                          "latent shape [1, 4, 3, 6]"));
}

// Tests the moments over 2^18 values: mean 0 and variance 1 within 5
// standard errors.
TEST(NoiseTest, IsStandardNormal) {
  std::vector<float> noise(1 << 18);
  FillGaussianNoise(1234, 0, 0, absl::MakeSpan(noise));
  double sum = 0, sum_sq = 0;
  for (float v : noise) {
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(noise.size());
  const double mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sum_sq / n - mean * mean, 1.0, 5.0 * std::sqrt(2.0 / n));
}

}  // namespace
}  // namespace kiln::pipeline
