// A fake CUDA driver: a shared library exporting the entry points the
// runtime's CUDA device resolves, so that the device can be tested on
// machines without a GPU. "Device memory" is host memory (a CUdeviceptr is
// a malloc'd address), so copies really move bytes; kernels do not run, but
// cuLaunchKernel records what it was given (fake_cuda_state()).
//
// The types and values are declared here from cuda.h, independently of
// runtime/hal/cuda/cuda_driver.h, so that a wrong value there shows up as a
// test failure instead of being shared by both sides.
//
// Behaviour, read from the environment at each call:
//   FAKE_CUDA_DEVICES      device count (default 1); with 0, cuInit fails
//                          with CUDA_ERROR_NO_DEVICE as the real driver does
//   FAKE_CUDA_INIT_ERROR   the code cuInit returns (overrides the above)
//   FAKE_CUDA_NAME         the device name (default "Fake GPU")
//   FAKE_CUDA_CC           compute capability, major * 10 + minor (90)
//   FAKE_CUDA_SMS          multiprocessor count (132)
//   FAKE_CUDA_TOTAL_MIB    device memory (81559)
//   FAKE_CUDA_FREE_MIB     free memory (the total); cuMemAlloc of more
//                          fails with CUDA_ERROR_OUT_OF_MEMORY
//   FAKE_CUDA_REJECT_PTX   when 1, cuModuleLoadDataEx fails with
//                          CUDA_ERROR_INVALID_PTX and writes a ptxas-like
//                          log into the error log buffer it was given
//   FAKE_CUDA_SYNC_ERROR   the code cuStreamSynchronize returns (0)
//
// Built twice: normally, and with FAKE_CUDA_OMIT_LAUNCH, which leaves out
// cuLaunchKernel so that a test can see a missing entry point reported.
#include "fake_cuda_driver.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void* CUcontext;
typedef void* CUmodule;
typedef void* CUfunction;
typedef void* CUstream;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
};

enum {
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

static FakeCudaState state;
static int initialized;
// The one primary context; a thread's current context.
static int primary_context;
static __thread void* current_context;

const FakeCudaState* fake_cuda_state(void) { return &state; }

static long long EnvInt(const char* name, long long fallback) {
  const char* value = getenv(name);
  return value != NULL && *value != '\0' ? strtoll(value, NULL, 10) : fallback;
}

static unsigned long long TotalBytes(void) {
  return (unsigned long long)EnvInt("FAKE_CUDA_TOTAL_MIB", 81559) << 20;
}

static unsigned long long FreeBytes(void) {
  return (unsigned long long)EnvInt("FAKE_CUDA_FREE_MIB",
                                    EnvInt("FAKE_CUDA_TOTAL_MIB", 81559))
         << 20;
}

// What the real driver checks before work in a context.
static CUresult CheckContext(void) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (current_context != &primary_context || state.contexts == 0) {
    return CUDA_ERROR_INVALID_CONTEXT;
  }
  return CUDA_SUCCESS;
}

static CUresult CheckDevice(CUdevice device) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (device < 0 || device >= EnvInt("FAKE_CUDA_DEVICES", 1)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  return CUDA_SUCCESS;
}

// ---- Errors

static const struct {
  CUresult code;
  const char* name;
  const char* description;
} kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT",
     "invalid device context"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
};

// As the real driver: unknown codes give CUDA_ERROR_INVALID_VALUE and NULL.
static CUresult LookUpError(CUresult error, const char** text, int name) {
  for (size_t i = 0; i < sizeof(kErrors) / sizeof(kErrors[0]); ++i) {
    if (kErrors[i].code == error) {
      *text = name ? kErrors[i].name : kErrors[i].description;
      return CUDA_SUCCESS;
    }
  }
  *text = NULL;
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorName(CUresult error, const char** name) {
  return LookUpError(error, name, 1);
}

CUresult cuGetErrorString(CUresult error, const char** description) {
  return LookUpError(error, description, 0);
}

// ---- Initialization and devices

CUresult cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  CUresult result = (CUresult)EnvInt(
      "FAKE_CUDA_INIT_ERROR",
      EnvInt("FAKE_CUDA_DEVICES", 1) == 0 ? CUDA_ERROR_NO_DEVICE : 0);
  if (result == CUDA_SUCCESS) initialized = 1;
  return result;
}

CUresult cuDriverGetVersion(int* version) {
  if (version == NULL) return CUDA_ERROR_INVALID_VALUE;
  *version = 12040;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (count == NULL) return CUDA_ERROR_INVALID_VALUE;
  *count = (int)EnvInt("FAKE_CUDA_DEVICES", 1);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  CUresult result = CheckDevice(ordinal);
  if (result != CUDA_SUCCESS) return result;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
  CUresult result = CheckDevice(device);
  if (result != CUDA_SUCCESS) return result;
  if (name == NULL || length <= 0) return CUDA_ERROR_INVALID_VALUE;
  const char* value = getenv("FAKE_CUDA_NAME");
  strncpy(name, value != NULL ? value : "Fake GPU", (size_t)length - 1);
  name[length - 1] = '\0';
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
  CUresult result = CheckDevice(device);
  if (result != CUDA_SUCCESS) return result;
  const int capability = (int)EnvInt("FAKE_CUDA_CC", 90);
  switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
      *value = (int)EnvInt("FAKE_CUDA_SMS", 132);
      return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
      *value = capability / 10;
      return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
      *value = capability % 10;
      return CUDA_SUCCESS;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
  CUresult result = CheckDevice(device);
  if (result != CUDA_SUCCESS) return result;
  *bytes = (size_t)TotalBytes();
  return CUDA_SUCCESS;
}

// ---- Contexts and streams

CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
  CUresult result = CheckDevice(device);
  if (result != CUDA_SUCCESS) return result;
  ++state.contexts;
  *context = &primary_context;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  CUresult result = CheckDevice(device);
  if (result != CUDA_SUCCESS) return result;
  if (state.contexts == 0) return CUDA_ERROR_INVALID_CONTEXT;
  --state.contexts;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext context) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (context != NULL && context != &primary_context) {
    return CUDA_ERROR_INVALID_CONTEXT;
  }
  current_context = context;
  return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream* stream, unsigned int flags) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (stream == NULL || flags > 1) return CUDA_ERROR_INVALID_VALUE;
  *stream = malloc(1);
  ++state.streams;
  return CUDA_SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
  free(stream);
  --state.streams;
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
  return (CUresult)EnvInt("FAKE_CUDA_SYNC_ERROR", 0);
}

// ---- Memory: host memory standing in for the GPU's

CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  *free_bytes = (size_t)FreeBytes();
  *total_bytes = (size_t)TotalBytes();
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (pointer == NULL || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (bytes > FreeBytes()) return CUDA_ERROR_OUT_OF_MEMORY;
  void* memory = malloc(bytes);
  if (memory == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
  *pointer = (CUdeviceptr)(uintptr_t)memory;
  ++state.allocations;
  return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  free((void*)(uintptr_t)pointer);
  --state.allocations;
  return CUDA_SUCCESS;
}

CUresult cuMemsetD8_v2(CUdeviceptr destination, unsigned char value,
                       size_t count) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  memset((void*)(uintptr_t)destination, value, count);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr destination, const void* source,
                         size_t bytes) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  memcpy((void*)(uintptr_t)destination, source, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void* destination, CUdeviceptr source, size_t bytes) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  memcpy(destination, (const void*)(uintptr_t)source, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void* source,
                              size_t bytes, CUstream stream) {
  if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
  return cuMemcpyHtoD_v2(destination, source, bytes);
}

CUresult cuMemcpyDtoHAsync_v2(void* destination, CUdeviceptr source,
                              size_t bytes, CUstream stream) {
  if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
  return cuMemcpyDtoH_v2(destination, source, bytes);
}

// ---- Modules: the PTX is kept; a function is its .entry's name in it

static const char kRejectLog[] =
    "ptxas application ptx input, line 9; error   : Unknown symbol 'nope'\n"
    "ptxas fatal   : Ptx assembly aborted due to errors\n";

CUresult cuModuleLoadDataEx(CUmodule* module, const void* image,
                            unsigned int num_options, int* options,
                            void** option_values) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (module == NULL || image == NULL) return CUDA_ERROR_INVALID_VALUE;
  if (EnvInt("FAKE_CUDA_REJECT_PTX", 0) == 1) {
    char* log = NULL;
    size_t size = 0;
    for (unsigned int i = 0; i < num_options; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER) log = option_values[i];
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES) {
        size = (size_t)(uintptr_t)option_values[i];
      }
    }
    if (log != NULL && size > 0) {
      strncpy(log, kRejectLog, size - 1);
      log[size - 1] = '\0';
    }
    return CUDA_ERROR_INVALID_PTX;
  }
  *module = strdup((const char*)image);
  ++state.modules;
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (module == NULL) return CUDA_ERROR_INVALID_HANDLE;
  free(module);
  --state.modules;
  return CUDA_SUCCESS;
}

static int IsNameChar(char c) {
  return c == '_' || c == '$' || (c >= '0' && c <= '9') ||
         (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

CUresult cuModuleGetFunction(CUfunction* function, CUmodule module,
                             const char* name) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (function == NULL || module == NULL || name == NULL) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  const size_t length = strlen(name);
  for (char* entry = strstr(module, ".entry "); entry != NULL;
       entry = strstr(entry + 1, ".entry ")) {
    char* candidate = entry + strlen(".entry ");
    while (*candidate == ' ') ++candidate;
    if (strncmp(candidate, name, length) == 0 &&
        !IsNameChar(candidate[length])) {
      *function = candidate;
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (function == NULL) return CUDA_ERROR_INVALID_HANDLE;
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  state.max_dynamic_shared_bytes = value;
  return CUDA_SUCCESS;
}

#ifndef FAKE_CUDA_OMIT_LAUNCH
// Records the parameters of the .entry whose name starts at `function`:
// ".param .u64 name" is 8 bytes, ".param .u32 name" 4, and so on.
static void RecordParams(const char* function, void** params) {
  const char* list = strchr(function, '(');
  const char* end = list != NULL ? strchr(list, ')') : NULL;
  state.num_params = 0;
  for (const char* param = list != NULL ? strstr(list, ".param") : NULL;
       param != NULL && param < end && state.num_params < FAKE_CUDA_MAX_PARAMS;
       param = strstr(param + 1, ".param")) {
    // The type's width in bits follows its letter: ".u64", ".f32", ".b8".
    const char* type = strchr(param + strlen(".param"), '.');
    size_t bytes = type != NULL ? (size_t)strtol(type + 2, NULL, 10) / 8 : 0;
    unsigned long long value = 0;
    if (bytes > 0 && bytes <= sizeof(value)) {
      memcpy(&value, params[state.num_params], bytes);
    }
    state.params[state.num_params++] = value;
  }
}

CUresult cuLaunchKernel(CUfunction function, unsigned int grid_x,
                        unsigned int grid_y, unsigned int grid_z,
                        unsigned int block_x, unsigned int block_y,
                        unsigned int block_z, unsigned int shared_bytes,
                        CUstream stream, void** params, void** extra) {
  CUresult result = CheckContext();
  if (result != CUDA_SUCCESS) return result;
  if (function == NULL) return CUDA_ERROR_INVALID_HANDLE;
  if (extra != NULL) return CUDA_ERROR_INVALID_VALUE;
  if (block_x * block_y * block_z > 1024) return CUDA_ERROR_INVALID_VALUE;
  ++state.launches;
  size_t length = 0;
  while (IsNameChar(((const char*)function)[length])) ++length;
  if (length >= sizeof(state.kernel)) length = sizeof(state.kernel) - 1;
  memcpy(state.kernel, function, length);
  state.kernel[length] = '\0';
  const unsigned grid[3] = {grid_x, grid_y, grid_z};
  const unsigned block[3] = {block_x, block_y, block_z};
  memcpy(state.grid, grid, sizeof(grid));
  memcpy(state.block, block, sizeof(block));
  state.shared_bytes = shared_bytes;
  (void)stream;
  RecordParams(function, params);
  return CUDA_SUCCESS;
}
#endif  // FAKE_CUDA_OMIT_LAUNCH
