//===- DiffusersImporter.cpp - Import a diffusers model folder ------------===//

#include "frontend/DiffusersImporter.h"

#include "dialects/kiln/IR/KilnDialect.h"
#include "frontend/Importers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>

namespace kiln::frontend {

using namespace mlir;

/// model_index.json entries that are not models (tokenizers, scheduler).
static bool isModelComponent(const nlohmann::json &entry) {
  return entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
         (entry[0] == "diffusers" || entry[0] == "transformers");
}

static bool isTokenizerOrScheduler(const std::string &key) {
  return key.rfind("tokenizer", 0) == 0 || key == "scheduler" ||
         key == "feature_extractor" || key == "image_encoder";
}

FailureOr<OwningOpRef<ModuleOp>>
importDiffusersModel(MLIRContext *context, const std::string &dir,
                     const std::vector<std::string> &only) {
  context->loadDialect<mlir::kiln::KilnDialect, func::FuncDialect,
                       arith::ArithDialect, tensor::TensorDialect>();
  Location loc = FileLineColLoc::get(context, dir + "/model_index.json", 0, 0);
  absl::StatusOr<io::JsonConfig> index =
      io::JsonConfig::Read(dir + "/model_index.json");
  if (!index.ok())
    return emitError(loc) << std::string(index.status().message());

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  std::vector<std::string> imported;
  for (auto &[key, entry] : index->json().items()) {
    if (!only.empty() &&
        std::find(only.begin(), only.end(), key) == only.end())
      continue;
    if (entry.is_null() || key.rfind("_", 0) == 0 ||
        (isTokenizerOrScheduler(key) && only.empty()))
      continue;
    if (!isModelComponent(entry))
      continue;
    std::string className = entry[1].get<std::string>();
    ImporterFn importer = findImporter(className);
    if (!importer) {
      if (!only.empty())
        return emitError(loc) << dir << "/model_index.json: component '" << key
                              << "' has class '" << className
                              << "', which Kiln cannot import (supported: "
                              << supportedClassNames() << ")";
      continue;  // e.g. a tokenizer class; the pipeline handles those.
    }
    std::string componentDir = dir + "/" + key;
    absl::StatusOr<io::JsonConfig> config =
        io::JsonConfig::Read(componentDir + "/config.json");
    if (!config.ok())
      return emitError(loc) << std::string(config.status().message());
    absl::StatusOr<std::unique_ptr<io::Checkpoint>> checkpoint =
        io::Checkpoint::Open(componentDir);
    if (!checkpoint.ok())
      return emitError(loc) << std::string(checkpoint.status().message());
    ComponentSource source{key, componentDir, *std::move(config),
                           *std::move(checkpoint)};
    if (failed(importer(*module, source)))
      return failure();
    imported.push_back(key);
  }
  for (const std::string &key : only)
    if (std::find(imported.begin(), imported.end(), key) == imported.end())
      return emitError(loc) << dir << "/model_index.json: no model component '"
                            << key << "'";
  if (imported.empty())
    return emitError(loc) << dir
                          << "/model_index.json: no component Kiln can import "
                             "(supported classes: "
                          << supportedClassNames() << ")";
  if (failed(verify(*module)))
    return failure();
  return module;
}

} // namespace kiln::frontend
