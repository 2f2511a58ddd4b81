// The CPU features compiled code may need, by LLVM's x86 names, and whether
// this CPU (and its operating system) provides them.
#ifndef KILN_RUNTIME_HAL_CPU_CPU_FEATURES_H_
#define KILN_RUNTIME_HAL_CPU_CPU_FEATURES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::hal::cpu {

// The feature names Kiln knows, LLVM's spelling: sse4.2, avx, avx2, fma,
// f16c, bmi, bmi2, avx512f, avx512bw, avx512dq, avx512vl, avx512bf16,
// avx512fp16, avx512vnni, amx-tile, amx-bf16, amx-int8.
const std::vector<std::string>& KnownCpuFeatures();

// Whether this CPU has `feature` and the OS has enabled the register state
// it needs (YMM for AVX, ZMM for AVX-512, tiles for AMX). Error
// (InvalidArgument) for a name not in KnownCpuFeatures().
absl::StatusOr<bool> HasCpuFeature(const std::string& feature);

// OK when this CPU has every feature in `required`. Errors:
// InvalidArgument naming every unknown feature, then FailedPrecondition
// naming every missing one, this CPU and the target to recompile for:
//   "this CPU (AMD EPYC 7B13, AuthenticAMD) lacks avx512f, avx512bw required
//   by the compiled code; recompile with --target=cpu-x86_64-avx2".
// When an amx-* feature is required and present, also asks Linux for
// permission to use AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM), which
// every process must do before its first AMX instruction.
absl::Status CheckCpuFeatures(const std::vector<std::string>& required);

// The brand string and vendor from cpuid: "AMD EPYC 7B13, AuthenticAMD".
std::string CpuDescription();

// The CPU target that suits this CPU: "cpu-x86_64-avx512" (avx512f, bw, dq,
// vl and the avx2 set), "cpu-x86_64-avx2" (avx2, fma, f16c, bmi, bmi2), else
// "cpu-x86_64".
std::string SuggestedCpuTarget();

namespace internal {
// HasCpuFeature from cpuid and xgetbv alone, for the features where the
// compiler's __builtin_cpu_supports is used instead (tests compare both).
absl::StatusOr<bool> HasCpuFeatureByCpuid(const std::string& feature);
}  // namespace internal

}  // namespace kiln::hal::cpu

#endif  // KILN_RUNTIME_HAL_CPU_CPU_FEATURES_H_
