// Writes a .kiln artifact. Plain C++ (FlatBuffers and Abseil), so that the
// compiler's serializer and tests share it with nothing of the runtime but
// runtime/artifact and runtime/io.
#ifndef KILN_RUNTIME_ARTIFACT_ARTIFACT_WRITER_H_
#define KILN_RUNTIME_ARTIFACT_ARTIFACT_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "runtime/artifact/contents.h"

namespace kiln::artifact {

// Writes `contents` to `path` as [FlatBuffer][zero padding to 64][weights],
// format version kFormatVersion. Parameters go into the weight segment in
// the given order, each at the next multiple of 64 (their `offset` fields
// are ignored); the segment ends with the last parameter's last byte.
// Executable code is 64-byte aligned in the file.
//
// The file is written atomically (io::AtomicFile): on any failure `path` is
// left as it was and no temporary file remains. InvalidArgument, before
// anything is written, for contents that break a rule of ValidateContents,
// and for executables and metadata too large for one FlatBuffer (2 GiB);
// other errors are the failing system call's.
absl::Status WriteArtifact(const std::string& path,
                           const ArtifactContents& contents);

}  // namespace kiln::artifact

#endif  // KILN_RUNTIME_ARTIFACT_ARTIFACT_WRITER_H_
