// Tests of planMemory: buffers whose lifetimes overlap never share bytes,
// and large buffers are grouped into as few slots as their lifetimes allow.

#include "compiler/target/host/MemoryPlanner.h"

#include "compiler/target/host/ExpressionMath.h"

#include <gtest/gtest.h>

namespace mlir::kiln {
namespace {

using ::kiln::artifact::EvaluateExpression;
using ::kiln::artifact::MemoryPlan;

int64_t Eval(const ::kiln::artifact::Expression &e) {
  auto value = EvaluateExpression(e, {});
  EXPECT_TRUE(value.ok());
  return value.ok() ? *value : -1;
}

BufferLifetime Buffer(const char *name, int64_t bytes, int64_t first,
                      int64_t last) {
  return BufferLifetime{name, expr::constant(bytes), first, last};
}

// A small buffer alive while the first large one is dead must not take the
// large one's bytes from the second large buffer: first-use order did.
TEST(MemoryPlannerTest, LargeBuffersShareOneSlotAroundSmallOnes) {
  std::vector<BufferLifetime> buffers = {
      Buffer("big_a", 1 << 20, 0, 1),
      Buffer("small", 64, 2, 5),
      Buffer("big_b", 1 << 20, 3, 4),
  };
  MemoryPlan plan = planMemory(buffers, {});
  ASSERT_EQ(plan.buffers.size(), 3u);
  EXPECT_EQ(Eval(plan.buffers[0].offset), Eval(plan.buffers[2].offset));
  EXPECT_EQ(Eval(plan.arena_size), (1 << 20) + 64);
}

// Every pair of buffers with overlapping lifetimes gets disjoint bytes, and
// the arena holds every buffer.
TEST(MemoryPlannerTest, OverlappingLifetimesNeverShareBytes) {
  std::vector<BufferLifetime> buffers;
  for (int i = 0; i < 40; ++i) {
    int64_t first = (i * 7) % 23, length = 1 + (i * 5) % 9;
    buffers.push_back(
        Buffer("b", 64 * (1 + (i * 13) % 17), first, first + length));
  }
  MemoryPlan plan = planMemory(buffers, {});
  const int64_t arena = Eval(plan.arena_size);
  for (size_t i = 0; i < buffers.size(); ++i) {
    const int64_t oi = Eval(plan.buffers[i].offset),
                  si = Eval(buffers[i].bytes);
    EXPECT_LE(oi + si, arena);
    EXPECT_EQ(oi % 64, 0);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const bool overlapInTime = buffers[i].firstUse <= buffers[j].lastUse &&
                                 buffers[j].firstUse <= buffers[i].lastUse;
      if (!overlapInTime)
        continue;
      const int64_t oj = Eval(plan.buffers[j].offset),
                    sj = Eval(buffers[j].bytes);
      EXPECT_TRUE(oi + si <= oj || oj + sj <= oi)
          << "buffers " << i << " and " << j << " overlap";
    }
  }
}

} // namespace
} // namespace mlir::kiln
