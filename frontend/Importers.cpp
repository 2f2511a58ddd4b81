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

void nameEntryInterface(mlir::func::FuncOp func,
                        llvm::ArrayRef<llvm::StringRef> inputs,
                        llvm::ArrayRef<llvm::StringRef> outputs) {
  mlir::Builder b(func.getContext());
  for (auto [i, name] : llvm::enumerate(inputs))
    func.setArgAttr(i, "kiln.input", b.getStringAttr(name));
  for (auto [i, name] : llvm::enumerate(outputs))
    func.setResultAttr(i, "kiln.output", b.getStringAttr(name));
}

} // namespace kiln::frontend
