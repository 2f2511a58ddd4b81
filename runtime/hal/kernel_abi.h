// The contract between the code Kiln's compiler generates and the runtime's
// devices: how a kernel is called and how it sees its buffers. The compiler's
// targets generate code for exactly this; the devices call exactly this.
//
// Buffers: memref descriptors
// ---------------------------
// A kernel sees each buffer it reads or writes (a "binding") as a ranked
// memref descriptor, MLIR's C-interface layout (`StridedMemRefType<T, rank>`
// in mlir/ExecutionEngine/CRunnerUtils.h), as consecutive int64 words:
//
//   word 0                        allocated pointer (the buffer's base)
//   word 1                        aligned pointer (equal to word 0 here)
//   word 2                        offset, in elements, of the first element
//                                 from the aligned pointer
//   words 3 .. 3+rank-1           sizes[rank]
//   words 3+rank .. 3+2*rank-1    strides[rank], in elements
//
// Element (i0, ..., ik) is at aligned + offset + sum(i_d * strides[d]),
// counting in elements of the binding's type. The element type and the rank
// are fixed when the kernel is compiled: the descriptor carries neither. The
// runtime passes contiguous row-major views (strides[rank-1] == 1,
// strides[d] == strides[d+1] * sizes[d+1]) for bindings without strides and
// the compiler's strided views for bindings with strides (format 1.1); see
// MemrefDescriptor below.
// Without strides, the executor folds a binding's byte offset into both
// pointers and passes offset 0: a kernel whose memrefs have identity layouts
// (static offset 0, so its code never reads word 2) sees a view at an
// offset correctly. With strides, both pointers are the buffer's base and
// word 2 is the offset in elements, so that a kernel compiled for a static
// layout (`strided<[16, 1], offset: 4>`, which reads neither word 2 nor the
// strides) and one compiled for a dynamic layout both see the same elements.
//
// CPU kernels
// -----------
// The CPU target compiles every dispatch into a function exported, with
// default visibility, from an x86-64 ELF shared object (ET_DYN) stored in the
// artifact:
//
//   extern "C" void kernel(int64_t* const* bindings, int64_t workgroup_id,
//                          int64_t workgroup_count);
//
// - The symbol's name is the kernel name the artifact records for the
//   dispatch; the calling convention is the System V AMD64 ABI.
// - bindings[i] points to the descriptor of the dispatch's i-th binding, in
//   the order the artifact lists them.
// - An artifact's dispatch counts workgroups in three dimensions (x, y, z);
//   a CPU kernel sees them linearized: workgroup_count = x * y * z and
//   workgroup_id = id_x + x * (id_y + y * id_z).
// - The runtime calls the kernel once for every workgroup_id in
//   [0, workgroup_count), in no particular order, concurrently from several
//   threads; all calls of one dispatch share the same bindings. Each call
//   writes only its own workgroup's part of the outputs, so calls never
//   race. The dispatch is over when every call has returned.
// - A kernel cannot fail and returns nothing: the runtime validates shapes
//   and buffers before it dispatches. It keeps no state between calls and
//   never calls back into the runtime.
// - The shared object is loaded with RTLD_NOW | RTLD_LOCAL: every undefined
//   symbol must resolve, at load time, against libc or libm (always loaded
//   in the runtime's process). It may need the CPU features the artifact
//   lists for it (LLVM's names: "avx2", "avx512f", ...); the runtime checks
//   them (cpu::CheckCpuFeatures) before it loads the code.
// - Buffers the runtime allocates (arenas) are 64-byte aligned; a view at an
//   offset is aligned only as far as its offset makes it.
//
// CUDA kernels
// ------------
// The CUDA target compiles every dispatch into a `.visible .entry` of one
// PTX module (executable format "ptx", target "cuda-sm_<NN>[a]"), named like
// the CPU symbol (kiln_kernel_<dispatch>):
//
// - Parameters: each binding's memref descriptor, in binding order, one
//   `.param .u64` per descriptor word (the words above: allocated pointer,
//   aligned pointer, offset, sizes, strides), so a dispatch with bindings of
//   ranks r_i takes sum(3 + 2 * r_i) parameters. Pointers are device
//   addresses; the runtime builds the descriptors exactly as for the CPU.
// - Launch: blocks of the executable's threads_per_block threads (x only),
//   on any grid: each kernel walks its output elements with a grid-stride
//   loop (thread block_id.x * block_dim.x + thread_id.x takes every
//   grid_dim.x * block_dim.x-th element), so the runtime picks the grid
//   (CudaRunner: one thread per element of the largest buffer written, at
//   most 64 blocks per multiprocessor). No dynamic shared memory.
// - Order: the dispatches of an entry run in order on one stream; a kernel
//   sees every write of the ones before it.
// - Like CPU kernels, CUDA kernels cannot fail, keep no state and call
//   nothing but the math functions linked into the PTX (libdevice).
#ifndef KILN_RUNTIME_HAL_KERNEL_ABI_H_
#define KILN_RUNTIME_HAL_KERNEL_ABI_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"

namespace kiln::hal {

static_assert(sizeof(void*) == sizeof(int64_t),
              "the kernel ABI stores pointers in int64 words");

// A CPU kernel, as the device calls it (see above).
using CpuKernelFn = void (*)(int64_t* const* bindings, int64_t workgroup_id,
                             int64_t workgroup_count);

// The words of one ranked memref descriptor, built for a contiguous
// row-major view of a buffer. Pass words() as bindings[i]. Move-only; the
// words stay where they are when the descriptor is moved, so a bindings array
// built from words() stays valid.
class MemrefDescriptor {
 public:
  // A view of `shape` elements laid out row-major, starting `offset`
  // elements past `base` (both allocated and aligned pointer). Rank 0 (an
  // empty shape) is a scalar. Errors (InvalidArgument): a negative offset or
  // dimension, or an element count or end offset past 2^63 - 1.
  static absl::StatusOr<MemrefDescriptor> RowMajor(
      void* base, int64_t offset, absl::Span<const int64_t> shape) {
    if (offset < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "memref descriptor: expected a non-negative offset, got ", offset));
    }
    const int64_t rank = static_cast<int64_t>(shape.size());
    std::vector<int64_t> words(3 + 2 * rank);
    words[0] = reinterpret_cast<intptr_t>(base);
    words[1] = reinterpret_cast<intptr_t>(base);
    words[2] = offset;
    int64_t stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (shape[d] < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "memref descriptor: expected non-negative sizes, got [",
            absl::StrJoin(shape, ", "), "]"));
      }
      words[3 + d] = shape[d];
      words[3 + rank + d] = stride;
      if (__builtin_mul_overflow(stride, shape[d], &stride)) {
        return TooLarge(offset, shape);
      }
    }
    // `stride` is now the element count; the view ends at offset + count.
    int64_t end;
    if (__builtin_add_overflow(offset, stride, &end)) {
      return TooLarge(offset, shape);
    }
    return MemrefDescriptor(std::move(words));
  }

  // A strided view: element (i0, ..., ik) at base + offset +
  // sum(i_d * strides[d]). The caller has checked that the view lies inside
  // its buffer (the executor does, from the artifact's size expression).
  static absl::StatusOr<MemrefDescriptor> Strided(
      void* base, int64_t offset, absl::Span<const int64_t> shape,
      absl::Span<const int64_t> strides) {
    if (offset < 0 || strides.size() != shape.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "memref descriptor: expected a non-negative offset and one stride "
          "per dimension, got offset ",
          offset, ", shape [", absl::StrJoin(shape, ", "), "], strides [",
          absl::StrJoin(strides, ", "), "]"));
    }
    const size_t rank = shape.size();
    std::vector<int64_t> words(3 + 2 * rank);
    words[0] = reinterpret_cast<intptr_t>(base);
    words[1] = reinterpret_cast<intptr_t>(base);
    words[2] = offset;
    for (size_t d = 0; d < rank; ++d) {
      words[3 + d] = shape[d];
      words[3 + rank + d] = strides[d];
    }
    return MemrefDescriptor(std::move(words));
  }

  MemrefDescriptor(MemrefDescriptor&&) noexcept = default;
  MemrefDescriptor& operator=(MemrefDescriptor&&) noexcept = default;
  MemrefDescriptor(const MemrefDescriptor&) = delete;
  MemrefDescriptor& operator=(const MemrefDescriptor&) = delete;

  int64_t rank() const { return (static_cast<int64_t>(words_.size()) - 3) / 2; }
  // The 3 + 2 * rank words, laid out as the ABI above says.
  int64_t* words() { return words_.data(); }
  const int64_t* words() const { return words_.data(); }
  size_t num_words() const { return words_.size(); }

  void* allocated() const { return reinterpret_cast<void*>(words_[0]); }
  void* aligned() const { return reinterpret_cast<void*>(words_[1]); }
  int64_t offset() const { return words_[2]; }
  int64_t size(int64_t dim) const { return words_[3 + dim]; }
  int64_t stride(int64_t dim) const { return words_[3 + rank() + dim]; }

 private:
  explicit MemrefDescriptor(std::vector<int64_t> words)
      : words_(std::move(words)) {}

  static absl::Status TooLarge(int64_t offset,
                               absl::Span<const int64_t> shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memref descriptor: a view of [", absl::StrJoin(shape, ", "),
        "] elements at offset ", offset, " ends past 2^63 - 1 elements"));
  }

  std::vector<int64_t> words_;
};

}  // namespace kiln::hal

#endif  // KILN_RUNTIME_HAL_KERNEL_ABI_H_
