//===- JitRunner.h - Run imported kiln IR in-process, for tests -*- C++ -*-===//
//
// The reference execution path: kiln IR -> the reference linalg lowering ->
// plain loops -> LLVM, JIT-compiled with mlir::ExecutionEngine. It exists to
// prove that imported IR means what diffusers means (test/goldens); it is not
// the product's CPU target and is not fast.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_JIT_JITRUNNER_H
#define KILN_COMPILER_JIT_JITRUNNER_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln::jit {

/// A dense row-major host tensor of f32 or i64 elements.
struct HostTensor {
  enum class Kind { F32, I64 };
  Kind kind = Kind::F32;
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<int64_t> i64;

  int64_t numel() const;
  void *data() { return kind == Kind::F32 ? (void *)f32.data() : (void *)i64.data(); }
};

/// Where an entry-function argument comes from.
struct ArgumentBinding {
  enum class Source { Input, Weight };
  Source source;
  std::string name;  // kiln.input name, or the weight's checkpoint name
  HostTensor::Kind kind;
  std::vector<int64_t> shape;  // static dims, or ShapedType::kDynamic
};

/// One entry function: its arguments in order and its named results.
struct EntrySignature {
  std::string name;
  std::vector<ArgumentBinding> arguments;
  std::vector<std::string> outputs;
  std::vector<HostTensor::Kind> outputKinds;
  std::vector<int64_t> outputRanks;
};

class JitRunner {
public:
  /// Promotes weights to arguments, lowers `module` (kiln IR) to LLVM and
  /// JIT-compiles it. The module is consumed. Errors go to the context's
  /// diagnostic handler.
  static mlir::FailureOr<std::unique_ptr<JitRunner>>
  compile(mlir::OwningOpRef<mlir::ModuleOp> module);

  const std::vector<EntrySignature> &entries() const { return entries_; }

  /// Calls `entry` with one tensor per argument, in order; returns its
  /// results. Shapes must match the static dimensions of the signature.
  mlir::FailureOr<std::vector<HostTensor>>
  run(const EntrySignature &entry, std::vector<HostTensor *> arguments,
      std::string &error);

private:
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  std::vector<EntrySignature> entries_;
};

/// Registers the dialects, extensions, passes and LLVM translations the JIT
/// pipeline needs, and initializes the native target. Call once per process.
void initializeJit(mlir::DialectRegistry &registry);

} // namespace kiln::jit

#endif // KILN_COMPILER_JIT_JITRUNNER_H
