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

  // How long a worker polls for the next loop, and the caller for the
  // workers' end of a loop, before blocking. A model's step is hundreds of
  // dispatches a few microseconds apart; a blocked thread on a virtual CPU
  // takes tens of microseconds to wake (a futex plus the hypervisor's
  // wake-up), which a short poll avoids: on the benchmark's probe model the
  // step's median went down 2-4 % and the small kernels' medians 10-15 %
  // (docs/PERFORMANCE.md, session 4).
  static constexpr int kDefaultSpinMicros = 200;

  // `num_threads` threads run each ParallelFor: the calling thread and
  // num_threads - 1 workers, started here; between loops they poll for
  // `spin_micros` (0: block at once; negative: kDefaultSpinMicros) and then
  // block. Thread counts below 1 count as 1.
  explicit ThreadPool(int num_threads, int spin_micros = -1);
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
    // Changed under mutex_ only; read without it by the caller's poll.
    std::atomic<int> active_workers{0};
  };

  void WorkerMain();
  // Polls `done` for spin_micros_; true if it became true.
  template <typename Done>
  bool Spin(Done done) const;
  // Runs indices of `loop` until none are left.
  static void RunIndices(Loop& loop);

  int spin_micros_;
  std::vector<std::thread> workers_;
  // Serializes ParallelFor calls from different outside threads.
  std::mutex loop_mutex_;

  std::mutex mutex_;
  std::condition_variable work_ready_;  // A loop was posted, or stop_.
  std::condition_variable work_done_;   // A worker left the loop.
  Loop* loop_ = nullptr;                // Guarded by mutex_.
  // One per loop; changed under mutex_, read without it by the poll.
  std::atomic<uint64_t> generation_{0};
  // Set under mutex_, read without it by the poll.
  std::atomic<bool> stop_{false};
};

}  // namespace kiln::hal::cpu

#endif  // KILN_RUNTIME_HAL_CPU_THREAD_POOL_H_
