// A fixed pool of threads that runs parallel loops of workgroups.
#ifndef KILN_RUNTIME_HAL_CPU_THREAD_POOL_H_
#define KILN_RUNTIME_HAL_CPU_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::hal::cpu {

// The thread count to use: KILN_NUM_THREADS when it is set and not empty,
// else std::thread::hardware_concurrency() (1 when that is unknown). Error
// (InvalidArgument) for a value that is not a whole number from 1 to
// kMaxThreads.
absl::StatusOr<int> DefaultThreadCount();

class ThreadPool {
 public:
  static constexpr int kMaxThreads = 4096;

  // `num_threads` threads run each ParallelFor: the calling thread and
  // num_threads - 1 workers, started here and idle (blocked, not spinning)
  // between loops. Values below 1 count as 1.
  explicit ThreadPool(int num_threads);
  // Stops and joins the workers. No ParallelFor may be running.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls body(i) once for every i in [0, count), on the workers and the
  // calling thread, and returns when every call has returned. Indices are
  // handed out one at a time from a shared counter (dynamic scheduling), in
  // no fixed order. count <= 0 returns at once; count 1 runs on the calling
  // thread. `body` must not throw. A ParallelFor from inside a body (nested)
  // runs its loop on that thread alone; calls from several outside threads
  // take turns.
  void ParallelFor(int64_t count, const std::function<void(int64_t)>& body);

 private:
  // One ParallelFor's shared state, on the caller's stack.
  struct Loop {
    const std::function<void(int64_t)>* body;
    int64_t count;
    std::atomic<int64_t> next{0};
    int active_workers = 0;  // Guarded by mutex_.
  };

  void WorkerMain();
  // Runs indices of `loop` until none are left.
  static void RunIndices(Loop& loop);

  std::vector<std::thread> workers_;
  // Serializes ParallelFor calls from different outside threads.
  std::mutex loop_mutex_;

  std::mutex mutex_;
  std::condition_variable work_ready_;  // A loop was posted, or stop_.
  std::condition_variable work_done_;   // A worker left the loop.
  Loop* loop_ = nullptr;                // Guarded by mutex_.
  uint64_t generation_ = 0;             // Guarded by mutex_; one per loop.
  bool stop_ = false;                   // Guarded by mutex_.
};

}  // namespace kiln::hal::cpu

#endif  // KILN_RUNTIME_HAL_CPU_THREAD_POOL_H_
