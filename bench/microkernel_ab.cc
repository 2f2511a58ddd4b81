// Interleaved A/B of the packed linears' 6x16 micro-kernel (the one
// kiln-cpu-vectorize-contractions emits) on data that stays in L1/L2, so
// that only the kernel and the layout of A are measured, against a plain
// FMA loop of the same FLOP count for this core's peak.
//
//   g++ -O3 -march=native -std=c++17 bench/microkernel_ab.cc -o build/bench/microkernel_ab
//   build/bench/microkernel_ab [LDA ...]     # default: 256 1536 6144
//
// Each LDA is a layout of A with its 6 rows LDA floats apart (the strided
// rows the kernel reads today: LDA = K of the linear); "packed" is A as
// contiguous micro-panels [k][6]. This VM's speed drifts by 10-20 % within
// seconds, so the variants run in turns, a few milliseconds each, 300
// times, in one process; the order flips every turn. Single-threaded.
// Not part of the build or the tests.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kBlockK = 256;   // the kernel's k block
constexpr int kRows = 96;      // one m block: 16 tiles of 6 rows
constexpr int kColumns = 128;  // one n block: 8 panels of 16
constexpr int kTurns = 300, kBlocksPerTurn = 4;

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// C[6][16] += A * panel over one k block; row i of A at a + i * row_stride,
// consecutive k at a + k * k_stride.
__attribute__((noinline)) void Tile(const float* a, long row_stride,
                                    long k_stride, const float* panel,
                                    float* c, long ldc) {
  __m256 acc[6][2];
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 2; ++j) acc[i][j] = _mm256_loadu_ps(c + i * ldc + 8 * j);
  // Unrolled by 4 like the emitted kernel (kPackUnrollK).
#pragma GCC unroll 4
  for (int k = 0; k < kBlockK; ++k) {
    __m256 b0 = _mm256_load_ps(panel + k * 16);
    __m256 b1 = _mm256_load_ps(panel + k * 16 + 8);
    for (int i = 0; i < 6; ++i) {
      __m256 x = _mm256_broadcast_ss(a + i * row_stride + k * k_stride);
      acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 2; ++j) _mm256_storeu_ps(c + i * ldc + 8 * j, acc[i][j]);
}

// 12 independent FMA chains (enough for 2 pipes of latency 4).
__attribute__((noinline)) void FmaLoop(long iterations, float* sink) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.999999f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  for (int i = 0; i < 12; ++i) sink[i] = acc[i][0];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> strides;
  for (int i = 1; i < argc; ++i) strides.push_back(std::atol(argv[i]));
  if (strides.empty()) strides = {256, 1536, 6144};
  for (long s : strides) {
    if (s < kBlockK) {
      std::fprintf(stderr, "LDA %ld: expected at least %d\n", s, kBlockK);
      return 2;
    }
  }
  const long max_stride = *std::max_element(strides.begin(), strides.end());
  auto alloc = [](size_t floats) {
    auto* p = static_cast<float*>(std::aligned_alloc(64, floats * 4));
    std::memset(p, 0, floats * 4);
    return p;
  };
  float* a = alloc(kRows * max_stride);
  float* packed = alloc(kRows * kBlockK);
  float* panels = alloc(kColumns * kBlockK);
  float* c = alloc(kRows * kColumns);
  float sink[12];

  // Variants: each stride, then packed, then the FMA loop.
  const size_t variants = strides.size() + 2;
  std::vector<double> seconds(variants, 0);
  auto run = [&](size_t v) {
    const double start = Now();
    if (v + 1 == variants) {
      // The same FLOPs as kBlocksPerTurn m x n blocks: 16 per FMA.
      FmaLoop(long{kBlocksPerTurn} * kRows * kColumns * kBlockK * 2 / (12 * 16),
              sink);
    } else {
      for (int it = 0; it < kBlocksPerTurn; ++it)
        for (int p = 0; p < kColumns / 16; ++p)
          for (int m = 0; m < kRows; m += 6) {
            const float* panel = panels + p * kBlockK * 16;
            float* tile_c = c + m * kColumns + 16 * p;
            if (v < strides.size()) {
              Tile(a + m * strides[v], strides[v], 1, panel, tile_c, kColumns);
            } else {
              Tile(packed + m * kBlockK, 1, 6, panel, tile_c, kColumns);
            }
          }
    }
    seconds[v] += Now() - start;
  };
  for (int turn = 0; turn < kTurns; ++turn)
    for (size_t i = 0; i < variants; ++i) run(turn % 2 ? variants - 1 - i : i);

  const double flop =
      double{kTurns} * kBlocksPerTurn * kRows * kColumns * kBlockK * 2;
  for (size_t v = 0; v < strides.size(); ++v)
    std::printf("A rows %ld floats apart: %.1f GFLOP/s\n", strides[v],
                flop / seconds[v] * 1e-9);
  std::printf("A packed [k][6]:          %.1f GFLOP/s\n",
              flop / seconds[variants - 2] * 1e-9);
  std::printf("FMA loop (peak):          %.1f GFLOP/s\n",
              flop / seconds[variants - 1] * 1e-9);
  std::printf("{\"turns\": %d, \"sink\": %g}\n", kTurns, sink[0]);
}
