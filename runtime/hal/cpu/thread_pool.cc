#include "runtime/hal/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kiln::hal::cpu {
namespace {

// The pool whose loop the current thread is running a body of, if any: a
// ParallelFor on that pool from inside a body runs inline.
thread_local const ThreadPool* current_pool = nullptr;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

absl::StatusOr<int> DefaultThreadCount() {
  const char* value = std::getenv("KILN_NUM_THREADS");
  const int hardware = static_cast<int>(std::clamp<unsigned>(
      std::thread::hardware_concurrency(), 1, ThreadPool::kMaxThreads));
  if (value == nullptr || *value == '\0') return hardware;
  int count = 0;
  if (!absl::SimpleAtoi(value, &count) || count < 1 ||
      count > ThreadPool::kMaxThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("KILN_NUM_THREADS=\"", value,
                     "\": expected a whole number of threads from 1 to ",
                     ThreadPool::kMaxThreads,
                     " (or unset it to use one per CPU, ", hardware, " here)"));
  }
  return count;
}

ThreadPool::ThreadPool(int num_threads, int spin_micros)
    : spin_micros_(spin_micros < 0 ? kDefaultSpinMicros : spin_micros) {
  num_threads = std::clamp(num_threads, 1, kMaxThreads);
  workers_.reserve(num_threads - 1);
  for (int i = 1; i < num_threads; ++i) {
    workers_.emplace_back([this] { WorkerMain(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::RunIndices(Loop& loop) {
  for (int64_t i = loop.next.fetch_add(1, std::memory_order_relaxed);
       i < loop.count; i = loop.next.fetch_add(1, std::memory_order_relaxed)) {
    (*loop.body)(i);
  }
}

template <typename Done>
bool ThreadPool::Spin(Done done) const {
  if (spin_micros_ == 0) return done();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(spin_micros_);
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      CpuRelax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

void ThreadPool::WorkerMain() {
  current_pool = this;
  uint64_t seen_generation = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (!stop_ && generation_ == seen_generation) {
      // Poll for the next loop without the lock, then block.
      lock.unlock();
      Spin([&] {
        return stop_.load(std::memory_order_acquire) ||
               generation_.load(std::memory_order_acquire) != seen_generation;
      });
      lock.lock();
    }
    work_ready_.wait(lock,
                     [&] { return stop_ || generation_ != seen_generation; });
    if (stop_) return;
    seen_generation = generation_;
    Loop* loop = loop_;
    if (loop == nullptr) continue;  // That loop is over already.
    ++loop->active_workers;
    lock.unlock();
    RunIndices(*loop);
    lock.lock();
    if (--loop->active_workers == 0) work_done_.notify_one();
  }
}

void ThreadPool::ParallelFor(int64_t count,
                             const std::function<void(int64_t)>& body) {
  if (count <= 0) return;
  if (count == 1 || workers_.empty() || current_pool == this) {
    for (int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  std::lock_guard<std::mutex> turn(loop_mutex_);
  Loop loop;
  loop.body = &body;
  loop.count = count;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loop_ = &loop;
    ++generation_;
  }
  // Wake only as many workers as there are indices beyond the caller's.
  const int64_t helpers =
      std::min<int64_t>(count - 1, static_cast<int64_t>(workers_.size()));
  if (helpers == static_cast<int64_t>(workers_.size())) {
    work_ready_.notify_all();
  } else {
    for (int64_t i = 0; i < helpers; ++i) work_ready_.notify_one();
  }

  const ThreadPool* outer = current_pool;
  current_pool = this;
  RunIndices(loop);
  current_pool = outer;

  // Every index is taken; wait for the workers still running theirs. No
  // worker joins once loop_ is cleared.
  std::unique_lock<std::mutex> lock(mutex_);
  loop_ = nullptr;
  if (loop.active_workers != 0) {
    lock.unlock();
    Spin([&] {
      return loop.active_workers.load(std::memory_order_acquire) == 0;
    });
    lock.lock();
  }
  work_done_.wait(lock, [&] { return loop.active_workers == 0; });
}

}  // namespace kiln::hal::cpu
