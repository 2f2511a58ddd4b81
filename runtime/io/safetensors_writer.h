// Writes named tensors to a .safetensors file that the reference library
// (and SafetensorsFile) reads.
#ifndef KILN_RUNTIME_IO_SAFETENSORS_WRITER_H_
#define KILN_RUNTIME_IO_SAFETENSORS_WRITER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/io/safetensors.h"

namespace kiln::io {

// Writes `tensors` (views of the caller's buffers) and `metadata` (as
// `__metadata__`, omitted when empty) to `path`, atomically: into a
// temporary file in the same directory, fsync, rename over `path`, then a
// best-effort fsync of the directory. On any failure the temporary file is
// removed and `path` is left as it was.
//
// Layout, as the reference library writes it: the JSON header is padded with
// spaces to a multiple of 8 bytes, and the data is ordered by element size
// (largest first), then by name, with no padding; so every tensor starts at
// an offset that is a multiple of its element size.
//
// InvalidArgument, before anything is written, for an empty, duplicate,
// reserved ("__metadata__") or non-UTF-8 name, a negative dimension, a
// `nbytes` that is not numel * element size, null data with nbytes > 0, or
// non-UTF-8 metadata. Other errors are the failing system call's.
absl::Status WriteSafetensors(
    const std::string& path, const std::vector<TensorView>& tensors,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_SAFETENSORS_WRITER_H_
