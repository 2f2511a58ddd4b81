//===- MemoryPlanner.cpp - Liveness-based arena layout --------------------===//

#include "compiler/target/host/MemoryPlanner.h"

#include "compiler/target/host/ExpressionMath.h"
#include "compiler/target/host/ExpressionPolynomial.h"

#include <algorithm>
#include <numeric>

#include "llvm/ADT/STLExtras.h"

namespace mlir::kiln {

using ::kiln::artifact::Expression;
using ::kiln::artifact::MemoryPlan;
using ::kiln::artifact::PlannedBuffer;

namespace {

struct Slot {
  // The sizes it must hold, none provably at most another: the slot is
  // their Max.
  std::vector<Expression> sizes;
  int64_t sample = 0; // bytes at the sample dims
  // The [first, last] dispatch ranges of the buffers it holds.
  std::vector<std::pair<int64_t, int64_t>> busy;

  bool freeDuring(int64_t first, int64_t last) const {
    return llvm::none_of(busy, [&](const std::pair<int64_t, int64_t> &b) {
      return b.first <= last && first <= b.second;
    });
  }

  void hold(const Expression &bytes) {
    for (const Expression &size : sizes)
      if (expr::provablyAtMost(bytes, size))
        return;
    llvm::erase_if(sizes, [&](const Expression &size) {
      return expr::provablyAtMost(size, bytes);
    });
    sizes.push_back(bytes);
  }

  Expression bytes() const {
    Expression max = sizes.front();
    for (size_t i = 1; i < sizes.size(); ++i)
      max = expr::max(max, sizes[i]);
    return max;
  }
};

int64_t sampleValue(const Expression &e, const std::vector<int64_t> &dims) {
  auto value = ::kiln::artifact::EvaluateExpression(e, dims);
  return value.ok() ? *value : 0;
}

} // namespace

MemoryPlan planMemory(const std::vector<BufferLifetime> &buffers,
                      const std::vector<int64_t> &sampleDims) {
  // Largest first (at the sample dims), each into a slot that is free for
  // its whole lifetime. Going by first use instead let a small buffer take
  // the only free large slot, and the next large buffer then needed a slot
  // of its own: the benchmark model's arena grew 72 % when elementwise
  // fusion reordered a few buffers.
  std::vector<int64_t> need(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i)
    need[i] = sampleValue(buffers[i].bytes, sampleDims);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return need[a] > need[b];
  });

  std::vector<Slot> slots;
  std::vector<size_t> slotOf(buffers.size());
  for (size_t i : order) {
    const BufferLifetime &buffer = buffers[i];
    // Best fit among the slots free for its lifetime: the smallest that
    // holds it, else the largest (which grows least); a new slot only when
    // none is free.
    int best = -1;
    for (size_t s = 0; s < slots.size(); ++s) {
      if (!slots[s].freeDuring(buffer.firstUse, buffer.lastUse))
        continue;
      if (best < 0) {
        best = s;
        continue;
      }
      const Slot &b = slots[best], &c = slots[s];
      const bool bFits = b.sample >= need[i], cFits = c.sample >= need[i];
      if ((cFits && (!bFits || c.sample < b.sample)) ||
          (!cFits && !bFits && c.sample > b.sample))
        best = s;
    }
    if (best < 0) {
      best = slots.size();
      slots.push_back({});
    }
    slots[best].hold(buffer.bytes);
    slots[best].sample = std::max(slots[best].sample, need[i]);
    slots[best].busy.push_back({buffer.firstUse, buffer.lastUse});
    slotOf[i] = best;
  }

  std::vector<Expression> offsets;
  Expression end = expr::constant(0);
  for (const Slot &slot : slots) {
    offsets.push_back(end);
    end = expr::simplify(expr::add(end, expr::alignUp(slot.bytes(), 64)));
  }
  MemoryPlan plan;
  plan.arena_size = end;
  for (size_t i = 0; i < buffers.size(); ++i)
    plan.buffers.push_back(
        PlannedBuffer{buffers[i].name, offsets[slotOf[i]], buffers[i].bytes});
  return plan;
}

} // namespace mlir::kiln
