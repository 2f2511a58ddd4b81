//===- MemoryPlanner.h - Liveness-based arena layout -------------*- C++ -*-===//
//
// Every intermediate buffer of an entry lives in one arena the runtime
// allocates per call size. Buffers whose lifetimes (first to last dispatch
// that touches them) do not overlap share a slot; a slot is as large as the
// largest buffer it holds, and slots lie one after another, 64-byte aligned.
// Sizes are expressions over the entry's dims, so "largest" is a Max the
// runtime evaluates; the planner only uses sample dim values to choose which
// free slot fits a buffer best.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_HOST_MEMORYPLANNER_H
#define KILN_COMPILER_TARGET_HOST_MEMORYPLANNER_H

#include "runtime/artifact/contents.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::kiln {

/// One intermediate buffer: its size in bytes and the first and last
/// dispatch (by index) that use it.
struct BufferLifetime {
  std::string name;
  ::kiln::artifact::Expression bytes;
  int64_t firstUse = 0;
  int64_t lastUse = 0;
};

/// The plan for `buffers` (in the same order). `sampleDims` gives each dim
/// a typical value, used only to compare sizes when choosing slots.
::kiln::artifact::MemoryPlan
planMemory(const std::vector<BufferLifetime> &buffers,
           const std::vector<int64_t> &sampleDims);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_HOST_MEMORYPLANNER_H
