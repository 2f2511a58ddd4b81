// A call of an entry function after the executor's checks (executor.h,
// steps 1 to 3): every expression evaluated and every binding checked
// against its buffer. What runs it (the CPU path in executor.cc, the CUDA
// device in cuda_runner.cc) only allocates, copies and launches.
#ifndef KILN_RUNTIME_EXECUTOR_PREPARED_CALL_H_
#define KILN_RUNTIME_EXECUTOR_PREPARED_CALL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/contents.h"
#include "runtime/hal/kernel_abi.h"

namespace kiln::executor {

// A binding of one dispatch, its expressions evaluated and checked.
struct PreparedBinding {
  artifact::BufferKind kind;
  uint32_t index;
  int64_t byte_offset;  // a multiple of the element size
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // empty: contiguous row-major
  int64_t element_size;
  bool writes = false;  // access is write or readwrite
};

// The descriptor a kernel sees for `binding` of a buffer at `base` (a host
// or a device address): row-major at base + byte offset when the binding has
// no strides, else strided from the base (artifact.fbs, Binding).
inline absl::StatusOr<hal::MemrefDescriptor> DescriptorOf(
    const PreparedBinding& binding, uint8_t* base) {
  if (binding.strides.empty()) {
    return hal::MemrefDescriptor::RowMajor(base + binding.byte_offset, 0,
                                           binding.shape);
  }
  return hal::MemrefDescriptor::Strided(
      base, binding.byte_offset / binding.element_size, binding.shape,
      binding.strides);
}

struct PreparedDispatch {
  int64_t workgroups;  // x * y * z of the CPU kernel's workgroup count
  std::vector<PreparedBinding> bindings;
};

struct PreparedCall {
  const artifact::EntryFunction* entry = nullptr;
  std::string where;  // "<path>: entry '<name>'", for errors
  std::vector<int64_t> dim_values;
  // Bytes of each buffer, by kind and index (artifact::BufferKind).
  std::array<std::vector<int64_t>, artifact::kNumBufferKinds> buffer_bytes;
  int64_t arena_bytes = 0;
  std::vector<int64_t> planned_offsets;  // in the arena, per planned buffer
  std::vector<std::vector<int64_t>> output_shapes;
  std::vector<PreparedDispatch> dispatches;
};

}  // namespace kiln::executor

#endif  // KILN_RUNTIME_EXECUTOR_PREPARED_CALL_H_
