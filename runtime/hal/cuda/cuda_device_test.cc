#include "runtime/hal/cuda/cuda_device.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/hal/cuda/cuda_executable.h"
#include "runtime/hal/cuda/cuda_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cuda {
namespace {

using ::kiln::hal::cuda::testing::CreateFakeDevice;
using ::kiln::hal::cuda::testing::FakeState;
using ::kiln::hal::cuda::testing::ScopedEnv;
using ::kiln::hal::cuda::testing::TestPtx;
using ::kiln::io::testing::IsErrorWith;

constexpr size_t kMiB = size_t{1} << 20;

// A device on the fake driver; fails the test when there is none.
std::unique_ptr<CudaDevice> FakeDevice() {
  absl::StatusOr<std::unique_ptr<CudaDevice>> device = CreateFakeDevice();
  EXPECT_TRUE(device.ok()) << device.status();
  return device.ok() ? *std::move(device) : nullptr;
}

// Tests that a driver without GPUs (cuInit fails, as the real one does) is
// reported as such.
TEST(CudaDeviceTest, NoDeviceAtInit) {
  ScopedEnv devices("FAKE_CUDA_DEVICES", "0");
  absl::StatusOr<std::unique_ptr<CudaDevice>> device = CreateFakeDevice();
  EXPECT_EQ(device.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsErrorWith(device,
                          "no CUDA GPU found (cuInit: CUDA_ERROR_NO_DEVICE "
                          "(no CUDA-capable device is detected)); use "
                          "--device cpu to run on the CPU"));
}

// Tests a driver that initializes but counts no devices (all hidden by
// CUDA_VISIBLE_DEVICES).
TEST(CudaDeviceTest, NoDeviceCounted) {
  ScopedEnv devices("FAKE_CUDA_DEVICES", "0");
  ScopedEnv init("FAKE_CUDA_INIT_ERROR", "0");
  absl::StatusOr<std::unique_ptr<CudaDevice>> device = CreateFakeDevice();
  EXPECT_EQ(device.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsErrorWith(device, "no CUDA GPU found (the driver "));
}

// Tests that other cuInit failures name the driver and the error.
TEST(CudaDeviceTest, InitFailure) {
  ScopedEnv init("FAKE_CUDA_INIT_ERROR", "3");
  EXPECT_TRUE(IsErrorWith(CreateFakeDevice(),
                          std::string("cannot initialize the CUDA driver ") +
                              KILN_FAKE_CUDA +
                              " (cuInit: CUDA_ERROR_NOT_INITIALIZED"));
}

TEST(CudaDeviceTest, OrdinalOutOfRange) {
  absl::StatusOr<std::unique_ptr<CudaDevice>> device = CreateFakeDevice(1);
  EXPECT_EQ(device.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsErrorWith(
      device, "GPU 1 requested, expected 0 to 0: this machine has 1 CUDA GPU"));
}

// Tests the properties read at creation, and that destruction gives back
// the stream and the primary context it took.
TEST(CudaDeviceTest, PropertiesAndLifetime) {
  ScopedEnv name("FAKE_CUDA_NAME", "NVIDIA H100 80GB HBM3");
  ScopedEnv capability("FAKE_CUDA_CC", "90");
  ScopedEnv sms("FAKE_CUDA_SMS", "132");
  ScopedEnv total("FAKE_CUDA_TOTAL_MIB", "81559");
  const int contexts = FakeState().contexts;
  const int streams = FakeState().streams;
  {
    std::unique_ptr<CudaDevice> device = FakeDevice();
    ASSERT_NE(device, nullptr);
    EXPECT_EQ(device->name(), "NVIDIA H100 80GB HBM3");
    EXPECT_EQ(device->label(), "GPU 0 (NVIDIA H100 80GB HBM3)");
    EXPECT_EQ(device->ordinal(), 0);
    EXPECT_EQ(device->compute_capability(), 90);
    EXPECT_EQ(device->multiprocessor_count(), 132);
    EXPECT_EQ(device->total_memory(), uint64_t{81559} * kMiB);
    EXPECT_EQ(device->driver_version(), 12040);
    EXPECT_EQ(FakeState().contexts, contexts + 1);
    EXPECT_EQ(FakeState().streams, streams + 1);
  }
  EXPECT_EQ(FakeState().contexts, contexts);
  EXPECT_EQ(FakeState().streams, streams);
}

// Tests code that needs a newer GPU than this one, and sm_XYa code, which
// runs only on exactly X.Y.
TEST(CudaDeviceTest, ComputeCapability) {
  ScopedEnv name("FAKE_CUDA_NAME", "NVIDIA A100");
  {
    ScopedEnv capability("FAKE_CUDA_CC", "80");
    std::unique_ptr<CudaDevice> a100 = FakeDevice();
    ASSERT_NE(a100, nullptr);
    absl::Status status =
        a100->CheckComputeCapability(90, true, "executable 0");
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(IsErrorWith(status,
                            "executable 0 was compiled for sm_90a (compute "
                            "capability 9.0) but GPU 0 (NVIDIA A100) has "
                            "compute capability 8.0"));
    EXPECT_TRUE(IsErrorWith(a100->CheckComputeCapability(86, false, "e"),
                            "e was compiled for sm_86 (compute capability "
                            "8.6) but GPU 0 (NVIDIA A100) has compute "
                            "capability 8.0"));
    EXPECT_TRUE(a100->CheckComputeCapability(80, false, "e").ok());
    EXPECT_TRUE(a100->CheckComputeCapability(75, false, "e").ok());
    EXPECT_TRUE(a100->CheckComputeCapability(80, true, "e").ok());
    // sm_75a code would not run on 8.0 although sm_75 code does.
    EXPECT_TRUE(IsErrorWith(a100->CheckComputeCapability(75, true, "e"),
                            "runs only on exactly its compute capability"));
    EXPECT_TRUE(IsErrorWith(a100->CheckComputeCapability(0, false, "e"),
                            "e: expected a positive compute capability"));
  }
  ScopedEnv capability("FAKE_CUDA_CC", "90");
  std::unique_ptr<CudaDevice> h100 = FakeDevice();
  ASSERT_NE(h100, nullptr);
  EXPECT_TRUE(h100->CheckComputeCapability(90, true, "e").ok());
  EXPECT_TRUE(h100->CheckComputeCapability(80, false, "e").ok());
  EXPECT_TRUE(IsErrorWith(h100->CheckComputeCapability(100, false, "e"),
                          "sm_100 (compute capability 10.0)"));
}

// Tests that an allocation larger than the free memory says how much was
// asked for, how much is free and of what.
TEST(CudaDeviceTest, AllocationFailureGivesTheNumbers) {
  ScopedEnv total("FAKE_CUDA_TOTAL_MIB", "1000");
  ScopedEnv free("FAKE_CUDA_FREE_MIB", "100");
  std::unique_ptr<CudaDevice> device = FakeDevice();
  ASSERT_NE(device, nullptr);
  const int allocations = FakeState().allocations;
  absl::StatusOr<DeviceBuffer> buffer = device->Allocate(200 * kMiB, "arena 0");
  EXPECT_EQ(buffer.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsErrorWith(buffer,
                          "out of GPU memory allocating arena 0: asked for "
                          "200.0 MiB, 100.0 MiB free of 1000.0 MiB on GPU 0 "
                          "(Fake GPU)"));
  EXPECT_EQ(FakeState().allocations, allocations);
}

// Tests that 0 bytes give an empty buffer without asking the driver (which
// refuses 0-byte allocations).
TEST(CudaDeviceTest, ZeroBytesGiveAnEmptyBuffer) {
  std::unique_ptr<CudaDevice> device = FakeDevice();
  ASSERT_NE(device, nullptr);
  const int allocations = FakeState().allocations;
  absl::StatusOr<DeviceBuffer> buffer = device->Allocate(0, "empty");
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_EQ(buffer->pointer(), 0u);
  EXPECT_EQ(buffer->size(), 0u);
  EXPECT_EQ(FakeState().allocations, allocations);
  EXPECT_TRUE(device->CopyToDevice(buffer->pointer(), nullptr, 0).ok());
}

// Tests bytes going to the device and back, at an offset inside a buffer,
// and that a buffer is freed exactly once however it is moved.
TEST(CudaDeviceTest, CopyRoundTrip) {
  std::unique_ptr<CudaDevice> device = FakeDevice();
  ASSERT_NE(device, nullptr);
  const int allocations = FakeState().allocations;
  {
    absl::StatusOr<DeviceBuffer> allocated =
        device->Allocate(1000 * sizeof(float), "round trip");
    ASSERT_TRUE(allocated.ok()) << allocated.status();
    EXPECT_EQ(FakeState().allocations, allocations + 1);
    DeviceBuffer buffer = *std::move(allocated);
    EXPECT_EQ(buffer.size(), 1000 * sizeof(float));

    std::vector<float> values(1000);
    std::iota(values.begin(), values.end(), 0.5f);
    ASSERT_TRUE(device
                    ->CopyToDevice(buffer.pointer(), values.data(),
                                   values.size() * sizeof(float))
                    .ok());
    std::vector<float> middle(10, -1.0f);
    ASSERT_TRUE(device
                    ->CopyToHost(middle.data(),
                                 buffer.pointer() + 500 * sizeof(float),
                                 middle.size() * sizeof(float))
                    .ok());
    EXPECT_EQ(middle,
              std::vector<float>(values.begin() + 500, values.begin() + 510));

    DeviceBuffer moved = std::move(buffer);
    EXPECT_EQ(buffer.pointer(), 0u);  // NOLINT(bugprone-use-after-move)
    DeviceBuffer assigned;
    assigned = std::move(moved);
    std::vector<float> back(1000);
    ASSERT_TRUE(device
                    ->CopyToHost(back.data(), assigned.pointer(),
                                 back.size() * sizeof(float))
                    .ok());
    EXPECT_EQ(back, values);
    EXPECT_EQ(FakeState().allocations, allocations + 1);
  }
  EXPECT_EQ(FakeState().allocations, allocations);
}

// Tests that null pointers are refused before the driver sees them.
TEST(CudaDeviceTest, CopyRefusesNullPointers) {
  std::unique_ptr<CudaDevice> device = FakeDevice();
  ASSERT_NE(device, nullptr);
  char byte = 0;
  EXPECT_TRUE(IsErrorWith(device->CopyToDevice(0, &byte, 1),
                          "copying 1 bytes to GPU 0 (Fake GPU): expected "
                          "non-null pointers, got a null destination"));
  EXPECT_TRUE(
      IsErrorWith(device->CopyToHost(&byte, 0, 1), "got a null source"));
}

// Tests that the device works from a thread other than the one that made
// it: each call makes the context current (the fake, like the real
// driver, keeps the current context per thread).
TEST(CudaDeviceTest, WorksFromAnotherThread) {
  std::unique_ptr<CudaDevice> device = FakeDevice();
  ASSERT_NE(device, nullptr);
  absl::Status status;
  std::vector<int32_t> back(4, 0);
  std::thread([&] {
    absl::StatusOr<DeviceBuffer> buffer = device->Allocate(16, "thread");
    if (!buffer.ok()) {
      status = buffer.status();
      return;
    }
    const int32_t values[4] = {1, 2, 3, 4};
    status = device->CopyToDevice(buffer->pointer(), values, 16);
    if (status.ok())
      status = device->CopyToHost(back.data(), buffer->pointer(), 16);
  }).join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(back, (std::vector<int32_t>{1, 2, 3, 4}));
}

// A device with the test kernels loaded.
struct LoadedKernels {
  std::unique_ptr<CudaDevice> device;
  std::optional<CudaExecutable> executable;
  CUfunction add_scalar = nullptr;
};

LoadedKernels LoadTestKernels() {
  LoadedKernels loaded;
  loaded.device = FakeDevice();
  if (loaded.device == nullptr) return loaded;
  absl::StatusOr<CudaExecutable> executable =
      CudaExecutable::Load(loaded.device.get(), "test kernels", TestPtx());
  EXPECT_TRUE(executable.ok()) << executable.status();
  if (!executable.ok()) return loaded;
  absl::StatusOr<CUfunction> add_scalar = executable->Resolve("add_scalar");
  EXPECT_TRUE(add_scalar.ok()) << add_scalar.status();
  loaded.add_scalar = add_scalar.ok() ? *add_scalar : nullptr;
  loaded.executable.emplace(*std::move(executable));
  return loaded;
}

// Tests that Launch hands the kernel, the grid, the block, the shared
// memory and the parameter values to the driver unchanged.
TEST(CudaDeviceTest, LaunchPassesEverythingThrough) {
  LoadedKernels loaded = LoadTestKernels();
  ASSERT_NE(loaded.add_scalar, nullptr);
  CudaDevice& device = *loaded.device;
  const int launches = FakeState().launches;

  CUdeviceptr data = 0x7f0012345600;
  uint32_t count = 1000;
  float value = 2.5f;
  void* params[] = {&data, &count, &value};
  ASSERT_TRUE(
      device.Launch(loaded.add_scalar, {4, 2, 1}, {128, 1, 2}, 1024, params)
          .ok());

  const FakeCudaState& state = FakeState();
  EXPECT_EQ(state.launches, launches + 1);
  EXPECT_STREQ(state.kernel, "add_scalar");
  EXPECT_EQ(std::vector<unsigned>(state.grid, state.grid + 3),
            (std::vector<unsigned>{4, 2, 1}));
  EXPECT_EQ(std::vector<unsigned>(state.block, state.block + 3),
            (std::vector<unsigned>{128, 1, 2}));
  EXPECT_EQ(state.shared_bytes, 1024u);
  ASSERT_EQ(state.num_params, 3);
  EXPECT_EQ(state.params[0], data);
  EXPECT_EQ(state.params[1], count);
  uint32_t value_bits;
  std::memcpy(&value_bits, &value, sizeof(value_bits));
  EXPECT_EQ(state.params[2], value_bits);
}

// Tests that dynamic shared memory past the default 48 KiB is opted into
// before the launch, and that 48 KiB needs no opt-in.
TEST(CudaDeviceTest, LaunchOptsIntoLargeSharedMemory) {
  LoadedKernels loaded = LoadTestKernels();
  ASSERT_NE(loaded.add_scalar, nullptr);
  CUdeviceptr data = 0;
  uint32_t count = 0;
  float value = 0;
  void* params[] = {&data, &count, &value};
  const int before = FakeState().max_dynamic_shared_bytes;
  ASSERT_TRUE(
      loaded.device
          ->Launch(loaded.add_scalar, {1, 1, 1}, {1, 1, 1}, 48 << 10, params)
          .ok());
  EXPECT_EQ(FakeState().max_dynamic_shared_bytes, before);
  ASSERT_TRUE(
      loaded.device
          ->Launch(loaded.add_scalar, {1, 1, 1}, {1, 1, 1}, 100 << 10, params)
          .ok());
  EXPECT_EQ(FakeState().max_dynamic_shared_bytes, 100 << 10);
  EXPECT_EQ(FakeState().shared_bytes, 100u << 10);
}

// Tests launches refused before the driver sees them, and one the driver
// refuses (more than 1024 threads per block).
TEST(CudaDeviceTest, LaunchErrors) {
  LoadedKernels loaded = LoadTestKernels();
  ASSERT_NE(loaded.add_scalar, nullptr);
  CudaDevice& device = *loaded.device;
  const int launches = FakeState().launches;
  void* params[3] = {};
  EXPECT_TRUE(
      IsErrorWith(device.Launch(nullptr, {1, 1, 1}, {1, 1, 1}, 0, params),
                  "launching a kernel with grid [1, 1, 1] and block "
                  "[1, 1, 1] on GPU 0 (Fake GPU): expected a kernel, "
                  "got null"));
  absl::Status zero =
      device.Launch(loaded.add_scalar, {1, 0, 1}, {32, 1, 1}, 0, params);
  EXPECT_EQ(zero.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsErrorWith(zero, "grid [1, 0, 1] and block [32, 1, 1]"));
  EXPECT_TRUE(IsErrorWith(zero, "expected at least 1 block and thread"));
  EXPECT_EQ(FakeState().launches, launches);

  absl::Status too_big =
      device.Launch(loaded.add_scalar, {1, 1, 1}, {2048, 1, 1}, 0, params);
  EXPECT_EQ(too_big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsErrorWith(too_big,
                          "block [2048, 1, 1] on GPU 0 (Fake GPU): "
                          "CUDA_ERROR_INVALID_VALUE"));
}

// Tests that a kernel fault, which the driver reports at the next
// synchronization, is reported by Synchronize and by CopyToHost.
TEST(CudaDeviceTest, KernelFaultSurfacesAtSynchronize) {
  std::unique_ptr<CudaDevice> device = FakeDevice();
  ASSERT_NE(device, nullptr);
  absl::StatusOr<DeviceBuffer> buffer = device->Allocate(4, "result");
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_TRUE(device->Synchronize().ok());

  ScopedEnv fault("FAKE_CUDA_SYNC_ERROR", "700");
  absl::Status status = device->Synchronize();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(status.message(),
            "GPU 0 (Fake GPU): work on the stream failed: "
            "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was "
            "encountered)");
  float result = 0;
  EXPECT_TRUE(IsErrorWith(device->CopyToHost(&result, buffer->pointer(), 4),
                          "CUDA_ERROR_ILLEGAL_ADDRESS"));
}

}  // namespace
}  // namespace kiln::hal::cuda
