#include "runtime/pipeline/philox.h"

namespace kiln::pipeline {
namespace {

// The multipliers and Weyl key increments of the paper's Philox4x64.
constexpr uint64_t kMultiplier0 = 0xD2E7470EE14C6C93ULL;
constexpr uint64_t kMultiplier1 = 0xCA5A826395121157ULL;
constexpr uint64_t kWeyl0 = 0x9E3779B97F4A7C15ULL;  // golden ratio
constexpr uint64_t kWeyl1 = 0xBB67AE8584CAA73BULL;  // sqrt(3) - 1
constexpr int kRounds = 10;

// The 128-bit product a * b as (high, low) words, from 32-bit halves so it
// needs no compiler extension.
void MulHiLo(uint64_t a, uint64_t b, uint64_t* hi, uint64_t* lo) {
  const uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32;
  const uint64_t b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
  const uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi;
  const uint64_t hl = a_hi * b_lo, hh = a_hi * b_hi;
  const uint64_t middle = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
  *lo = (middle << 32) | (ll & 0xFFFFFFFFu);
  *hi = hh + (lh >> 32) + (hl >> 32) + (middle >> 32);
}

}  // namespace

std::array<uint64_t, 4> Philox4x64(PhiloxCounter x, PhiloxKey key) {
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    uint64_t hi0, lo0, hi1, lo1;
    MulHiLo(kMultiplier0, x[0], &hi0, &lo0);
    MulHiLo(kMultiplier1, x[2], &hi1, &lo1);
    x = {hi1 ^ x[1] ^ key[0], lo1, hi0 ^ x[3] ^ key[1], lo0};
  }
  return x;
}

}  // namespace kiln::pipeline
