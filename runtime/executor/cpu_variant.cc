#include "runtime/executor/cpu_variant.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/executor/executor.h"

namespace kiln::executor {

absl::StatusOr<std::optional<size_t>> ChooseCpuExecutable(
    const std::string& path,
    const std::vector<artifact::Executable>& executables,
    const std::string& forced, const CpuFeatureCheck& check) {
  std::vector<size_t> cpu;
  std::vector<std::string> names;
  for (size_t i = 0; i < executables.size(); ++i) {
    if (!IsCpuExecutable(executables[i])) continue;
    cpu.push_back(i);
    names.push_back(executables[i].target);
  }
  auto label = [&](size_t i) {
    return absl::StrCat(path, ": executable ", i, " (", executables[i].target,
                        ")");
  };
  if (!forced.empty()) {
    for (size_t i : cpu) {
      if (executables[i].target != forced) continue;
      absl::Status ok = check(executables[i].cpu_features);
      if (!ok.ok()) {
        return absl::Status(ok.code(),
                            absl::StrCat(label(i), " (KILN_CPU_TARGET=",
                                         forced, "): ", ok.message()));
      }
      return std::optional<size_t>(i);
    }
    return absl::NotFoundError(absl::StrCat(
        path, ": KILN_CPU_TARGET=", forced, " but the artifact's CPU targets "
        "are ", names.empty() ? "none" : absl::StrJoin(names, ", ")));
  }
  if (cpu.empty()) return std::optional<size_t>();
  std::optional<size_t> best;
  for (size_t i : cpu) {
    if (!check(executables[i].cpu_features).ok()) continue;
    if (!best || executables[i].cpu_features.size() >
                     executables[*best].cpu_features.size()) {
      best = i;
    }
  }
  if (best) return best;
  absl::Status first = check(executables[cpu.front()].cpu_features);
  return absl::Status(first.code(),
                      absl::StrCat(label(cpu.front()), ": ", first.message()));
}

std::optional<std::string> KernelInExecutable(
    const artifact::Dispatch& dispatch, size_t chosen) {
  if (dispatch.executable == chosen) return dispatch.kernel;
  for (const artifact::KernelVariant& variant : dispatch.variants) {
    if (variant.executable == chosen) return variant.kernel;
  }
  return std::nullopt;
}

}  // namespace kiln::executor
