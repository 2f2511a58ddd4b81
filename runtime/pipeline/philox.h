// Philox4x64-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011): a counter-based generator, so the n-th block
// of a stream is computed directly, in any order or in parallel. The same
// function as numpy.random.Philox and Random123's philox4x64_10.
#ifndef KILN_RUNTIME_PIPELINE_PHILOX_H_
#define KILN_RUNTIME_PIPELINE_PHILOX_H_

#include <array>
#include <cstdint>

namespace kiln::pipeline {

using PhiloxCounter = std::array<uint64_t, 4>;
using PhiloxKey = std::array<uint64_t, 2>;

// Four pseudo-random 64-bit words for one counter value under one key.
std::array<uint64_t, 4> Philox4x64(PhiloxCounter counter, PhiloxKey key);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_PHILOX_H_
