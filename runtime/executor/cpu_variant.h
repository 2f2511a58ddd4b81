#ifndef KILN_RUNTIME_EXECUTOR_CPU_VARIANT_H_
#define KILN_RUNTIME_EXECUTOR_CPU_VARIANT_H_

// Which of an artifact's CPU executables this CPU runs. `kiln-compile
// --target=cpu` stores one shared object per x86-64 level (AVX2, AVX-512,
// AVX-512 + BF16); every dispatch names the first and lists the others as
// variants of the same kernel. The executor loads only the chosen one: the
// most capable level whose features this CPU has, or the one the
// environment variable KILN_CPU_TARGET names (tests and benchmarks compare
// levels on one machine with it).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/artifact/contents.h"

namespace kiln::executor {

// Checks that this CPU has every feature listed (hal::cpu::CheckCpuFeatures
// in production; tests pass their own).
using CpuFeatureCheck =
    std::function<absl::Status(const std::vector<std::string>& features)>;

// The index of the CPU executable to load, or nullopt when the artifact has
// none. `forced` (empty: choose) is a target name such as
// "cpu-x86_64-avx2". Without it: among the CPU executables whose features
// `check` accepts, the one listing the most features (the first on a tie).
// Errors name `path`: a forced target the artifact lacks (listing what it
// has) or this CPU cannot run, and, when no executable runs here, the first
// one's missing features.
absl::StatusOr<std::optional<size_t>> ChooseCpuExecutable(
    const std::string& path,
    const std::vector<artifact::Executable>& executables,
    const std::string& forced, const CpuFeatureCheck& check);

// The kernel `dispatch` runs in executable `chosen`: its own when it names
// that executable, else the variant there; nullopt when it has none.
std::optional<std::string> KernelInExecutable(
    const artifact::Dispatch& dispatch, size_t chosen);

}  // namespace kiln::executor

#endif  // KILN_RUNTIME_EXECUTOR_CPU_VARIANT_H_
