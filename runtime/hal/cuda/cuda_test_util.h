// Test-only helpers for runtime/hal/cuda: test PTX and the fake driver
// (testdata/fake_cuda_driver.c), which the tests load in place of libcuda
// and steer through environment variables. Include only from *_test.cc
// built with KILN_FAKE_CUDA (the fake library's path) and KILN_TEST_PTX.
#ifndef KILN_RUNTIME_HAL_CUDA_CUDA_TEST_UTIL_H_
#define KILN_RUNTIME_HAL_CUDA_CUDA_TEST_UTIL_H_

#include <dlfcn.h>
#include <stdlib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "runtime/hal/cuda/cuda_device.h"
#include "runtime/hal/cuda/cuda_driver.h"
#include "runtime/hal/cuda/testdata/fake_cuda_driver.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cuda::testing {

// Sets an environment variable (the fake driver reads its behaviour from
// them at each call) for the scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// What the fake driver recorded. Opening the library by the path the
// runtime uses gives the same loaded copy, hence the same state.
inline const FakeCudaState& FakeState() {
  static const FakeCudaState* state = [] {
    void* handle = ::dlopen(KILN_FAKE_CUDA, RTLD_NOW | RTLD_LOCAL);
    EXPECT_NE(handle, nullptr) << ::dlerror();
    using StateFn = const FakeCudaState* (*)();
    auto get = reinterpret_cast<StateFn>(
        handle != nullptr ? ::dlsym(handle, "fake_cuda_state") : nullptr);
    EXPECT_NE(get, nullptr) << "the fake driver lacks fake_cuda_state";
    static const FakeCudaState kEmpty = {};
    return get != nullptr ? get() : &kEmpty;
  }();
  return *state;
}

// A device on the fake driver, as the environment configures it.
inline absl::StatusOr<std::unique_ptr<CudaDevice>> CreateFakeDevice(
    int ordinal = 0) {
  absl::StatusOr<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::Load(KILN_FAKE_CUDA);
  if (!driver.ok()) return driver.status();
  return CudaDevice::Create(*std::move(driver), ordinal);
}

inline std::vector<uint8_t> Bytes(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

// testdata/test_kernels.ptx.
inline std::vector<uint8_t> TestPtx() {
  return Bytes(io::testing::ReadFile(KILN_TEST_PTX));
}

}  // namespace kiln::hal::cuda::testing

#endif  // KILN_RUNTIME_HAL_CUDA_CUDA_TEST_UTIL_H_
