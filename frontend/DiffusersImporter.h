//===- DiffusersImporter.h - Import a diffusers model folder ----*- C++ -*-===//

#ifndef KILN_FRONTEND_DIFFUSERSIMPORTER_H
#define KILN_FRONTEND_DIFFUSERSIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace kiln::frontend {

/// Reads `<dir>/model_index.json` and imports each model component it names
/// (or only those in `only`, when not empty) into one module of kiln IR.
/// Errors are emitted as diagnostics naming the file and the key.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importDiffusersModel(mlir::MLIRContext *context, const std::string &dir,
                     const std::vector<std::string> &only = {});

} // namespace kiln::frontend

#endif // KILN_FRONTEND_DIFFUSERSIMPORTER_H
