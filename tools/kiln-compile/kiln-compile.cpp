//===- kiln-compile.cpp - Compile a diffusers model with Kiln -------------===//
//
// Compiles a diffusers model folder into a .kiln artifact for the CPU
// target (`kiln-compile MODEL_DIR -o model.kiln`), or prints a stage of the
// pipeline: the imported kiln IR (--emit=kiln, the default without -o), the
// reference lowering to linalg (--emit=linalg), the dispatch-formed host
// program and kernels (--emit=dispatches); --emit=cpu-so writes the kernels'
// shared object alone.
//
//===----------------------------------------------------------------------===//

#include "compiler/dispatch/Passes.h"
#include "compiler/pipeline/CompileArtifact.h"
#include "compiler/pipeline/ModelLimits.h"
#include "compiler/pipeline/Pipelines.h"
#include "compiler/plugin/PluginLoader.h"
#include "compiler/target/cpu/CpuCodegen.h"
#include "compiler/target/cuda/CudaCodegen.h"
#include "frontend/DiffusersImporter.h"
#include "passes/kiln/Passes.h"
#include "runtime/io/checkpoint.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <string>
#include <vector>

namespace cl = llvm::cl;

static cl::OptionCategory kilnCategory("kiln-compile options");

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<diffusers model folder>"),
                                     cl::cat(kilnCategory));

enum class Emit { Auto, Kiln, Linalg, Dispatches, CpuSharedObject, Ptx, Artifact };
static cl::opt<Emit> emit(
    "emit",
    cl::desc("What to produce (default: an artifact when -o names a file, "
             "else the kiln IR on stdout)"),
    cl::init(Emit::Auto),
    cl::values(clEnumValN(Emit::Artifact, "artifact",
                          "the .kiln artifact (needs -o)"),
               clEnumValN(Emit::Kiln, "kiln", "the imported kiln IR"),
               clEnumValN(Emit::Linalg, "linalg",
                          "the reference lowering to linalg on tensors"),
               clEnumValN(Emit::Dispatches, "dispatches",
                          "the host program and its kernels (memrefs)"),
               clEnumValN(Emit::CpuSharedObject, "cpu-so",
                          "the kernels as an x86-64 shared object of the last "
                          "CPU level in --target (needs -o)"),
               clEnumValN(Emit::Ptx, "ptx",
                          "the kernels as PTX (needs a cuda target)")),
    cl::cat(kilnCategory));

static cl::opt<int64_t> maxWorkgroups(
    "max-workgroups",
    cl::desc("Most workgroups one dispatch is split into (the runtime's "
             "threads share them; default 64)"),
    cl::init(64), cl::cat(kilnCategory));

static cl::opt<int64_t> maxImageSize(
    "max-image-size",
    cl::desc("Largest image side, in pixels, the artifact accepts (output "
             "and references; default 2048)"),
    cl::init(2048), cl::cat(kilnCategory));
static cl::opt<int64_t> maxReferences(
    "max-references",
    cl::desc("Most reference images one generation may use (default 4)"), cl::init(4),
    cl::cat(kilnCategory));
static cl::opt<int64_t> maxBatch("max-batch",
                                 cl::desc("Most images one call computes (default 4)"),
                                 cl::init(4), cl::cat(kilnCategory));
static cl::opt<int64_t> maxTextTokens(
    "max-text-tokens", cl::desc("Longest T5 token sequence (default 512)"), cl::init(512),
    cl::cat(kilnCategory));

static cl::list<std::string> dumpIrAfter(
    "dump-ir-after",
    cl::desc("Print the module to stderr after each pass with this argument "
             "(e.g. kiln-outline-dispatches; repeatable; 'all' for every "
             "pass), through dispatch formation"),
    cl::value_desc("pass"), cl::cat(kilnCategory));

static cl::list<std::string> passPlugins(
    "load-pass-plugin",
    cl::desc("Load a Kiln pass plugin (a shared library built against this "
             "Kiln's install, examples/pass-plugin); repeatable"),
    cl::value_desc("lib.so"), cl::cat(kilnCategory));
static cl::list<std::string> pipelineExtensions(
    "pass-pipeline-extension",
    cl::desc("Run passes (e.g. a plugin's) at a point of the pipeline: "
             "kiln=PIPELINE on the imported kiln IR before Kiln's passes, or "
             "linalg=PIPELINE on linalg on tensors before dispatch "
             "formation; repeatable"),
    cl::value_desc("point=pipeline"), cl::cat(kilnCategory));

static cl::opt<bool> verbose("v", cl::desc("Print each stage and its time"),
                             cl::cat(kilnCategory));

static cl::opt<std::string> target(
    "target",
    cl::desc("Code generation targets, comma-separated: cpu (= "
             "cpu-x86_64-avx2 and cpu-x86_64-avx512, plus cpu-x86_64-amx "
             "for bf16/FP8 weights; the default: the runtime runs the most "
             "capable level its CPU has), cpu-x86_64, cpu-x86_64-avx2, "
             "cpu-x86_64-avx512, cpu-x86_64-avx512bf16 (bf16/FP8 weights' "
             "linears on vdpbf16ps), cpu-x86_64-amx (on AMX tiles; both "
             "round those linears' activations to bf16), each CPU level at "
             "most once; cuda:sm_90a (or another cuda:sm_<NN>[a] from sm_80). "
             "--target=cpu,cuda:sm_90a makes one artifact for both; the "
             "runtime picks by --device"),
    cl::init("cpu"), cl::cat(kilnCategory));

static cl::opt<std::string> cudaMatmul(
    "cuda-matmul",
    cl::desc("How the CUDA target computes linears, matmuls and attention: "
             "bf16 (the default: on tensor cores, mma.sync with inputs "
             "rounded to bf16 and f32 accumulation, like torch's bf16) or "
             "f32 (exact, like the CPU target, one output element per "
             "thread; slower)"),
    cl::init("bf16"), cl::cat(kilnCategory));

static cl::opt<std::string> weights(
    "weights",
    cl::desc("Storage of the linears' weights in the artifact: f32, bf16 "
             "(half the bytes; the kernels widen them as they load them), "
             "fp8-e4m3 (the transformer's linears as e4m3 with a scale per "
             "output channel, kiln-quantize-fp8; the linears its policy keeps "
             "as bf16; -v prints each decision), or auto (the default: bf16 "
             "when the checkpoint stores bf16, else f32, so never wider or "
             "narrower than the checkpoint). Norm scales, biases, embeddings "
             "and convolutions stay f32"),
    cl::init("auto"), cl::cat(kilnCategory));

static cl::list<std::string> fp8Keep(
    "fp8-keep", cl::CommaSeparated,
    cl::desc("With --weights=fp8-e4m3: regular expressions on weight names "
             "whose linears stay bf16, replacing the default policy "
             "(x_embedder, context_embedder, time_text_embed, norm_out, the "
             "top-level proj_out); 'none' quantizes every linear of the "
             "transformer"),
    cl::value_desc("regex,..."), cl::cat(kilnCategory));

static cl::list<std::string>
    components("component",
               cl::desc("Import only this component folder (repeatable), e.g. "
                        "--component=transformer"),
               cl::cat(kilnCategory));

static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for "
                                                     "stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(kilnCategory));

/// Whether a component checkpoint under `dir` (the folders that hold
/// safetensors: transformer, vae, text encoders) stores any bf16 tensor.
static bool checkpointHasBf16(llvm::StringRef dir) {
  std::error_code error;
  for (llvm::sys::fs::directory_iterator it(dir, error), end;
       it != end && !error; it.increment(error)) {
    auto checkpoint = kiln::io::Checkpoint::Open(it->path());
    if (!checkpoint.ok())
      continue;  // tokenizers, schedulers: no weights
    for (const auto &file : (*checkpoint)->files())
      for (const kiln::io::TensorView &tensor : file->tensors())
        if (tensor.dtype == kiln::io::DType::BF16)
          return true;
  }
  return false;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(kilnCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-compile: compile a FLUX-family diffusers pipeline folder into a "
      ".kiln artifact for the CPU and/or CUDA GPUs (-o model.kiln), or print "
      "a stage of the "
      "pipeline (kiln IR, linalg, dispatches)\n");

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::kiln::registerKilnPipelinePasses();
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  for (const std::string &plugin : passPlugins)
    if (mlir::failed(mlir::kiln::loadPassPlugin(plugin, llvm::errs())))
      return 1;
  mlir::kiln::PipelineExtensions extensions;
  for (const std::string &spec : pipelineExtensions)
    if (mlir::failed(extensions.add(spec, llvm::errs())))
      return 2;

  std::vector<std::string> only(components.begin(), components.end());
  auto module = kiln::frontend::importDiffusersModel(&context, modelDir, only);
  if (mlir::failed(module))
    return 1;

  if (weights != "auto" && weights != "f32" && weights != "bf16" &&
      weights != "fp8-e4m3") {
    llvm::errs() << "kiln-compile: bad --weights '" << weights
                 << "': expected f32, bf16, fp8-e4m3 or auto\n";
    return 2;
  }
  if (cudaMatmul != "bf16" && cudaMatmul != "f32") {
    llvm::errs() << "kiln-compile: bad --cuda-matmul '" << cudaMatmul
                 << "': expected bf16 or f32\n";
    return 2;
  }
  bool fp8Weights = weights == "fp8-e4m3";
  bool bf16Weights = fp8Weights || weights == "bf16" ||
                     (weights == "auto" && checkpointHasBf16(modelDir));
  std::vector<mlir::kiln::CpuTarget> cpuTargets;
  std::optional<mlir::kiln::CudaTarget> cudaTarget;
  llvm::SmallVector<llvm::StringRef> targetNames;
  llvm::StringRef(target).split(targetNames, ',');
  for (llvm::StringRef name : targetNames) {
    name = name.trim();
    if (name.starts_with("cuda")) {
      auto cuda = mlir::kiln::lookupCudaTarget(name);
      if (mlir::failed(cuda) || cudaTarget) {
        llvm::errs() << "kiln-compile: bad --target '" << name
                     << "': expected one cuda:sm_<NN>[a] with NN from 80 to 120, "
                        "e.g. cuda:sm_90a\n";
        return 2;
      }
      cudaTarget = *cuda;
      cudaTarget->tensorCores = cudaMatmul == "bf16";
      continue;
    }
    std::vector<std::string> levels = {name.str()};
    if (name == "cpu")
      levels = mlir::kiln::defaultCpuTargetNames(bf16Weights);
    for (const std::string &level : levels) {
      auto cpu = mlir::kiln::lookupCpuTarget(level);
      bool repeated = llvm::any_of(cpuTargets, [&](const auto &t) {
        return t.name == level;
      });
      if (mlir::failed(cpu) || repeated) {
        llvm::errs() << "kiln-compile: bad --target '" << name
                     << "' (expected cpu or one of "
                     << mlir::kiln::cpuTargetNames()
                     << ", each CPU level at most once, and/or one "
                        "cuda:sm_<NN>[a])\n";
        return 2;
      }
      cpuTargets.push_back(*cpu);
    }
  }
  if ((emit == Emit::Ptx && !cudaTarget) ||
      (emit == Emit::CpuSharedObject && cpuTargets.empty())) {
    llvm::errs() << "kiln-compile: --emit="
                 << (emit == Emit::Ptx ? "ptx needs a cuda target"
                                       : "cpu-so needs a cpu target")
                 << " in --target\n";
    return 2;
  }
  if (emit == Emit::Auto)
    emit = outputFile == "-" ? Emit::Kiln : Emit::Artifact;
  if ((emit == Emit::CpuSharedObject || emit == Emit::Artifact) &&
      outputFile == "-") {
    llvm::errs() << "kiln-compile: --emit="
                 << (emit == Emit::Artifact ? "artifact" : "cpu-so")
                 << " writes a binary file: give -o FILE\n";
    return 2;
  }
  // The pipeline, in stages: the kiln-level extension; the lowering to
  // linalg and the linalg-level extension; dispatch outlining; workgroup
  // distribution. The CUDA target compiles the kernels as outlined, before
  // the CPU target's distribution: a copy of the module is taken between
  // the last two.
  mlir::OwningOpRef<mlir::ModuleOp> outlined;
  std::vector<std::string> wanted(dumpIrAfter.begin(), dumpIrAfter.end());
  if (!wanted.empty())
    context.disableMultithreading();
  // Runs the passes `addPasses` adds (it fails when a pipeline extension does
  // not parse, having said why).
  auto runPasses = [&](auto addPasses) -> mlir::LogicalResult {
    mlir::PassManager pm(&context);
    if (!wanted.empty()) {
      // Passes run on the module: printing it whole shows every function.
      pm.enableIRPrinting(
          [](mlir::Pass *, mlir::Operation *) { return false; },
          [wanted](mlir::Pass *pass, mlir::Operation *) {
            for (const std::string &name : wanted)
              if (name == "all" || pass->getArgument() == name)
                return true;
            return false;
          },
          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
    }
    if (mlir::failed(addPasses(pm)))
      return mlir::failure();
    return pm.run(**module);
  };
  // The kiln-level extension runs for --emit=kiln too, to show its effect.
  if (mlir::failed(runPasses([&](mlir::PassManager &pm) {
        return mlir::kiln::addExtensionPasses(pm, extensions.kiln,
                                              llvm::errs());
      })))
    return 1;
  if (emit != Emit::Kiln) {
    if (mlir::failed(runPasses([&](mlir::PassManager &pm) {
          if (fp8Weights) {
            mlir::kiln::QuantizeFp8PassOptions quantize;
            quantize.report = verbose;
            quantize.keep.assign(fp8Keep.begin(), fp8Keep.end());
            pm.addPass(mlir::kiln::createQuantizeFp8Pass(quantize));
          }
          mlir::kiln::addKilnToLinalgPasses(pm);
          if (bf16Weights)
            pm.addPass(mlir::kiln::createNarrowWeightsPass());
          return mlir::kiln::addExtensionPasses(pm, extensions.linalg,
                                                llvm::errs());
        })))
      return 1;
    if (emit != Emit::Linalg) {
      if (mlir::failed(runPasses([](mlir::PassManager &pm) {
            mlir::kiln::addDispatchOutliningPasses(pm);
            return mlir::success();
          })))
        return 1;
      if (cudaTarget && (emit == Emit::Artifact || emit == Emit::Ptx))
        outlined = (*module)->clone();
      if (mlir::failed(runPasses([](mlir::PassManager &pm) {
            mlir::kiln::addWorkgroupDistributionPasses(pm);
            return mlir::success();
          })))
        return 1;
    }
  }

  if (emit == Emit::Artifact) {
    mlir::kiln::ArtifactOptions options;
    options.modelDir = modelDir;
    options.modelName = llvm::sys::path::filename(
        llvm::StringRef(modelDir).rtrim('/')).str();
    options.cpuTargets = cpuTargets;
    options.cudaTarget = cudaTarget;
    options.maxWorkgroups = maxWorkgroups;
    options.verbose = verbose;
    if (maxImageSize < 16 || maxReferences < 0 || maxBatch < 1 ||
        maxTextTokens < 1) {
      llvm::errs() << "kiln-compile: limits must be positive (--max-image-size "
                      "at least 16, --max-references at least 0)\n";
      return 2;
    }
    mlir::kiln::ModelLimits limits{maxImageSize, maxReferences, maxBatch,
                                   maxTextTokens};
    options.dimLimits = mlir::kiln::dimLimitsFor(
        limits, mlir::kiln::vaeDownsamplingOf(modelDir));
    options.extraMetadata.emplace_back("kiln/limits.json",
                                       mlir::kiln::limitsJson(limits));
    return mlir::failed(
               mlir::kiln::writeArtifact(**module, outlined.get(), options,
                                         outputFile))
               ? 1
               : 0;
  }
  // Writes what `print` prints to -o (a file, or stdout for '-').
  auto writeOutput = [&](auto print) {
    std::string error;
    auto output = mlir::openOutputFile(outputFile, &error);
    if (!output) {
      llvm::errs() << "kiln-compile: " << error << "\n";
      return 1;
    }
    print(output->os());
    output->keep();
    return 0;
  };
  if (emit == Emit::Ptx) {
    auto code = mlir::kiln::compileCudaKernels(*outlined, *cudaTarget);
    if (mlir::failed(code))
      return 1;
    return writeOutput([&](llvm::raw_ostream &os) { os << code->ptx; });
  }
  if (emit == Emit::CpuSharedObject) {
    // One shared object: the last (most capable) level named.
    auto code = mlir::kiln::compileCpuKernels(**module, cpuTargets.back());
    if (mlir::failed(code))
      return 1;
    return writeOutput([&](llvm::raw_ostream &os) {
      os.write(reinterpret_cast<const char *>(code->sharedObject.data()),
               code->sharedObject.size());
    });
  }
  return writeOutput([&](llvm::raw_ostream &os) {
    (*module)->print(os);
    os << "\n";
  });
}
