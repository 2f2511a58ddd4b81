//===- JitRunner.cpp - Run imported kiln IR in-process, for tests ---------===//

#include "compiler/jit/JitRunner.h"

#include "compiler/pipeline/Pipelines.h"
#include "passes/kiln/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>

namespace kiln::jit {

using namespace mlir;

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void initializeJit(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  mlir::kiln::registerKilnPipelinePasses();
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
}

/// After Kiln's stages (compiler/pipeline), plain upstream lowering of the
/// host program and kernels to LLVM. Three workgroups per dispatch (run in
/// sequence by the host program) make the block split uneven on purpose, so
/// the goldens also check dispatch formation.
static constexpr int64_t kJitWorkgroups = 3;
static constexpr const char *kLlvmLowering =
    "kiln-expand-fp8,expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "convert-math-to-llvm,convert-math-to-libm,finalize-memref-to-llvm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,"
    "convert-func-to-llvm,reconcile-unrealized-casts";

static FailureOr<HostTensor::Kind> kindOf(Location loc, Type type) {
  Type elem = cast<ShapedType>(type).getElementType();
  if (elem.isF32())
    return HostTensor::Kind::F32;
  if (elem.isInteger(64))
    return HostTensor::Kind::I64;
  return emitError(loc) << "the JIT runner handles f32 and i64 tensors, got "
                        << type;
}

/// Reads the entry signatures (after weight promotion, before lowering).
static FailureOr<std::vector<EntrySignature>> readSignatures(ModuleOp module) {
  std::vector<EntrySignature> entries;
  for (auto func : module.getOps<func::FuncOp>()) {
    EntrySignature entry;
    entry.name = func.getName().str();
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      ArgumentBinding arg;
      if (auto name = func.getArgAttrOfType<StringAttr>(i, "kiln.input")) {
        arg.source = ArgumentBinding::Source::Input;
        arg.name = name.str();
      } else if (auto w = func.getArgAttrOfType<StringAttr>(i, "kiln.weight")) {
        arg.source = ArgumentBinding::Source::Weight;
        arg.name = w.str();
      } else {
        return func.emitError("argument #") << i << " has neither a "
                                               "kiln.input nor a kiln.weight "
                                               "name";
      }
      auto type = cast<RankedTensorType>(func.getArgumentTypes()[i]);
      FailureOr<HostTensor::Kind> kind = kindOf(func.getLoc(), type);
      if (failed(kind))
        return failure();
      arg.kind = *kind;
      arg.shape.assign(type.getShape().begin(), type.getShape().end());
      entry.arguments.push_back(arg);
    }
    for (unsigned i = 0; i < func.getNumResults(); ++i) {
      auto name = func.getResultAttrOfType<StringAttr>(i, "kiln.output");
      if (!name)
        return func.emitError("result #") << i << " has no kiln.output name";
      auto type = cast<RankedTensorType>(func.getResultTypes()[i]);
      FailureOr<HostTensor::Kind> kind = kindOf(func.getLoc(), type);
      if (failed(kind))
        return failure();
      entry.outputs.push_back(name.str());
      entry.outputKinds.push_back(*kind);
      entry.outputRanks.push_back(type.getRank());
    }
    // The names are recorded above; LLVM translation does not know them.
    func.removeArgAttrsAttr();
    func.removeResAttrsAttr();
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(func.getContext()));
    entries.push_back(std::move(entry));
  }
  return entries;
}

FailureOr<std::unique_ptr<JitRunner>>
JitRunner::compile(OwningOpRef<ModuleOp> module) {
  MLIRContext *ctx = module->getContext();
  PassManager promote(ctx);
  promote.addPass(mlir::kiln::createPromoteWeightsToArgumentsPass());
  if (failed(promote.run(*module)))
    return failure();
  FailureOr<std::vector<EntrySignature>> entries = readSignatures(*module);
  if (failed(entries))
    return failure();

  PassManager pm(ctx);
  mlir::kiln::addKilnToLinalgPasses(pm);
  mlir::kiln::addDispatchFormationPasses(pm, kJitWorkgroups);
  if (failed(parsePassPipeline(kLlvmLowering, pm, llvm::errs())) ||
      failed(pm.run(*module)))
    return failure();

  ExecutionEngineOptions options;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Default;
  // memref.copy of strided views lowers to a call into this library.
  static const std::string runnerUtils =
      std::string(KILN_MLIR_LIB_DIR) + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs{runnerUtils};
  options.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*module, options);
  if (!engine) {
    std::string message = llvm::toString(engine.takeError());
    return emitError(module->getLoc()) << "JIT compilation failed: " << message;
  }
  auto runner = std::make_unique<JitRunner>();
  runner->engine_ = std::move(*engine);
  runner->entries_ = std::move(*entries);
  return runner;
}

/// A ranked memref descriptor as the C interface lays it out: allocated and
/// aligned pointers, offset, sizes, strides, all 8 bytes wide.
static std::vector<int64_t> descriptorFor(HostTensor &t) {
  size_t rank = t.shape.size();
  std::vector<int64_t> d(3 + 2 * rank);
  d[0] = d[1] = reinterpret_cast<int64_t>(t.data());
  d[2] = 0;
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    d[3 + i] = t.shape[i];
    d[3 + rank + i] = stride;
    stride *= t.shape[i];
  }
  return d;
}

/// Copies a returned descriptor's data out (honouring its strides) and
/// frees the buffer the JIT code allocated.
static HostTensor takeResult(const int64_t *d, int64_t rank,
                             HostTensor::Kind kind) {
  HostTensor t;
  t.kind = kind;
  t.shape.assign(d + 3, d + 3 + rank);
  const int64_t *strides = d + 3 + rank;
  int64_t n = t.numel();
  size_t elemSize = kind == HostTensor::Kind::F32 ? 4 : 8;
  const char *base = reinterpret_cast<const char *>(d[1]) + d[2] * elemSize;
  if (kind == HostTensor::Kind::F32)
    t.f32.resize(n);
  else
    t.i64.resize(n);
  std::vector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t offset = 0;
    for (int64_t i = 0; i < rank; ++i)
      offset += index[i] * strides[i];
    if (kind == HostTensor::Kind::F32)
      t.f32[flat] = reinterpret_cast<const float *>(base)[offset];
    else
      t.i64[flat] = reinterpret_cast<const int64_t *>(base)[offset];
    for (int64_t i = rank; i-- > 0;) {
      if (++index[i] < t.shape[i])
        break;
      index[i] = 0;
    }
  }
  std::free(reinterpret_cast<void *>(d[0]));
  return t;
}

FailureOr<std::vector<HostTensor>>
JitRunner::run(const EntrySignature &entry, std::vector<HostTensor *> arguments,
               std::string &error) {
  if (arguments.size() != entry.arguments.size()) {
    error = entry.name + ": expected " +
            std::to_string(entry.arguments.size()) + " arguments, got " +
            std::to_string(arguments.size());
    return failure();
  }
  std::vector<std::vector<int64_t>> descriptors;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const ArgumentBinding &binding = entry.arguments[i];
    HostTensor &t = *arguments[i];
    bool shapeOk = t.kind == binding.kind &&
                   t.shape.size() == binding.shape.size();
    for (size_t d = 0; shapeOk && d < t.shape.size(); ++d)
      shapeOk = ShapedType::isDynamic(binding.shape[d]) ||
                binding.shape[d] == t.shape[d];
    if (!shapeOk) {
      error = entry.name + ": argument '" + binding.name +
              "' does not fit the signature (rank, static dims or dtype)";
      return failure();
    }
    descriptors.push_back(descriptorFor(t));
  }
  size_t resultWords = 0;
  for (int64_t rank : entry.outputRanks)
    resultWords += 3 + 2 * rank;
  std::vector<int64_t> results(resultWords);
  // C interface: a pointer to the result struct first (when there are
  // results), then a pointer to each argument's descriptor.
  std::vector<void *> pointers;
  void *resultPtr = results.data();
  if (!entry.outputs.empty())
    pointers.push_back(&resultPtr);
  std::vector<void *> descriptorPtrs;
  for (auto &d : descriptors)
    descriptorPtrs.push_back(d.data());
  for (auto &p : descriptorPtrs)
    pointers.push_back(&p);
  // A single result is returned as the descriptor itself, not a struct: the
  // layout is the same either way.
  if (llvm::Error e =
          engine_->invokePacked("_mlir_ciface_" + entry.name, pointers)) {
    error = entry.name + ": " + llvm::toString(std::move(e));
    return failure();
  }
  std::vector<HostTensor> outputs;
  const int64_t *cursor = results.data();
  for (size_t i = 0; i < entry.outputs.size(); ++i) {
    outputs.push_back(
        takeResult(cursor, entry.outputRanks[i], entry.outputKinds[i]));
    cursor += 3 + 2 * entry.outputRanks[i];
  }
  return outputs;
}

} // namespace kiln::jit
