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
  int64_t sample = 0;      // bytes at the sample dims
  int64_t freeAfter = -1;  // the last dispatch its current buffer uses

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
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].firstUse < buffers[b].firstUse;
  });

  std::vector<Slot> slots;
  std::vector<size_t> slotOf(buffers.size());
  for (size_t i : order) {
    const BufferLifetime &buffer = buffers[i];
    const int64_t need = sampleValue(buffer.bytes, sampleDims);
    // Best fit among the free slots: the smallest that holds it, else the
    // largest (which grows least); a new slot only when none is free.
    int best = -1;
    for (size_t s = 0; s < slots.size(); ++s) {
      if (slots[s].freeAfter >= buffer.firstUse)
        continue;
      if (best < 0) {
        best = s;
        continue;
      }
      const Slot &b = slots[best], &c = slots[s];
      const bool bFits = b.sample >= need, cFits = c.sample >= need;
      if ((cFits && (!bFits || c.sample < b.sample)) ||
          (!cFits && !bFits && c.sample > b.sample))
        best = s;
    }
    if (best < 0) {
      best = slots.size();
      slots.push_back({});
    }
    slots[best].hold(buffer.bytes);
    slots[best].sample = std::max(slots[best].sample, need);
    slots[best].freeAfter = buffer.lastUse;
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
