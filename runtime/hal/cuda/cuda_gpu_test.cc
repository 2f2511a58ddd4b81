// The CUDA layer on a real GPU, through the installed NVIDIA driver. Every
// case skips itself on a machine without the driver or a GPU, so the suite
// passes (as skipped) everywhere and checks the real thing where it can.
#include <cstdint>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/hal/cuda/cuda_device.h"
#include "runtime/hal/cuda/cuda_driver.h"
#include "runtime/hal/cuda/cuda_executable.h"
#include "runtime/hal/cuda/cuda_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cuda {
namespace {

using ::kiln::hal::cuda::testing::Bytes;
using ::kiln::hal::cuda::testing::TestPtx;
using ::kiln::io::testing::IsErrorWith;

class CudaGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<CudaDriver>> driver = CudaDriver::Load();
    if (!driver.ok()) GTEST_SKIP() << driver.status();
    absl::StatusOr<std::unique_ptr<CudaDevice>> device =
        CudaDevice::Create(*std::move(driver));
    if (device.status().code() == absl::StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << device.status();
    }
    ASSERT_TRUE(device.ok()) << device.status();
    device_ = *std::move(device);
  }

  // The test kernels, checked against the GPU first as the executor does.
  absl::StatusOr<CudaExecutable> LoadTestKernels() {
    bool arch_specific = false;
    absl::StatusOr<int> target =
        PtxTargetComputeCapability(TestPtx(), &arch_specific);
    if (!target.ok()) return target.status();
    absl::Status runs =
        device_->CheckComputeCapability(*target, arch_specific, "test kernels");
    if (!runs.ok()) return runs;
    return CudaExecutable::Load(device_.get(), "test kernels", TestPtx());
  }

  std::unique_ptr<CudaDevice> device_;
};

TEST_F(CudaGpuTest, DescribesTheGpu) {
  std::cout << device_->label() << ": compute capability "
            << device_->compute_capability() << ", "
            << device_->multiprocessor_count() << " SMs, "
            << (device_->total_memory() >> 20) << " MiB, driver "
            << device_->driver_version() << "\n";
  EXPECT_FALSE(device_->name().empty());
  EXPECT_GE(device_->compute_capability(), 50);
  EXPECT_GT(device_->multiprocessor_count(), 0);
  EXPECT_GT(device_->total_memory(), uint64_t{1} << 30);
  EXPECT_GE(device_->driver_version(), 11000);
}

// Tests a whole round: upload, a kernel that changes every element, and
// download, on more elements than the grid has threads in one block.
TEST_F(CudaGpuTest, RunsAKernel) {
  absl::StatusOr<CudaExecutable> executable = LoadTestKernels();
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<CUfunction> add = executable->Resolve("add_scalar");
  ASSERT_TRUE(add.ok()) << add.status();

  uint32_t count = 1000;
  std::vector<float> values(count);
  std::iota(values.begin(), values.end(), 0.0f);
  absl::StatusOr<DeviceBuffer> buffer =
      device_->Allocate(count * sizeof(float), "values");
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  ASSERT_TRUE(device_
                  ->CopyToDevice(buffer->pointer(), values.data(),
                                 count * sizeof(float))
                  .ok());
  CUdeviceptr data = buffer->pointer();
  float value = 2.5f;
  void* params[] = {&data, &count, &value};
  absl::Status launched = device_->Launch(*add, {(count + 255) / 256, 1, 1},
                                          {256, 1, 1}, 0, params);
  ASSERT_TRUE(launched.ok()) << launched;
  std::vector<float> back(count, -1.0f);
  absl::Status copied = device_->CopyToHost(back.data(), buffer->pointer(),
                                            count * sizeof(float));
  ASSERT_TRUE(copied.ok()) << copied;
  for (uint32_t i = 0; i < count; ++i) {
    ASSERT_EQ(back[i], static_cast<float>(i) + 2.5f) << "element " << i;
  }
}

// Tests dynamic shared memory past the default 48 KiB, which needs the
// opt-in Launch makes.
TEST_F(CudaGpuTest, LaunchesWithLargeSharedMemory) {
  absl::StatusOr<CudaExecutable> executable = LoadTestKernels();
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<CUfunction> add = executable->Resolve("add_scalar");
  ASSERT_TRUE(add.ok()) << add.status();
  absl::StatusOr<DeviceBuffer> buffer = device_->Allocate(4, "one value");
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  const float one = 1.0f;
  ASSERT_TRUE(device_->CopyToDevice(buffer->pointer(), &one, 4).ok());
  CUdeviceptr data = buffer->pointer();
  uint32_t count = 1;
  float value = 2.0f;
  void* params[] = {&data, &count, &value};
  absl::Status launched =
      device_->Launch(*add, {1, 1, 1}, {32, 1, 1}, 96 << 10, params);
  ASSERT_TRUE(launched.ok()) << launched;
  float back = 0;
  ASSERT_TRUE(device_->CopyToHost(&back, buffer->pointer(), 4).ok());
  EXPECT_EQ(back, 3.0f);
}

// Tests PTX for the GPU's own architecture-specific target (sm_90a on a
// compute capability 9.0 GPU), which the compiler emits for Hopper.
TEST_F(CudaGpuTest, LoadsArchSpecificPtx) {
  if (device_->compute_capability() != 90) {
    GTEST_SKIP() << "sm_90a needs compute capability 9.0, " << device_->label()
                 << " has " << device_->compute_capability();
  }
  std::string text = io::testing::ReadFile(KILN_TEST_PTX);
  const std::string from = ".version 7.0\n.target sm_80\n";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), ".version 8.0\n.target sm_90a\n");
  bool arch_specific = false;
  absl::StatusOr<int> target =
      PtxTargetComputeCapability(Bytes(text), &arch_specific);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(*target, 90);
  EXPECT_TRUE(arch_specific);
  EXPECT_TRUE(device_->CheckComputeCapability(90, true, "sm_90a code").ok());
  absl::StatusOr<CudaExecutable> executable =
      CudaExecutable::Load(device_.get(), "sm_90a kernels", Bytes(text));
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_TRUE(executable->Resolve("add_scalar").ok());
}

// Tests PTX newer than the driver: the error says to update it.
TEST_F(CudaGpuTest, RejectsPtxNewerThanTheDriver) {
  std::string text = io::testing::ReadFile(KILN_TEST_PTX);
  text.replace(text.find(".version 7.0"), 12, ".version 9.9");
  absl::StatusOr<CudaExecutable> executable =
      CudaExecutable::Load(device_.get(), "future", Bytes(text));
  std::cout << executable.status() << "\n";
  EXPECT_EQ(executable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsErrorWith(executable,
                          "future: the GPU driver rejected the "
                          "PTX: CUDA_ERROR_"));
}

// Tests that the device works from a thread other than the one that made
// it (the driver keeps the current context per thread).
TEST_F(CudaGpuTest, WorksFromAnotherThread) {
  absl::Status status;
  std::vector<int32_t> back(4, 0);
  std::thread([&] {
    absl::StatusOr<DeviceBuffer> buffer = device_->Allocate(16, "thread");
    if (!buffer.ok()) {
      status = buffer.status();
      return;
    }
    const int32_t values[4] = {1, 2, 3, 4};
    status = device_->CopyToDevice(buffer->pointer(), values, 16);
    if (status.ok()) {
      status = device_->CopyToHost(back.data(), buffer->pointer(), 16);
    }
  }).join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(back, (std::vector<int32_t>{1, 2, 3, 4}));
}

// Tests the real JIT compiler's log in the error for bad PTX.
TEST_F(CudaGpuTest, RejectsBadPtxWithTheLog) {
  absl::StatusOr<CudaExecutable> executable = CudaExecutable::Load(
      device_.get(), "bad",
      Bytes(".version 7.0\n.target sm_80\n.address_size 64\n"
            ".visible .entry k()\n{\n  frobnicate.u32 %r1;\n  ret;\n}\n"));
  EXPECT_EQ(executable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsErrorWith(executable,
                          "bad: the GPU driver rejected the PTX: "
                          "CUDA_ERROR_INVALID_PTX"));
  EXPECT_TRUE(IsErrorWith(executable, "line 6"));
}

TEST_F(CudaGpuTest, KernelNotFound) {
  absl::StatusOr<CudaExecutable> executable = LoadTestKernels();
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_TRUE(IsErrorWith(executable->Resolve("missing"),
                          "test kernels: no kernel 'missing' in the PTX "
                          "(CUDA_ERROR_NOT_FOUND)"));
}

TEST_F(CudaGpuTest, OutOfMemory) {
  absl::StatusOr<DeviceBuffer> buffer =
      device_->Allocate(device_->total_memory() * 2, "a huge arena");
  EXPECT_EQ(buffer.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsErrorWith(buffer,
                          "out of GPU memory allocating a huge "
                          "arena: asked for "));
  EXPECT_TRUE(IsErrorWith(buffer, " MiB free of "));
}

// Last: a fault poisons the context until it is released (which the
// device's destructor does, so later tests would get a fresh one).
TEST_F(CudaGpuTest, KernelFaultSurfacesAtSynchronize) {
  absl::StatusOr<CudaExecutable> executable = LoadTestKernels();
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<CUfunction> fault =
      executable->Resolve("store_to_bad_address");
  ASSERT_TRUE(fault.ok()) << fault.status();
  ASSERT_TRUE(device_->Launch(*fault, {1, 1, 1}, {1, 1, 1}, 0, nullptr).ok());
  absl::Status status = device_->Synchronize();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(IsErrorWith(status,
                          ": work on the stream failed: "
                          "CUDA_ERROR_ILLEGAL_ADDRESS"));
}

}  // namespace
}  // namespace kiln::hal::cuda
