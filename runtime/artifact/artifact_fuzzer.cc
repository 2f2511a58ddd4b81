// libFuzzer target: arbitrary bytes as a .kiln artifact. Open must either
// fail with a message naming the file or succeed; after success, every byte
// the artifact hands out is readable (AddressSanitizer watches) and every
// expression evaluates without a structural error at the dims' bounds.
// Built by runtime/artifact/run_fuzzer.sh (-DKILN_BUILD_FUZZERS=ON, clang).
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "runtime/artifact/artifact.h"
#include "runtime/artifact/expression.h"

namespace kiln::artifact {
namespace {

void Fail(const std::string& what) {
  std::fprintf(stderr, "artifact_fuzzer: %s\n", what.c_str());
  std::abort();
}

// Reads every byte, so that an out-of-range view is an ASan report.
uint64_t Touch(absl::Span<const uint8_t> bytes) {
  uint64_t sum = 0;
  for (uint8_t b : bytes) sum += b;
  return sum;
}

// After Open, only arithmetic may fail: overflow (OutOfRange) or division by
// zero. Anything else means Open let a malformed program through.
void Evaluate(const ExpressionEvaluator& eval, const Expression& expr,
              const std::vector<std::string>& names) {
  absl::StatusOr<int64_t> value = eval.Evaluate(expr);
  const std::string text = expr.ToString(names);
  if (text == "<malformed>") Fail("a verified expression prints malformed");
  if (value.ok()) return;
  if (value.status().code() == absl::StatusCode::kOutOfRange) return;
  if (absl::StrContains(value.status().message(), "division by zero")) return;
  Fail("structural evaluation error after Open: " +
       std::string(value.status().message()));
}

void EvaluateAll(const Artifact& artifact, std::vector<int64_t> values) {
  absl::StatusOr<ExpressionEvaluator> eval =
      ExpressionEvaluator::Bind(artifact.dims(), std::move(values));
  if (!eval.ok()) Fail("dim bounds rejected: " + eval.status().ToString());
  const std::vector<std::string> names = artifact.DimNames();
  for (const EntryFunction& entry : artifact.entries()) {
    Evaluate(*eval, entry.memory_plan.arena_size, names);
    for (const PlannedBuffer& buffer : entry.memory_plan.buffers) {
      Evaluate(*eval, buffer.offset, names);
      Evaluate(*eval, buffer.size, names);
    }
    for (const Dispatch& dispatch : entry.dispatches) {
      for (const Expression& count : dispatch.workgroup_count)
        Evaluate(*eval, count, names);
      for (const Binding& binding : dispatch.bindings) {
        Evaluate(*eval, binding.offset, names);
        Evaluate(*eval, binding.size, names);
      }
    }
  }
}

void Exercise(const Artifact& artifact) {
  uint64_t sum = 0;
  for (const MetadataBlob& blob : artifact.metadata()) {
    sum += Touch(blob.data);
    if (artifact.FindMetadata(blob.name) == nullptr) Fail("metadata lookup");
  }
  for (const Executable& exe : artifact.executables()) {
    sum += Touch(exe.code);
    if (reinterpret_cast<uintptr_t>(exe.code.data()) % kAlignment != 0)
      Fail("unaligned code");
  }
  for (const Parameter& p : artifact.parameters()) {
    sum += Touch(p.data);
    if (artifact.FindParameter(p.name) != &p) Fail("parameter lookup");
  }
  sum += Touch(artifact.weights());
  std::vector<int64_t> mins, maxes;
  for (const Dim& dim : artifact.dims()) {
    mins.push_back(dim.min);
    maxes.push_back(dim.max);
  }
  EvaluateAll(artifact, mins);
  EvaluateAll(artifact, maxes);
  // Keep the reads.
  volatile uint64_t sink = sum;
  (void)sink;
}

}  // namespace
}  // namespace kiln::artifact

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A 64-byte aligned copy of exactly `size` bytes, as a mapping would be;
  // ASan reports any read past its end.
  void* copy = nullptr;
  if (posix_memalign(&copy, 64, size > 0 ? size : 1) != 0) return 0;
  if (size > 0) std::memcpy(copy, data, size);
  {
    absl::StatusOr<std::unique_ptr<kiln::artifact::Artifact>> artifact =
        kiln::artifact::Artifact::OpenMemory(
            "fuzz.kiln", static_cast<const uint8_t*>(copy), size);
    if (artifact.ok()) {
      kiln::artifact::Exercise(**artifact);
    } else if (!absl::StartsWith(artifact.status().message(), "fuzz.kiln: ")) {
      kiln::artifact::Fail("error without the file name: " +
                           artifact.status().ToString());
    }
  }
  free(copy);
  return 0;
}
