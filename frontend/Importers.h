//===- Importers.h - Importers of diffusers components ----------*- C++ -*-===//
//
// One importer per model class. Each adds its entry functions to the module;
// every argument carries `kiln.input = "<name>"` and every result
// `kiln.output = "<name>"`, the names diffusers/transformers use for them
// (test/goldens/README.md lists them per component).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_IMPORTERS_H
#define KILN_FRONTEND_IMPORTERS_H

#include "runtime/io/checkpoint.h"
#include "runtime/io/json_config.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <string>

namespace kiln::frontend {

/// One opened component folder of a diffusers checkpoint.
struct ComponentSource {
  std::string name;  // folder name: "transformer", "vae", "text_encoder"...
  std::string dir;   // its path
  io::JsonConfig config;
  std::unique_ptr<io::Checkpoint> checkpoint;
};

using ImporterFn = mlir::LogicalResult (*)(mlir::ModuleOp,
                                           const ComponentSource &);

/// FluxTransformer2DModel -> `denoise`.
mlir::LogicalResult importFluxTransformer(mlir::ModuleOp module,
                                          const ComponentSource &source);

/// AutoencoderKL -> `vae_encode` and `vae_decode`.
mlir::LogicalResult importAutoencoderKL(mlir::ModuleOp module,
                                       const ComponentSource &source);

/// CLIPTextModel -> `clip_text_encoder`.
mlir::LogicalResult importClipTextModel(mlir::ModuleOp module,
                                        const ComponentSource &source);

/// T5EncoderModel -> `t5_text_encoder`.
mlir::LogicalResult importT5EncoderModel(mlir::ModuleOp module,
                                         const ComponentSource &source);

/// The importer for a diffusers/transformers class name, or null.
ImporterFn findImporter(const std::string &className);

/// Names of the classes that have an importer, for error messages.
std::string supportedClassNames();

/// Where an importer reports config problems: `<component dir>/config.json`.
mlir::Location configLocation(mlir::MLIRContext *context,
                              const ComponentSource &source);

/// Creates entry function `name` taking `inputs`, with its entry block, and
/// points the builder at the start of it.
mlir::func::FuncOp createEntry(mlir::OpBuilder &b, mlir::ModuleOp module,
                               mlir::Location loc, llvm::StringRef name,
                               mlir::TypeRange inputs);

/// Returns `results` from `func`, fixes its type, and names its interface
/// (`kiln.input` / `kiln.output`).
void finishEntry(mlir::OpBuilder &b, mlir::Location loc, mlir::func::FuncOp func,
                 mlir::ValueRange results,
                 llvm::ArrayRef<llvm::StringRef> inputNames,
                 llvm::ArrayRef<llvm::StringRef> outputNames);

} // namespace kiln::frontend

#endif // KILN_FRONTEND_IMPORTERS_H
