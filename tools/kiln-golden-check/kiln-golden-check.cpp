//===- kiln-golden-check.cpp - Compare Kiln with the reference goldens ----===//
//
// For each case file (test/goldens/cases/<component>/<case>.safetensors,
// made by diffusers/transformers): imports that component of MODEL_DIR once,
// JIT-runs the entry function whose named inputs are exactly the case's
// `in.*` tensors, and compares every output with the case's `out.<name>`:
// max |out - ref| / max |ref| must not exceed --rtol. A case with no
// matching entry, or with nothing to compare, fails: nothing is skipped.
//
//===----------------------------------------------------------------------===//

#include "compiler/jit/JitRunner.h"
#include "frontend/DiffusersImporter.h"
#include "runtime/io/checkpoint.h"
#include "runtime/io/float_convert.h"
#include "runtime/io/safetensors.h"
#include "test/tools/golden_error.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace cl = llvm::cl;
using kiln::jit::HostTensor;

static cl::OptionCategory checkCategory("kiln-golden-check options");
static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<diffusers model folder>"),
                                     cl::cat(checkCategory));
static cl::list<std::string> caseFiles(cl::Positional, cl::OneOrMore,
                                       cl::desc("<case.safetensors>..."),
                                       cl::cat(checkCategory));
static cl::opt<double> rtol("rtol",
                            cl::desc("Largest allowed max|out-ref|/max|ref|"),
                            cl::init(1e-4), cl::cat(checkCategory));

/// A view's data as a host tensor of the kind the signature wants.
static bool toHost(const kiln::io::TensorView &view, HostTensor::Kind kind,
                   HostTensor &out, std::string &error) {
  using kiln::io::DType;
  out.kind = kind;
  out.shape = view.shape;
  int64_t n = view.numel();
  if (kind == HostTensor::Kind::I64) {
    if (view.dtype != DType::I64) {
      error = "tensor '" + view.name + "' must be I64";
      return false;
    }
    out.i64.resize(n);
    std::memcpy(out.i64.data(), view.data, n * 8);
    return true;
  }
  out.f32.resize(n);
  absl::Status status = kiln::io::ConvertToF32(view, absl::MakeSpan(out.f32));
  if (!status.ok()) {
    error = std::string(status.message());
    return false;
  }
  return true;
}

/// max |a - b| / max |b| (test/tools/golden_error.h).
static double relativeError(const HostTensor &out, const HostTensor &ref) {
  return kiln::testing::MaxRelativeError(out.f32.data(), ref.f32.data(),
                                         ref.f32.size());
}

struct CompiledComponent {
  std::unique_ptr<kiln::jit::JitRunner> runner;
  std::unique_ptr<kiln::io::Checkpoint> checkpoint;
};

/// Checks one case; prints a line per output. Returns true when it passed.
static bool checkCase(const std::string &path, CompiledComponent &component) {
  auto file = kiln::io::SafetensorsFile::Open(path);
  if (!file.ok()) {
    llvm::errs() << "FAIL " << path << ": " << std::string(file.status().message()) << "\n";
    return false;
  }
  std::set<std::string> inputs;
  for (const auto &name : (*file)->names())
    if (name.rfind("in.", 0) == 0)
      inputs.insert(name.substr(3));
  const kiln::jit::EntrySignature *entry = nullptr;
  for (const auto &candidate : component.runner->entries()) {
    std::set<std::string> wanted;
    for (const auto &arg : candidate.arguments)
      if (arg.source == kiln::jit::ArgumentBinding::Source::Input)
        wanted.insert(arg.name);
    if (wanted == inputs)
      entry = &candidate;
  }
  if (!entry) {
    llvm::errs() << "FAIL " << path
                 << ": no entry function takes exactly these inputs\n";
    return false;
  }
  std::vector<HostTensor> storage(entry->arguments.size());
  std::vector<HostTensor *> args;
  std::string error;
  for (size_t i = 0; i < entry->arguments.size(); ++i) {
    const auto &binding = entry->arguments[i];
    const kiln::io::TensorView *view =
        binding.source == kiln::jit::ArgumentBinding::Source::Input
            ? (*file)->Find("in." + binding.name)
            : component.checkpoint->Find(binding.name.substr(
                  binding.name.find('.') + 1));
    if (!view || !toHost(*view, binding.kind, storage[i], error)) {
      llvm::errs() << "FAIL " << path << ": "
                   << (view ? error : "cannot find '" + binding.name + "'")
                   << "\n";
      return false;
    }
    args.push_back(&storage[i]);
  }
  auto outputs = component.runner->run(*entry, args, error);
  if (mlir::failed(outputs)) {
    llvm::errs() << "FAIL " << path << ": " << error << "\n";
    return false;
  }
  bool ok = true;
  int compared = 0;
  for (size_t i = 0; i < entry->outputs.size(); ++i) {
    const kiln::io::TensorView *refView =
        (*file)->Find("out." + entry->outputs[i]);
    if (!refView)
      continue;
    HostTensor ref;
    if (!toHost(*refView, HostTensor::Kind::F32, ref, error) ||
        ref.shape != (*outputs)[i].shape) {
      llvm::errs() << "FAIL " << path << ": out." << entry->outputs[i]
                   << " has another shape or dtype than Kiln's output\n";
      ok = false;
      continue;
    }
    double err = relativeError((*outputs)[i], ref);
    bool pass = err <= rtol;
    ok &= pass;
    ++compared;
    llvm::outs() << (pass ? "ok   " : "FAIL ") << path << " " << entry->name
                 << " " << entry->outputs[i] << " max_rel_err=" << err << "\n";
  }
  if (compared == 0) {
    llvm::errs() << "FAIL " << path << ": no output to compare\n";
    return false;
  }
  return ok;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::DialectRegistry registry;
  kiln::jit::initializeJit(registry);
  cl::HideUnrelatedOptions(checkCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln-golden-check: run Kiln's reference "
                              "lowering on golden cases and compare\n");
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  std::map<std::string, CompiledComponent> compiled;
  int passed = 0, failed = 0;
  for (const std::string &path : caseFiles) {
    auto file = kiln::io::SafetensorsFile::Open(path);
    auto it = file.ok() ? (*file)->metadata().find("component")
                        : std::map<std::string, std::string>::const_iterator();
    if (!file.ok() || it == (*file)->metadata().end()) {
      llvm::errs() << "FAIL " << path << ": "
                   << (file.ok() ? "no 'component' metadata"
                                 : std::string(file.status().message()))
                   << "\n";
      ++failed;
      continue;
    }
    const std::string &name = it->second;
    if (!compiled.count(name)) {
      auto module =
          kiln::frontend::importDiffusersModel(&context, modelDir, {name});
      auto checkpoint = kiln::io::Checkpoint::Open(modelDir + "/" + name);
      if (mlir::failed(module) || !checkpoint.ok()) {
        llvm::errs() << "FAIL cannot import component '" << name << "'\n";
        return 1;
      }
      auto runner = kiln::jit::JitRunner::compile(std::move(*module));
      if (mlir::failed(runner))
        return 1;
      compiled[name] = {std::move(*runner), *std::move(checkpoint)};
    }
    (checkCase(path, compiled[name]) ? passed : failed)++;
  }
  llvm::outs() << passed << " passed, " << failed << " failed\n";
  return failed == 0 && passed > 0 ? 0 : 1;
}
