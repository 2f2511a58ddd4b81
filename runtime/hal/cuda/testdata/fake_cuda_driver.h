// What the fake CUDA driver (fake_cuda_driver.c) records, for tests to read
// through fake_cuda_state(). Plain C, shared by the fake and the tests.
#ifndef KILN_RUNTIME_HAL_CUDA_TESTDATA_FAKE_CUDA_DRIVER_H_
#define KILN_RUNTIME_HAL_CUDA_TESTDATA_FAKE_CUDA_DRIVER_H_

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_CUDA_MAX_PARAMS 16

typedef struct {
  // Live objects: retains of the primary context not yet released, and
  // streams, modules and allocations not yet destroyed.
  int contexts;
  int streams;
  int modules;
  int allocations;
  // The last cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) value.
  int max_dynamic_shared_bytes;
  // How many cuLaunchKernel calls succeeded, and what the last one got.
  int launches;
  char kernel[64];
  unsigned grid[3];
  unsigned block[3];
  unsigned shared_bytes;
  // The kernel's parameters, counted from its PTX .entry, and their values
  // (each zero-extended from the size its PTX type declares).
  int num_params;
  unsigned long long params[FAKE_CUDA_MAX_PARAMS];
} FakeCudaState;

const FakeCudaState* fake_cuda_state(void);

#ifdef __cplusplus
}
#endif

#endif  // KILN_RUNTIME_HAL_CUDA_TESTDATA_FAKE_CUDA_DRIVER_H_
