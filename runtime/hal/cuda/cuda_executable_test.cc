#include "runtime/hal/cuda/cuda_executable.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/hal/cuda/cuda_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cuda {
namespace {

using ::kiln::hal::cuda::testing::Bytes;
using ::kiln::hal::cuda::testing::CreateFakeDevice;
using ::kiln::hal::cuda::testing::FakeState;
using ::kiln::hal::cuda::testing::ScopedEnv;
using ::kiln::hal::cuda::testing::TestPtx;
using ::kiln::io::testing::IsErrorWith;

class CudaExecutableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<CudaDevice>> device = CreateFakeDevice();
    ASSERT_TRUE(device.ok()) << device.status();
    device_ = *std::move(device);
  }

  std::unique_ptr<CudaDevice> device_;
};

// Tests loading PTX and resolving its kernels, and that the module is
// unloaded exactly once however the executable is moved.
TEST_F(CudaExecutableTest, LoadsAndResolves) {
  const int modules = FakeState().modules;
  {
    absl::StatusOr<CudaExecutable> loaded =
        CudaExecutable::Load(device_.get(), "executable 0", TestPtx());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(FakeState().modules, modules + 1);
    CudaExecutable executable = *std::move(loaded);
    EXPECT_EQ(executable.label(), "executable 0");
    EXPECT_EQ(executable.jit_log(), "");

    absl::StatusOr<CUfunction> add = executable.Resolve("add_scalar");
    ASSERT_TRUE(add.ok()) << add.status();
    absl::StatusOr<CUfunction> fault =
        executable.Resolve("store_to_bad_address");
    ASSERT_TRUE(fault.ok()) << fault.status();
    EXPECT_NE(*add, *fault);

    CudaExecutable moved = std::move(executable);
    EXPECT_TRUE(moved.Resolve("add_scalar").ok());
    EXPECT_TRUE(IsErrorWith(executable.Resolve("add_scalar"),  // NOLINT
                            "cannot resolve kernel 'add_scalar': moved from"));
    EXPECT_EQ(FakeState().modules, modules + 1);
  }
  EXPECT_EQ(FakeState().modules, modules);
}

TEST_F(CudaExecutableTest, KernelNotFound) {
  absl::StatusOr<CudaExecutable> executable =
      CudaExecutable::Load(device_.get(), "executable 3", TestPtx());
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<CUfunction> missing = executable->Resolve("add");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "executable 3: no kernel 'add' in the PTX (CUDA_ERROR_NOT_FOUND)");
}

// Tests that PTX the driver's JIT compiler rejects is reported with the
// first lines of its log.
TEST_F(CudaExecutableTest, RejectedPtxQuotesTheLog) {
  ScopedEnv reject("FAKE_CUDA_REJECT_PTX", "1");
  const int modules = FakeState().modules;
  absl::StatusOr<CudaExecutable> executable =
      CudaExecutable::Load(device_.get(), "executable 1", TestPtx());
  EXPECT_EQ(executable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(executable.status().message(),
            "executable 1: the GPU driver rejected the PTX: "
            "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed):\n"
            "  ptxas application ptx input, line 9; error   : Unknown symbol "
            "'nope'\n"
            "  ptxas fatal   : Ptx assembly aborted due to errors");
  EXPECT_EQ(FakeState().modules, modules);
}

// Tests that bytes that are not PTX text are refused before the driver
// sees them (it would reject them too, but say less).
TEST_F(CudaExecutableTest, NonPtxRefusedBeforeTheDriver) {
  ScopedEnv reject("FAKE_CUDA_REJECT_PTX", "1");
  absl::StatusOr<CudaExecutable> empty =
      CudaExecutable::Load(device_.get(), "executable 2", {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsErrorWith(empty, "executable 2: not PTX text (0 bytes"));
  EXPECT_TRUE(
      IsErrorWith(CudaExecutable::Load(device_.get(), "executable 2",
                                       Bytes(std::string("\x7f"
                                                         "ELF\x02\x01\x01",
                                                         7))),
                  "executable 2: an ELF file (a cubin?), expected PTX text"));
  EXPECT_TRUE(IsErrorWith(
      CudaExecutable::Load(device_.get(), "executable 2",
                           Bytes("int main() { return 0; }")),
      "executable 2: not PTX text (starts with \"int main() { ret\", "
      "expected a module with .version and .target directives)"));
}

// Tests that trailing NULs (a C string stored whole) are accepted.
TEST_F(CudaExecutableTest, TrailingNulsAccepted) {
  std::vector<uint8_t> ptx = TestPtx();
  ptx.push_back(0);
  ptx.push_back(0);
  absl::StatusOr<CudaExecutable> executable =
      CudaExecutable::Load(device_.get(), "executable 4", ptx);
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_TRUE(executable->Resolve("add_scalar").ok());
}

}  // namespace
}  // namespace kiln::hal::cuda
