//===- CompileArtifact.cpp - A dispatch-formed module to a .kiln file -----===//

#include "compiler/pipeline/CompileArtifact.h"

#include "compiler/target/cpu/Passes.h"
#include "compiler/target/host/EntryFunctionBuilder.h"
#include "passes/kiln/WeightNames.h"
#include "runtime/artifact/artifact_writer.h"
#include "runtime/io/checkpoint.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/float_convert.h"
#include "runtime/io/mapped_file.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

namespace mlir::kiln {

namespace art = ::kiln::artifact;

namespace {

/// Metadata the runtime may need: configs, tokenizer files, the scheduler.
/// Weights are parameters, never metadata.
bool isMetadataFile(llvm::StringRef name) {
  if (name.ends_with(".safetensors.index.json"))
    return false;
  return name.ends_with(".json") || name.ends_with(".txt") ||
         name.ends_with(".model");
}

/// The model folder's metadata files, named by their relative path
/// ("tokenizer/vocab.json"): the top level and one level of components.
LogicalResult readMetadata(ModuleOp module, const std::string &dir,
                           std::vector<std::pair<std::string, std::string>> &out) {
  constexpr uint64_t kMaxBytes = 64 << 20;
  std::error_code ec;
  std::vector<std::string> files;
  for (llvm::sys::fs::directory_iterator top(dir, ec), end; top != end && !ec;
       top.increment(ec)) {
    llvm::StringRef path = top->path();
    if (llvm::sys::fs::is_directory(path)) {
      std::error_code inner;
      for (llvm::sys::fs::directory_iterator it(path, inner), e;
           it != e && !inner; it.increment(inner))
        files.push_back(it->path());
    } else {
      files.push_back(path.str());
    }
  }
  if (ec)
    return module.emitError("cannot list ") << dir << ": " << ec.message();
  std::sort(files.begin(), files.end());
  for (const std::string &path : files) {
    llvm::StringRef name = llvm::StringRef(path).drop_front(dir.size());
    name = name.ltrim('/');
    if (!isMetadataFile(name))
      continue;
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
    if (!buffer)
      return module.emitError("cannot read ")
             << path << ": " << buffer.getError().message();
    if ((*buffer)->getBufferSize() > kMaxBytes)
      return module.emitError(path) << " is larger than 64 MiB; metadata "
                                       "files are configs and tokenizers";
    out.emplace_back(name.str(), (*buffer)->getBuffer().str());
  }
  return success();
}

/// A constant global's bytes, splats expanded.
FailureOr<std::vector<uint8_t>> globalBytes(memref::GlobalOp global) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(*global.getInitialValue());
  if (!dense)
    return global.emitOpError("has no dense initial value");
  ArrayRef<char> raw = dense.getRawData();
  const int64_t bits = dense.getElementType().getIntOrFloatBitWidth();
  if (bits % 8 != 0)
    return global.emitOpError("has sub-byte elements");
  std::vector<uint8_t> bytes;
  const size_t count = dense.getNumElements();
  if (dense.isSplat()) {
    for (size_t i = 0; i < count; ++i)
      bytes.insert(bytes.end(), raw.begin(), raw.begin() + bits / 8);
  } else {
    bytes.assign(raw.begin(), raw.end());
  }
  return bytes;
}

/// Every parameter's bytes: checkpoint tensors (converted to the f32 or
/// bf16 the kernels read) or constant globals. Checkpoint tensors are
/// checked up front (check) and converted only when the writer asks for them
/// (fill), one at a time, into the writer's buffer: the compiler's memory
/// does not grow with the model (the checkpoint's mapped pages are released
/// after each tensor).
class ParameterLoader {
public:
  ParameterLoader(ModuleOp module, std::string dir)
      : module(module), dir(std::move(dir)) {}

  /// The tensor exists with the compiled shape, in a dtype the kernels'
  /// element type can be made from. A kiln-quantize-fp8 scale's tensor is
  /// its weight's, whose first dimension the scale has.
  LogicalResult check(const ParameterTable::Entry &entry) {
    absl::StatusOr<const ::kiln::io::TensorView *> view = find(entry);
    if (!view.ok())
      return module.emitError(std::string(view.status().message()));
    ArrayRef<int64_t> shape = entry.type.getShape();
    if (isScale(entry)) {
      if ((*view)->shape.size() != 2 || shape.size() != 1 ||
          shape[0] != (*view)->shape[0])
        return module.emitError("weight '")
               << entry.name << "': FP8 scales "
               << ::kiln::io::ShapeToString({shape.begin(), shape.end()})
               << " need a 2-d weight with that many rows; the checkpoint's is "
               << ::kiln::io::ShapeToString((*view)->shape);
      return success();
    }
    if (!llvm::equal((*view)->shape, shape))
      return module.emitError("weight '")
             << entry.name << "' has shape "
             << ::kiln::io::ShapeToString((*view)->shape)
             << " in the checkpoint, the compiled model expects "
             << ::kiln::io::ShapeToString({shape.begin(), shape.end()});
    Type element = entry.type.getElementType();
    if (!element.isF32() && !element.isBF16() &&
        !isa<Float8E4M3FNType>(element))
      return module.emitError("weight '")
             << entry.name
             << "': kernels read weights as f32, bf16 or f8E4M3FN, not "
             << element;
    ::kiln::io::DType stored = (*view)->dtype;
    if (stored != ::kiln::io::DType::F32 && stored != ::kiln::io::DType::F16 &&
        stored != ::kiln::io::DType::BF16)
      return module.emitError("weight '")
             << entry.name << "' is " << ::kiln::io::DTypeName(stored)
             << " in the checkpoint; expected F32, F16 or BF16";
    return success();
  }

  /// Writes the tensor of `entry`, converted, into `out`.
  absl::Status fill(const ParameterTable::Entry &entry,
                    absl::Span<uint8_t> out) {
    KILN_ASSIGN_OR_RETURN(const ::kiln::io::TensorView *view, find(entry));
    Type element = entry.type.getElementType();
    if (isScale(entry) || isa<Float8E4M3FNType>(element)) {
      absl::Status status = quantize(*view, isScale(entry), out);
      ::kiln::io::ReleaseMappedPages(view->data, view->nbytes);
      return status;
    }
    absl::Status status =
        element.isBF16()
            ? ::kiln::io::ConvertToBF16(
                  *view, absl::MakeSpan(reinterpret_cast<uint16_t *>(out.data()),
                                        out.size() / 2))
            : ::kiln::io::ConvertToF32(
                  *view, absl::MakeSpan(reinterpret_cast<float *>(out.data()),
                                        out.size() / 4));
    ::kiln::io::ReleaseMappedPages(view->data, view->nbytes);
    return status;
  }

  /// Whether `entry` is the scales kiln-quantize-fp8 added for a weight.
  static bool isScale(const ParameterTable::Entry &entry) {
    return llvm::StringRef(entry.name).ends_with(kFp8ScaleSuffix);
  }

private:
  /// Row by row: scale[n] = max|w[n, :]| / 448 (1 for a zero row) into
  /// `out` as f32 when `scales`, else e4m3(w[n, k] / scale[n]).
  static absl::Status quantize(const ::kiln::io::TensorView &view, bool scales,
                               absl::Span<uint8_t> out) {
    const int64_t rows = view.shape[0];
    if (rows == 0)
      return absl::OkStatus();
    const int64_t columns = view.numel() / rows;
    std::vector<float> wide(view.numel());
    KILN_RETURN_IF_ERROR(::kiln::io::ConvertToF32(view, absl::MakeSpan(wide)));
    for (int64_t n = 0; n < rows; ++n) {
      const float *row = wide.data() + n * columns;
      float amax = 0;
      for (int64_t k = 0; k < columns; ++k)
        amax = std::max(amax, std::fabs(row[k]));
      // A row of zeros gets scale 1; a row so small that amax / 448
      // underflows gets the smallest normal scale (its values round to 0).
      const float scale =
          amax > 0 ? std::max(amax / 448.0f, std::numeric_limits<float>::min())
                   : 1.0f;
      if (scales) {
        std::memcpy(out.data() + 4 * n, &scale, 4);
        continue;
      }
      for (int64_t k = 0; k < columns; ++k)
        out[n * columns + k] = ::kiln::io::FloatToE4M3(row[k] / scale);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<const ::kiln::io::TensorView *>
  find(const ParameterTable::Entry &entry) {
    llvm::StringRef name(entry.name);
    name.consume_back(kFp8ScaleSuffix);
    size_t dot = name.find('.');
    std::string component = name.substr(0, dot).str();
    std::string tensor = name.substr(dot + 1).str();
    auto &checkpoint = checkpoints[component];
    if (!checkpoint) {
      KILN_ASSIGN_OR_RETURN(checkpoint,
                            ::kiln::io::Checkpoint::Open(dir + "/" + component));
    }
    return checkpoint->Get(tensor);
  }

  ModuleOp module;
  std::string dir;
  std::map<std::string, std::unique_ptr<::kiln::io::Checkpoint>> checkpoints;
};

class Stopwatch {
public:
  explicit Stopwatch(bool verbose) : verbose(verbose) {}
  void lap(llvm::StringRef what) {
    auto now = std::chrono::steady_clock::now();
    if (verbose)
      llvm::errs() << "kiln-compile: " << what << " ("
                   << llvm::format("%.1f", std::chrono::duration<double>(
                                               now - last).count())
                   << " s)\n";
    last = now;
  }

private:
  bool verbose;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

} // namespace

LogicalResult writeArtifact(ModuleOp module, ModuleOp outlinedKernels,
                            const ArtifactOptions &options,
                            const std::string &outputPath) {
  Stopwatch clock(options.verbose);
  if (options.cpuTargets.empty() && !options.cudaTarget)
    return module.emitError("no target to compile for");
  // The executables' code, alive until the artifact is written.
  std::vector<CpuExecutableCode> cpuCode;
  CudaExecutableCode cudaCode;
  art::ArtifactContents contents;
  contents.producer = "kiln-compile 0.1";
  contents.model_name = options.modelName;

  // Entries first: they read the kernels' attributes and memory effects,
  // which compiling the kernels consumes.
  ParameterTable parameters;
  EntryBuildOptions entryOptions;
  entryOptions.kernelSymbol = [](llvm::StringRef name) {
    return cpuKernelSymbol(name);
  };
  entryOptions.maxWorkgroups = options.maxWorkgroups;
  entryOptions.defaultDimMax = options.defaultDimMax;
  for (const auto &limit : options.dimLimits)
    entryOptions.dimLimits[limit.getKey()] = limit.getValue();
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || func->hasAttr("kiln.dispatch"))
      continue;
    FailureOr<BuiltEntry> built = buildEntryFunction(
        module, func, parameters, contents.dims.size(), entryOptions);
    if (failed(built))
      return failure();
    contents.dims.insert(contents.dims.end(), built->dims.begin(),
                         built->dims.end());
    contents.entries.push_back(std::move(built->entry));
  }
  clock.lap("built the entries' dispatch lists and memory plans");

  if (!options.cpuTargets.empty()) {
    FailureOr<std::vector<CpuExecutableCode>> compiled =
        compileCpuKernels(module, options.cpuTargets);
    if (failed(compiled))
      return failure();
    cpuCode = std::move(*compiled);
    std::vector<std::string> names;
    for (auto [target, code] : llvm::zip(options.cpuTargets, cpuCode)) {
      names.push_back(target.name);
      contents.executables.push_back({target.name, "elf-shared-object",
                                      target.features, code.kernels,
                                      code.sharedObject});
    }
    clock.lap(llvm::formatv("compiled {0} kernels for {1}",
                            cpuCode.front().kernels.size(),
                            llvm::join(names, ", "))
                  .str());
  }
  if (options.cudaTarget) {
    if (!outlinedKernels)
      return module.emitError("the CUDA target needs the outlined kernels");
    FailureOr<CudaExecutableCode> code =
        compileCudaKernels(outlinedKernels, *options.cudaTarget);
    if (failed(code))
      return failure();
    clock.lap(llvm::formatv("compiled {0} kernels for {1} (PTX, {2} KiB)",
                            code->kernels.size(), options.cudaTarget->name,
                            code->ptx.size() / 1024)
                  .str());
    cudaCode = std::move(*code);
    art::Executable cuda;
    cuda.target = options.cudaTarget->name;
    cuda.format = "ptx";
    cuda.kernels = cudaCode.kernels;
    cuda.code = absl::MakeConstSpan(
        reinterpret_cast<const uint8_t *>(cudaCode.ptx.data()),
        cudaCode.ptx.size());
    cuda.threads_per_block = kCudaBlockSize;
    cuda.elements_per_block = cudaCode.elementsPerBlock;
    contents.executables.push_back(std::move(cuda));
  }
  // Executable 0 is the one every dispatch names; the kernel of the same
  // name in each other executable (another CPU level, the GPU) is its
  // variant.
  for (uint32_t i = 1; i < contents.executables.size(); ++i)
    for (art::EntryFunction &entry : contents.entries)
      for (art::Dispatch &dispatch : entry.dispatches)
        dispatch.variants.push_back({i, dispatch.kernel});

  ParameterLoader loader(module, options.modelDir);
  std::vector<std::vector<uint8_t>> constants; // the globals' bytes
  constants.reserve(parameters.entries().size());
  for (const ParameterTable::Entry &entry : parameters.entries()) {
    FailureOr<::kiln::io::DType> dtype =
        artifactDType(entry.type.getElementType());
    if (failed(dtype))
      return failure();
    ArrayRef<int64_t> shape = entry.type.getShape();
    art::Parameter parameter{
        entry.name, *dtype, {shape.begin(), shape.end()}, 0, {}, "", {}};
    if (entry.global) {
      FailureOr<std::vector<uint8_t>> bytes =
          globalBytes(cast<memref::GlobalOp>(entry.global));
      if (failed(bytes))
        return failure();
      constants.push_back(std::move(*bytes));
      parameter.data = constants.back();
    } else {
      if (failed(loader.check(entry)))
        return failure();
      parameter.fill = [&loader, &entry](absl::Span<uint8_t> out) {
        return loader.fill(entry, out);
      };
      if (isa<Float8E4M3FNType>(entry.type.getElementType()))
        parameter.scale = entry.name + kFp8ScaleSuffix.str();
    }
    contents.parameters.push_back(std::move(parameter));
  }
  std::vector<std::pair<std::string, std::string>> metadata;
  if (failed(readMetadata(module, options.modelDir, metadata)))
    return failure();
  metadata.insert(metadata.end(), options.extraMetadata.begin(),
                  options.extraMetadata.end());
  for (const auto &[name, data] : metadata)
    contents.metadata.push_back(
        {name, absl::MakeConstSpan(
                   reinterpret_cast<const uint8_t *>(data.data()), data.size())});
  clock.lap("checked the parameters, loaded the metadata");

  // The weights are converted while they are written.
  absl::Status written = art::WriteArtifact(outputPath, contents);
  if (!written.ok())
    return module.emitError(std::string(written.message()));
  clock.lap("wrote " + outputPath);
  return success();
}

} // namespace mlir::kiln
