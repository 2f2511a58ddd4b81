// What a call of an entry function did, on either device: for `kiln run
// --timing` and benchmarks.
#ifndef KILN_RUNTIME_EXECUTOR_RUN_STATS_H_
#define KILN_RUNTIME_EXECUTOR_RUN_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::executor {

// One dispatch of a call, as it ran.
struct DispatchStats {
  size_t index = 0;        // in the entry's dispatches
  std::string kernel;      // the kernel's name
  int64_t workgroups = 0;  // x * y * z; 0: skipped
  // Wall time of the dispatch. On a GPU, launches are asynchronous: with
  // stats requested the runner waits for each kernel, so this is launch
  // plus run time (and the call is slower than without stats).
  double seconds = 0;
};

// What a call did, for `kiln run --timing` and benchmarks.
struct RunStats {
  // Set by the caller: time each dispatch. On a GPU that means waiting for
  // each kernel before launching the next; without it, dispatches get no
  // seconds there (the whole call's dispatch_seconds is still measured).
  bool time_each_dispatch = true;

  std::string entry;
  std::vector<int64_t> dims;    // the value of each of the artifact's dims
  uint64_t arena_bytes = 0;     // what the memory plan asked for
  bool arena_reused = false;    // the previous call's arena served
  double prepare_seconds = 0;   // checks, evaluation, allocation
  double dispatch_seconds = 0;  // every dispatch, descriptors included
  std::vector<DispatchStats> dispatches;  // one per dispatch, in order
};

}  // namespace kiln::executor

#endif  // KILN_RUNTIME_EXECUTOR_RUN_STATS_H_
