// What a .kiln artifact holds, in plain C++: the writer takes an
// ArtifactContents, and Artifact::Open hands one out whose byte spans point
// into the file's mapping. runtime/schema/artifact.fbs is the stored form;
// docs/ARTIFACT.md explains the format.
#ifndef KILN_RUNTIME_ARTIFACT_CONTENTS_H_
#define KILN_RUNTIME_ARTIFACT_CONTENTS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/artifact/expression.h"
#include "runtime/io/dtype.h"

namespace kiln::artifact {

using io::DType;

// format_version is (major << 16) | minor. A reader accepts its own major
// version and every minor version of it.
inline constexpr uint32_t kFormatMajor = 1;
inline constexpr uint32_t kFormatMinor = 4;
inline constexpr uint32_t kFormatVersion = (kFormatMajor << 16) | kFormatMinor;

// "1.0" for 0x00010000.
std::string FormatVersionString(uint32_t version);

// The weight segment starts at a multiple of this, and so does every
// parameter and every executable's code.
inline constexpr uint64_t kAlignment = 64;

// A named byte string: a config.json, a tokenizer file, scheduler settings.
struct MetadataBlob {
  std::string name;
  absl::Span<const uint8_t> data;

  std::string_view text() const {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }
};

// Compiled code for one target.
struct Executable {
  std::string target;                     // "cpu-x86_64-avx2", "cuda-sm_90a"
  std::string format;                     // "elf-shared-object", "ptx"
  std::vector<std::string> cpu_features;  // "avx512f", ...
  std::vector<std::string> kernels;       // the symbols dispatches name
  absl::Span<const uint8_t> code;         // 64-byte aligned when loaded
  // CUDA executables (format 1.3): every kernel's threads per block; 0 for
  // CPU ones.
  uint32_t threads_per_block = 0;
  // CUDA executables (format 1.4): per kernel, the output elements one
  // block takes, to size the grid; empty means threads_per_block for every
  // kernel.
  std::vector<uint64_t> elements_per_block;

  // The index of `kernel` in `kernels`, or nullopt.
  std::optional<size_t> FindKernel(const std::string& kernel) const;
};

// One weight. Loaded: `data` points into the mapping, 64-byte aligned,
// `offset` is its place in the weight segment. Written: `data` is the
// caller's buffer and the writer assigns `offset` (the given one is ignored).
struct Parameter {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;
  absl::Span<const uint8_t> data;  // numel * DTypeSize(dtype) bytes
  // For an F8_E4M3 weight [out, ...]: the name of the F32 parameter [out]
  // holding its per-output-channel scales; empty otherwise.
  std::string scale;
  // Writer only, instead of `data`: called with a buffer of exactly
  // numel * DTypeSize(dtype) bytes to fill, when the parameter is written.
  // WriteArtifact fills and writes one parameter at a time, so a compiler
  // never holds all of a model's weights in memory.
  std::function<absl::Status(absl::Span<uint8_t>)> fill;
};

// The bytes `p` takes in the weight segment: its data's, or with `fill` the
// size its dtype and shape give (0 if they overflow; validation reports it).
uint64_t ParameterByteSize(const Parameter& p);

// A tensor dimension: dims[dim] when dim >= 0, else the constant `value`.
struct ShapeDim {
  int32_t dim = -1;
  int64_t value = 0;

  static ShapeDim Constant(int64_t value) { return {-1, value}; }
  static ShapeDim Symbolic(int32_t dim) { return {dim, 0}; }
  bool is_symbolic() const { return dim >= 0; }
  bool operator==(const ShapeDim& o) const {
    return dim == o.dim && value == o.value;
  }
};

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<ShapeDim> shape;
};

// What a Binding's index counts: the entry's inputs or outputs, the
// artifact's parameters, or the entry's planned intermediate buffers.
enum class BufferKind : uint8_t { kInput, kOutput, kParameter, kIntermediate };
inline constexpr int kNumBufferKinds = 4;
const char* BufferKindName(BufferKind kind);  // "input", "output", ...

enum class Access : uint8_t { kRead, kWrite, kReadWrite };
inline constexpr int kNumAccesses = 3;
const char* AccessName(Access access);  // "read", "write", "readwrite"

// Bytes [offset, offset + size) of one buffer, passed to a kernel as a
// row-major view of `dtype` x `shape` (the memref descriptor of
// runtime/hal/kernel_abi.h; an empty shape is a scalar).
struct Binding {
  BufferKind kind = BufferKind::kInput;
  uint32_t index = 0;
  Expression offset;
  Expression size;
  Access access = Access::kRead;
  DType dtype = DType::F32;
  std::vector<Expression> shape;  // in elements
  // Empty: a contiguous row-major view at byte `offset`. Otherwise one
  // stride per dimension, in elements (format 1.1; see Binding in
  // artifact.fbs for how the descriptor differs).
  std::vector<Expression> strides;
};

// The dispatch's kernel compiled for another target (format 1.3): same
// bindings, same effect.
struct KernelVariant {
  uint32_t executable = 0;
  std::string kernel;
};

// One kernel launch: kernels[kernel] of executables[executable] over
// workgroup_count[0] x [1] x [2] workgroups, or one of its variants.
struct Dispatch {
  uint32_t executable = 0;
  std::string kernel;
  std::array<Expression, 3> workgroup_count;
  std::vector<Binding> bindings;
  std::vector<KernelVariant> variants;
};

// An intermediate buffer at [offset, offset + size) of the entry's arena.
struct PlannedBuffer {
  std::string name;
  Expression offset;
  Expression size;
};

struct MemoryPlan {
  Expression arena_size;
  std::vector<PlannedBuffer> buffers;
};

// Two sizes the entry's kernels need equal, checked before any kernel runs
// (format 1.2; see SizeEquality in artifact.fbs). `dispatch` is the first
// dispatch that needs it.
struct SizeEquality {
  Expression lhs;
  Expression rhs;
  uint32_t dispatch = 0;
};

// A function the runtime calls ("encode_text", "denoise", "vae_decode").
struct EntryFunction {
  std::string name;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<Dispatch> dispatches;  // run in order
  MemoryPlan memory_plan;
  std::vector<SizeEquality> size_equalities;
};

struct ArtifactContents {
  std::string producer;  // "kiln-compile 0.1"
  std::string model_name;
  std::vector<MetadataBlob> metadata;
  std::vector<Dim> dims;
  std::vector<Executable> executables;
  std::vector<Parameter> parameters;
  std::vector<EntryFunction> entries;
};

// The rules every artifact obeys, checked by the writer before it writes and
// by the loader after it decodes; InvalidArgument "<path>: <where>: <what>"
// for the first broken one:
//  - names of metadata, dims, executables' kernels, parameters, entries and
//    of an entry's inputs and outputs are non-empty, UTF-8 and unique in
//    their list;
//  - dims have 0 <= min <= max;
//  - executables have a target, a format, at least one kernel and code;
//  - parameters have non-negative dims, data of numel * element size bytes,
//    a 64-aligned offset, do not overlap each other (empty ones excepted),
//    and a scale names another parameter, F32 of shape [shape[0]], of an
//    F8_E4M3 parameter of rank >= 1;
//  - tensor specs' symbolic dims are dim indices, constant ones >= 0;
//  - every expression is well-formed over dims.size() dims
//    (Expression::Validate);
//  - dispatches name an existing executable and one of its kernels, and
//    bindings an existing input, output, parameter or planned buffer.
// The loader checks on its own that parameters lie inside the weight
// segment (the writer places them there).
absl::Status ValidateContents(const std::string& path,
                              const ArtifactContents& contents);

}  // namespace kiln::artifact

#endif  // KILN_RUNTIME_ARTIFACT_CONTENTS_H_
