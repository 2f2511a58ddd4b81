#include "runtime/hal/cuda/cuda_driver.h"

#include <dlfcn.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "runtime/hal/cuda/cuda_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cuda {
namespace {

using ::kiln::hal::cuda::testing::ScopedEnv;
using ::kiln::io::testing::IsErrorWith;

// Tests that a machine without the driver gets told what is missing and
// how to run anyway.
TEST(CudaDriverTest, MissingLibraryIsExplained) {
  absl::StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::Load("/nonexistent/libcuda.so.1");
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsErrorWith(driver,
                          "cannot load the CUDA driver "
                          "(/nonexistent/libcuda.so.1): "));
  EXPECT_TRUE(IsErrorWith(driver, "No such file or directory"));
  EXPECT_TRUE(IsErrorWith(driver,
                          "; is the NVIDIA driver installed? Use "
                          "--device cpu to run on the CPU"));
}

// Tests that KILN_LIBCUDA picks the library when none is passed, and that
// a path passed in wins over it.
TEST(CudaDriverTest, EnvironmentChoosesTheLibrary) {
  {
    ScopedEnv env("KILN_LIBCUDA", KILN_FAKE_CUDA);
    absl::StatusOr<std::unique_ptr<CudaDriver>> driver = CudaDriver::Load();
    ASSERT_TRUE(driver.ok()) << driver.status();
    EXPECT_EQ((*driver)->library(), KILN_FAKE_CUDA);
  }
  ScopedEnv env("KILN_LIBCUDA", "/nonexistent/libfake.so");
  EXPECT_TRUE(IsErrorWith(CudaDriver::Load(),
                          "cannot load the CUDA driver "
                          "(/nonexistent/libfake.so)"));
  absl::StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::Load(KILN_FAKE_CUDA);
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_EQ((*driver)->library(), KILN_FAKE_CUDA);
}

// Tests that a library lacking an entry point is refused at load time,
// naming the symbol and the library, instead of failing at the first call.
TEST(CudaDriverTest, MissingSymbolIsNamed) {
  absl::StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::Load(KILN_FAKE_CUDA_NO_LAUNCH);
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsErrorWith(driver, std::string("the CUDA driver ") +
                                      KILN_FAKE_CUDA_NO_LAUNCH +
                                      " lacks cuLaunchKernel"));
}

// Tests that members bound to cuda.h's versioned symbols (64-bit sizes)
// resolve to those, not to the unversioned CUDA 3.x exports.
TEST(CudaDriverTest, ResolvesVersionedSymbols) {
  absl::StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::Load(KILN_FAKE_CUDA);
  ASSERT_TRUE(driver.ok()) << driver.status();
  void* handle = ::dlopen(KILN_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  EXPECT_EQ(reinterpret_cast<void*>((*driver)->cuMemAlloc),
            ::dlsym(handle, "cuMemAlloc_v2"));
  EXPECT_EQ(reinterpret_cast<void*>((*driver)->cuMemcpyDtoHAsync),
            ::dlsym(handle, "cuMemcpyDtoHAsync_v2"));
  EXPECT_EQ(reinterpret_cast<void*>((*driver)->cuDevicePrimaryCtxRelease),
            ::dlsym(handle, "cuDevicePrimaryCtxRelease_v2"));
  EXPECT_EQ(reinterpret_cast<void*>((*driver)->cuInit),
            ::dlsym(handle, "cuInit"));
  ::dlclose(handle);
}

// Tests the messages and status codes Check makes of CUDA errors.
TEST(CudaDriverTest, CheckNamesAndDescribesErrors) {
  absl::StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::Load(KILN_FAKE_CUDA);
  ASSERT_TRUE(driver.ok()) << driver.status();
  const CudaDriver& api = **driver;
  EXPECT_TRUE(api.Check(CUDA_SUCCESS, "anything").ok());

  absl::Status ptx = api.Check(CUDA_ERROR_INVALID_PTX, "loading module 3");
  EXPECT_EQ(ptx.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ptx.message(),
            "loading module 3: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation "
            "failed)");
  EXPECT_EQ(api.Check(CUDA_ERROR_OUT_OF_MEMORY, "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(api.Check(CUDA_ERROR_NO_DEVICE, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(api.Check(CUDA_ERROR_NOT_FOUND, "x").code(),
            absl::StatusCode::kNotFound);
  absl::Status fault = api.Check(700, "synchronizing");
  EXPECT_EQ(fault.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(fault.message(),
            "synchronizing: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory "
            "access was encountered)");
  // A code the driver cannot name still gives a message with the number.
  absl::Status unknown = api.Check(12345, "launching");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(unknown.message(), "launching: CUDA error 12345");
}

}  // namespace
}  // namespace kiln::hal::cuda
