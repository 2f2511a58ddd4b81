#include "runtime/hal/cpu/cpu_device.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/hal/cpu/cpu_executable.h"
#include "runtime/hal/kernel_abi.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cpu {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::ReadFile;

// The test kernels (testdata/test_kernels.c), loaded from memory once.
class CpuDeviceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string bytes = ReadFile(KILN_TEST_KERNELS_1);
    absl::StatusOr<CpuExecutable> loaded = CpuExecutable::Load(
        "executable 0",
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()),
                            bytes.size()));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    executable_ = new CpuExecutable(std::move(loaded).value());
  }
  static void TearDownTestSuite() {
    delete executable_;
    executable_ = nullptr;
  }

  static CpuKernelFn Kernel(const std::string& name) {
    absl::StatusOr<CpuKernelFn> kernel = executable_->Resolve(name);
    EXPECT_TRUE(kernel.ok()) << kernel.status();
    return kernel.value_or(nullptr);
  }

  static MemrefDescriptor Descriptor(void* base, int64_t offset,
                                     std::vector<int64_t> shape) {
    absl::StatusOr<MemrefDescriptor> desc =
        MemrefDescriptor::RowMajor(base, offset, shape);
    EXPECT_TRUE(desc.ok()) << desc.status();
    return std::move(desc).value();
  }

  static CpuExecutable* executable_;
};

CpuExecutable* CpuDeviceTest::executable_ = nullptr;

// The workgroup that owns element i of n when `count` workgroups split it
// into equal contiguous chunks (the last one shorter), as the kernels do.
int64_t OwnerOf(int64_t i, int64_t n, int64_t count) {
  const int64_t per = (n + count - 1) / count;
  return i / per;
}

// Tests `add` over every element for several thread and workgroup counts,
// workgroups beyond threads and beyond elements included, on views at
// offsets inside one arena.
TEST_F(CpuDeviceTest, AddCoversEveryElement) {
  for (int threads : {1, 2, 4}) {
    CpuDevice device(threads);
    for (int64_t n : {1, 5, 1000}) {
      for (int64_t workgroups : {1, 2, 7, 64}) {
        SCOPED_TRACE(testing::Message()
                     << threads << " threads, " << n << " elements, "
                     << workgroups << " workgroups");
        absl::StatusOr<AlignedBuffer> arena =
            device.AllocateArena(3 * (n + 16) * sizeof(float));
        ASSERT_TRUE(arena.ok()) << arena.status();
        float* base = reinterpret_cast<float*>(arena->data());
        const int64_t lhs = 0, rhs = n + 16, out = 2 * (n + 16);
        std::fill(base, base + 3 * (n + 16), -1.0f);
        for (int64_t i = 0; i < n; ++i) {
          base[lhs + i] = static_cast<float>(i);
          base[rhs + i] = static_cast<float>(1000 * i + 1);
        }
        MemrefDescriptor a = Descriptor(base, lhs, {n});
        MemrefDescriptor b = Descriptor(base, rhs, {n});
        MemrefDescriptor c = Descriptor(base, out, {n});
        int64_t* bindings[] = {a.words(), b.words(), c.words()};
        ASSERT_TRUE(device.Dispatch(Kernel("add"), bindings, workgroups).ok());
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(base[out + i], static_cast<float>(1001 * i + 1)) << i;
        }
        // The view stops at n: the padding after it is untouched.
        ASSERT_EQ(base[out + n], -1.0f);
      }
    }
  }
}

// Tests that every element was written by the workgroup that owns it, so
// that each workgroup id ran exactly once with the right count.
TEST_F(CpuDeviceTest, EveryWorkgroupRunsWithItsId) {
  for (int threads : {1, 2, 3}) {
    CpuDevice device(threads);
    for (int64_t workgroups : {1, 2, 7, 100}) {
      SCOPED_TRACE(testing::Message()
                   << threads << " threads, " << workgroups << " workgroups");
      const int64_t n = 1009;
      std::vector<int64_t> out(n, -1);
      MemrefDescriptor desc = Descriptor(out.data(), 0, {n});
      int64_t* bindings[] = {desc.words()};
      ASSERT_TRUE(
          device.Dispatch(Kernel("fill_workgroup_id"), bindings, workgroups)
              .ok());
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], OwnerOf(i, n, workgroups)) << i;
      }
    }
  }
}

// Tests a rank-2 kernel that reads sizes, strides and offsets from the
// descriptors.
TEST_F(CpuDeviceTest, Rank2ViewsAtOffsets) {
  CpuDevice device(2);
  const int64_t rows = 13, cols = 5;
  absl::StatusOr<AlignedBuffer> arena = device.AllocateArena(4096);
  ASSERT_TRUE(arena.ok()) << arena.status();
  float* base = reinterpret_cast<float*>(arena->data());
  std::fill(base, base + 1024, -1.0f);
  const int64_t in = 16, out = 200;
  for (int64_t i = 0; i < rows * cols; ++i) base[in + i] = 0.5f * i;
  MemrefDescriptor in_desc = Descriptor(base, in, {rows, cols});
  MemrefDescriptor out_desc = Descriptor(base, out, {rows, cols});
  int64_t* bindings[] = {in_desc.words(), out_desc.words()};
  ASSERT_TRUE(device.Dispatch(Kernel("scale_rows"), bindings, 4).ok());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_EQ(base[out + r * cols + c], 0.5f * (r * cols + c) * (r + 1) + c)
          << r << ", " << c;
    }
  }
  EXPECT_EQ(base[out - 1], -1.0f);
  EXPECT_EQ(base[out + rows * cols], -1.0f);
}

// Tests that a dispatch of no workgroups runs nothing, and the errors for
// a null kernel, a negative count and a null binding.
TEST_F(CpuDeviceTest, DispatchValidatesArguments) {
  CpuDevice device(2);
  std::vector<int64_t> out(4, -1);
  MemrefDescriptor desc = Descriptor(out.data(), 0, {4});
  int64_t* bindings[] = {desc.words()};
  EXPECT_TRUE(device.Dispatch(Kernel("fill_workgroup_id"), bindings, 0).ok());
  EXPECT_EQ(out, std::vector<int64_t>(4, -1));

  EXPECT_TRUE(IsErrorWith(device.Dispatch(nullptr, bindings, 1),
                          "dispatch: expected a kernel, got null"));
  EXPECT_TRUE(
      IsErrorWith(device.Dispatch(Kernel("fill_workgroup_id"), bindings, -3),
                  "dispatch: expected a non-negative workgroup count, got -3"));
  int64_t* with_null[] = {desc.words(), nullptr};
  EXPECT_TRUE(IsErrorWith(device.Dispatch(Kernel("add"), with_null, 1),
                          "dispatch: binding 1 of 2 is null"));
}

// Tests that arenas of every size are 64-byte aligned (2 MiB from 2 MiB
// on) and writable.
TEST_F(CpuDeviceTest, ArenasAreAligned) {
  CpuDevice device(1);
  for (size_t bytes :
       {size_t{0}, size_t{1}, size_t{63}, size_t{4097}, size_t{3} << 20}) {
    absl::StatusOr<AlignedBuffer> arena = device.AllocateArena(bytes);
    ASSERT_TRUE(arena.ok()) << arena.status();
    ASSERT_NE(arena->data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(arena->data()) % 64, 0u) << bytes;
    // From 2 MiB on, on a huge-page boundary (for transparent huge pages).
    if (bytes >= (size_t{2} << 20)) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(arena->data()) % (size_t{2} << 20),
                0u)
          << bytes;
    }
    EXPECT_EQ(arena->size(), bytes);
    if (bytes != 0) std::memset(arena->data(), 0xab, bytes);
    AlignedBuffer moved = std::move(arena).value();
    EXPECT_EQ(moved.size(), bytes);
  }
}

// Tests that an arena larger than this machine's memory is refused.
TEST_F(CpuDeviceTest, RefusesArenaLargerThanMemory) {
  CpuDevice device(1);
  const uint64_t memory = PhysicalMemoryBytes();
  ASSERT_GT(memory, 0u);
  absl::StatusOr<AlignedBuffer> arena = device.AllocateArena(memory + 1);
  EXPECT_TRUE(absl::IsResourceExhausted(arena.status())) << arena.status();
  EXPECT_TRUE(IsErrorWith(arena, "cannot allocate an arena of "));
  EXPECT_TRUE(IsErrorWith(
      arena, "(" + std::to_string(memory + 1) + " bytes): this machine has "));
  EXPECT_TRUE(IsErrorWith(arena, "(MemTotal in /proc/meminfo)"));
  EXPECT_TRUE(IsErrorWith(
      device.AllocateArena(std::numeric_limits<size_t>::max()),
      "cannot allocate an arena of 16.0 EiB (18446744073709551615 bytes): "
      "this machine has "));
}

// Tests that Create sizes the pool from KILN_NUM_THREADS and reports a bad
// value.
TEST_F(CpuDeviceTest, CreateReadsThreadCount) {
  const char* old = ::getenv("KILN_NUM_THREADS");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("KILN_NUM_THREADS", "3", 1);
  absl::StatusOr<std::unique_ptr<CpuDevice>> device = CpuDevice::Create();
  ::setenv("KILN_NUM_THREADS", "zero", 1);
  absl::StatusOr<std::unique_ptr<CpuDevice>> bad = CpuDevice::Create();
  if (old != nullptr) {
    ::setenv("KILN_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("KILN_NUM_THREADS");
  }
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ((*device)->thread_pool().num_threads(), 3);
  EXPECT_TRUE(IsErrorWith(bad, "KILN_NUM_THREADS=\"zero\""));
}

}  // namespace
}  // namespace kiln::hal::cpu
