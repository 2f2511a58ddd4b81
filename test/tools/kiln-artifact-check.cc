// kiln-artifact-check MODEL.kiln CASE.safetensors...: runs every golden case
// through a compiled artifact with the runtime (no MLIR: the same path as
// `kiln run`) and compares each output the entry produces with the case's
// `out.<name>` tensor, max relative error <= --rtol (default 1e-4), or with
// --rel-l2=X relative L2 error <= X instead (artifacts with bf16 weights,
// whose every output element carries their rounding). The
// entry is the one whose inputs are exactly the case's `in.*` tensors and
// whose outputs the case all has.
// --device=cpu|cuda|auto picks where the artifact runs (default auto, as
// kiln run). --cpu-target=LEVEL runs the artifact's CPU code of that level
// (KILN_CPU_TARGET, runtime/executor/cpu_variant.h) and exits with 77, the
// tests' "skipped", when this CPU lacks the level's features. Prints the device, a line per output; exit status 0 when every
// case passed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/api/model.h"
#include "runtime/artifact/artifact.h"
#include "runtime/io/safetensors.h"
#include "test/tools/golden_error.h"

namespace {

struct Tolerance {
  double rtol = 1e-4;
  double rel_l2 = 0;  // > 0: the criterion instead of rtol
};

bool CheckCase(kiln::Model& model, const std::string& path,
               const Tolerance& tolerance) {
  auto file = kiln::io::SafetensorsFile::Open(path);
  if (!file.ok()) {
    std::printf("FAIL %s: %s\n", path.c_str(),
                std::string(file.status().message()).c_str());
    return false;
  }
  std::map<std::string, kiln::HostTensorView> inputs;
  std::set<std::string> names;
  for (const std::string& name : (*file)->names()) {
    if (name.rfind("in.", 0) != 0) continue;
    inputs[name.substr(3)] = kiln::HostTensorView::Of(*(*file)->Find(name));
    names.insert(name.substr(3));
  }
  // The entry whose inputs are exactly the case's and all of whose outputs
  // the case has; of several (CLIP and T5 both take just `input_ids`), the
  // one with the most outputs.
  const kiln::artifact::EntryFunction* entry = nullptr;
  for (const auto& candidate : model.artifact().entries()) {
    std::set<std::string> wanted;
    for (const auto& spec : candidate.inputs) wanted.insert(spec.name);
    bool has_outputs = true;
    for (const auto& spec : candidate.outputs)
      has_outputs = has_outputs && (*file)->Find("out." + spec.name) != nullptr;
    if (wanted == names && has_outputs &&
        (entry == nullptr || candidate.outputs.size() > entry->outputs.size()))
      entry = &candidate;
  }
  if (entry == nullptr) {
    std::printf("FAIL %s: no entry takes exactly its inputs and gives only "
                "outputs it has\n",
                path.c_str());
    return false;
  }
  auto outputs = model.Run(entry->name, inputs);
  if (!outputs.ok()) {
    std::printf("FAIL %s: %s\n", path.c_str(),
                std::string(outputs.status().message()).c_str());
    return false;
  }
  bool passed = true;
  for (const auto& [name, tensor] : *outputs) {
    const kiln::io::TensorView* ref = (*file)->Find("out." + name);
    if (ref == nullptr || ref->dtype != kiln::DType::F32 ||
        ref->shape != tensor.shape() || tensor.dtype() != kiln::DType::F32) {
      std::printf("FAIL %s: output '%s' has no F32 reference of its shape\n",
                  path.c_str(), name.c_str());
      passed = false;
      continue;
    }
    // Safetensors data is byte-aligned only: copy before reading floats.
    std::vector<float> expected(ref->numel());
    std::memcpy(expected.data(), ref->data, ref->nbytes);
    const double error = kiln::testing::MaxRelativeError(
        tensor.data_as<float>(), expected.data(), expected.size());
    const double l2 = kiln::testing::RelativeL2Error(
        tensor.data_as<float>(), expected.data(), expected.size());
    const bool ok = tolerance.rel_l2 > 0 ? l2 <= tolerance.rel_l2
                                         : error <= tolerance.rtol;
    std::printf("%s %s %s/%s max rel err %.3g, rel L2 err %.3g\n",
                ok ? "PASS" : "FAIL", path.c_str(), entry->name.c_str(),
                name.c_str(), error, l2);
    passed = passed && ok;
  }
  return passed;
}

}  // namespace

int main(int argc, char** argv) {
  Tolerance tolerance;
  kiln::ModelOptions options;
  std::vector<std::string> args;
  std::string cpu_target;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--rtol=", 0) == 0) {
      tolerance.rtol = std::atof(arg.c_str() + 7);
    } else if (arg.rfind("--rel-l2=", 0) == 0) {
      tolerance.rel_l2 = std::atof(arg.c_str() + 9);
    } else if (arg.rfind("--cpu-target=", 0) == 0) {
      cpu_target = arg.substr(13);
      ::setenv("KILN_CPU_TARGET", cpu_target.c_str(), 1);
    } else if (arg.rfind("--device=", 0) == 0) {
      auto device = kiln::ParseDeviceKind(arg.substr(9));
      if (!device.ok()) {
        std::fprintf(stderr, "kiln-artifact-check: %s\n",
                     std::string(device.status().message()).c_str());
        return 2;
      }
      options.device = *device;
    } else {
      args.push_back(arg);
    }
  }
  if (args.size() < 2) {
    std::fprintf(stderr,
                 "usage: kiln-artifact-check [--rtol=X | --rel-l2=X] [--device=D] "
                 "[--cpu-target=LEVEL] "
                 "MODEL.kiln "
                 "CASE.safetensors...\n");
    return 2;
  }
  auto model = kiln::Model::Open(args[0], options);
  if (!model.ok() && !cpu_target.empty() &&
      model.status().code() == absl::StatusCode::kFailedPrecondition) {
    std::printf("SKIPPED: %s\n", std::string(model.status().message()).c_str());
    return 77;
  }
  if (!model.ok()) {
    std::fprintf(stderr, "kiln-artifact-check: %s\n",
                 std::string(model.status().message()).c_str());
    return 1;
  }
  std::printf("device: %s\n", model->device_description().c_str());
  int passed = 0, failed = 0;
  for (size_t i = 1; i < args.size(); ++i)
    (CheckCase(*model, args[i], tolerance) ? passed : failed)++;
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
