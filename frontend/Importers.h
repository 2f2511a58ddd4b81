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

/// Sets the `kiln.input`/`kiln.output` names of an entry function.
void nameEntryInterface(mlir::func::FuncOp func,
                        llvm::ArrayRef<llvm::StringRef> inputs,
                        llvm::ArrayRef<llvm::StringRef> outputs);

} // namespace kiln::frontend

#endif // KILN_FRONTEND_IMPORTERS_H
