//===- Importers.cpp - The table of component importers -------------------===//
//
// Adding a model class: write its importer (one file), declare it in
// Importers.h and add a row here.
//
//===----------------------------------------------------------------------===//

#include "frontend/Importers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln::frontend {
namespace {
struct ImporterEntry {
  const char *className;
  ImporterFn importer;
};

constexpr ImporterEntry kImporters[] = {
    {"FluxTransformer2DModel", importFluxTransformer},
    {"AutoencoderKL", importAutoencoderKL},
    {"CLIPTextModel", importClipTextModel},
    {"T5EncoderModel", importT5EncoderModel},
};
} // namespace

ImporterFn findImporter(const std::string &className) {
  for (const ImporterEntry &entry : kImporters)
    if (className == entry.className)
      return entry.importer;
  return nullptr;
}

std::string supportedClassNames() {
  std::string names;
  for (const ImporterEntry &entry : kImporters)
    names += (names.empty() ? "" : ", ") + std::string(entry.className);
  return names;
}

mlir::Location configLocation(mlir::MLIRContext *context,
                              const ComponentSource &source) {
  return mlir::FileLineColLoc::get(context, source.dir + "/config.json", 0, 0);
}

mlir::func::FuncOp createEntry(mlir::OpBuilder &b, mlir::ModuleOp module,
                               mlir::Location loc, llvm::StringRef name,
                               mlir::TypeRange inputs) {
  b.setInsertionPointToEnd(module.getBody());
  auto func =
      mlir::func::FuncOp::create(b, loc, name, b.getFunctionType(inputs, {}));
  b.setInsertionPointToStart(func.addEntryBlock());
  return func;
}

void finishEntry(mlir::OpBuilder &b, mlir::Location loc, mlir::func::FuncOp func,
                 mlir::ValueRange results,
                 llvm::ArrayRef<llvm::StringRef> inputNames,
                 llvm::ArrayRef<llvm::StringRef> outputNames) {
  mlir::func::ReturnOp::create(b, loc, results);
  func.setFunctionType(
      b.getFunctionType(func.getArgumentTypes(), results.getTypes()));
  for (auto [i, name] : llvm::enumerate(inputNames))
    func.setArgAttr(i, "kiln.input", b.getStringAttr(name));
  for (auto [i, name] : llvm::enumerate(outputNames))
    func.setResultAttr(i, "kiln.output", b.getStringAttr(name));
}

} // namespace kiln::frontend
