#include "runtime/hal/cpu/thread_pool.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cpu {
namespace {

using ::kiln::io::testing::IsErrorWith;

// Sets (or, for nullopt, unsets) an environment variable for its lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }

 private:
  void Set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

// Runs ParallelFor(count) on `pool` and returns how often each index ran.
std::vector<int> VisitCounts(ThreadPool& pool, int64_t count) {
  std::vector<std::atomic<int>> visits(count);
  pool.ParallelFor(count, [&](int64_t i) {
    visits[i].fetch_add(1, std::memory_order_relaxed);
  });
  std::vector<int> counts;
  for (auto& v : visits) counts.push_back(v.load());
  return counts;
}

// Tests that under contention every index runs exactly once.
TEST(ThreadPoolTest, VisitsEveryIndexExactlyOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.num_threads(), 4);
  for (int round = 0; round < 20; ++round) {
    EXPECT_EQ(VisitCounts(pool, 10000), std::vector<int>(10000, 1));
  }
}

// Tests both ways of waiting between loops: blocking at once and a poll
// long enough to span every gap (so no thread ever blocks), on loops back
// to back and after pauses; and that a pool whose workers are polling is
// destroyed without waiting out the poll.
TEST(ThreadPoolTest, BlockingAndPollingGiveTheSameLoops) {
  for (int spin_micros : {0, 5'000'000}) {
    const auto start = std::chrono::steady_clock::now();
    {
      ThreadPool pool(3, spin_micros);
      for (int round = 0; round < 200; ++round) {
        ASSERT_EQ(VisitCounts(pool, 1 + round % 7),
                  std::vector<int>(1 + round % 7, 1))
            << spin_micros << " us, round " << round;
        if (round % 50 == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4))
        << spin_micros;
  }
}

// Tests that the workers and the calling thread all take part: each of 4
// indices waits until 4 distinct threads are inside the loop.
TEST(ThreadPoolTest, RunsOnEveryThread) {
  ThreadPool pool(4);
  std::mutex mutex;
  std::condition_variable arrived;
  std::set<std::thread::id> threads;
  bool timed_out = false;
  pool.ParallelFor(4, [&](int64_t) {
    std::unique_lock<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
    arrived.notify_all();
    if (!arrived.wait_for(lock, std::chrono::seconds(30),
                          [&] { return threads.size() == 4; })) {
      timed_out = true;
    }
  });
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(threads.size(), 4u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u);
}

// Tests that count 0 runs nothing and count 1 runs on the calling thread,
// as does everything in a pool of one thread.
TEST(ThreadPoolTest, SmallCountsRunOnCallingThread) {
  ThreadPool pool(4);
  int calls = 0;
  pool.ParallelFor(0, [&](int64_t) { ++calls; });
  pool.ParallelFor(-5, [&](int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  std::thread::id ran_on;
  pool.ParallelFor(1, [&](int64_t i) {
    EXPECT_EQ(i, 0);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(ran_on, std::this_thread::get_id());

  ThreadPool single(1);
  EXPECT_EQ(single.num_threads(), 1);
  std::vector<int64_t> order;
  single.ParallelFor(5, [&](int64_t i) {
    EXPECT_EQ(std::this_thread::get_id(), ran_on);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

// Tests that a ParallelFor inside a body, on the calling thread or a
// worker, runs to completion instead of deadlocking.
TEST(ThreadPoolTest, NestedParallelFor) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> visits(8 * 100);
  pool.ParallelFor(8, [&](int64_t outer) {
    pool.ParallelFor(
        100, [&](int64_t inner) { visits[outer * 100 + inner].fetch_add(1); });
  });
  for (size_t i = 0; i < visits.size(); ++i) {
    ASSERT_EQ(visits[i].load(), 1) << i;
  }
  // The pool still works after nesting.
  EXPECT_EQ(VisitCounts(pool, 50), std::vector<int>(50, 1));
}

// Tests many short loops back to back, fewer indices than threads included.
TEST(ThreadPoolTest, ManyLoopsBackToBack) {
  ThreadPool pool(4);
  for (int round = 0; round < 2000; ++round) {
    const int64_t count = 1 + round % 9;
    std::atomic<int64_t> sum{0};
    pool.ParallelFor(count, [&](int64_t i) { sum.fetch_add(i + 1); });
    ASSERT_EQ(sum.load(), count * (count + 1) / 2) << "round " << round;
  }
}

// Tests that loops from two outside threads take turns correctly.
TEST(ThreadPoolTest, ConcurrentCallersTakeTurns) {
  ThreadPool pool(3);
  std::atomic<int> failures{0};
  auto caller = [&] {
    for (int round = 0; round < 200; ++round) {
      if (VisitCounts(pool, 37) != std::vector<int>(37, 1)) ++failures;
    }
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
}

// Tests that pools, used or never used, shut down.
TEST(ThreadPoolTest, DestroysCleanly) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(8);
    if (i % 2 == 0) {
      EXPECT_EQ(VisitCounts(pool, 3), std::vector<int>(3, 1));
    }
  }
  ThreadPool clamped(0);
  EXPECT_EQ(clamped.num_threads(), 1);
}

// Tests KILN_NUM_THREADS: unset or empty means one thread per CPU; a
// positive number is used as is.
TEST(ThreadPoolTest, DefaultThreadCountReadsEnvironment) {
  const int hardware =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  {
    ScopedEnv env("KILN_NUM_THREADS", std::nullopt);
    EXPECT_EQ(DefaultThreadCount().value_or(-1), hardware);
  }
  {
    ScopedEnv env("KILN_NUM_THREADS", "");
    EXPECT_EQ(DefaultThreadCount().value_or(-1), hardware);
  }
  {
    ScopedEnv env("KILN_NUM_THREADS", "3");
    EXPECT_EQ(DefaultThreadCount().value_or(-1), 3);
  }
  {
    ScopedEnv env("KILN_NUM_THREADS", "4096");
    EXPECT_EQ(DefaultThreadCount().value_or(-1), 4096);
  }
}

// Tests the error for values that are not a thread count.
TEST(ThreadPoolTest, DefaultThreadCountRejectsBadValues) {
  for (const char* value :
       {"0", "-2", "abc", "4x", "2.5", "4097", "99999999999999999999"}) {
    ScopedEnv env("KILN_NUM_THREADS", value);
    absl::StatusOr<int> count = DefaultThreadCount();
    EXPECT_TRUE(absl::IsInvalidArgument(count.status())) << value;
    EXPECT_TRUE(IsErrorWith(count, std::string("KILN_NUM_THREADS=\"") + value +
                                       "\": expected a whole number of "
                                       "threads from 1 to 4096"));
  }
}

}  // namespace
}  // namespace kiln::hal::cpu
