// Internal to runtime/artifact: the verified FlatBuffer to ArtifactContents.
#ifndef KILN_RUNTIME_ARTIFACT_DECODE_H_
#define KILN_RUNTIME_ARTIFACT_DECODE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/artifact/contents.h"
#include "runtime/schema/artifact_generated.h"

namespace kiln::artifact::internal {

// Copies the tables of `root` (already accepted by flatbuffers::Verifier)
// into `out`, checking what the Verifier does not: dtype values, exactly
// three workgroup counts, vectors of 8-byte elements 8-byte aligned, each
// executable's code 64-byte aligned (all from `file_start`, the 64-aligned
// start of the file), and each parameter's [offset, offset + size) inside
// `weights`, whose bytes its `data` then views. Code and metadata spans
// point into the buffer. What decoding copies is bounded by
// `flatbuffer_size` (the buffer's tables must not share strings or
// tables). InvalidArgument "<path>: <where>: <what>".
absl::Status DecodeArtifact(const std::string& path,
                            const schema::Artifact& root,
                            const uint8_t* file_start, size_t flatbuffer_size,
                            absl::Span<const uint8_t> weights,
                            ArtifactContents* out);

}  // namespace kiln::artifact::internal

#endif  // KILN_RUNTIME_ARTIFACT_DECODE_H_
