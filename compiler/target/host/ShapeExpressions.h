//===- ShapeExpressions.h - Index SSA values as artifact expressions -*- C++ -*-===//
//
// The host program of an entry computes every buffer size, view offset and
// workgroup count from the sizes of its inputs with index arithmetic. The
// runtime evaluates those as the artifact's expression programs
// (runtime/artifact/expression.h); this turns the SSA form into them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_HOST_SHAPEEXPRESSIONS_H
#define KILN_COMPILER_TARGET_HOST_SHAPEEXPRESSIONS_H

#include "runtime/artifact/expression.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <map>

namespace mlir::kiln {

/// Translates index values of one host function. Dynamic dimensions of the
/// function's arguments are the symbols: (argument, dimension) -> dim index
/// of the artifact, assigned in order of first use.
class ShapeExpressionBuilder {
public:
  explicit ShapeExpressionBuilder(func::FuncOp host) : host(host) {}

  /// The expression computing `value`, or failure with an error on the op
  /// that the runtime's expression language cannot express.
  FailureOr<::kiln::artifact::Expression> build(Value value);

  /// A static value's constant, or a dynamic one's expression.
  FailureOr<::kiln::artifact::Expression> fold(OpFoldResult size);

  /// The expression of dimension `dim` of a memref value (an argument, an
  /// allocation or a view).
  FailureOr<::kiln::artifact::Expression> dimension(Value memref, int64_t dim);

  /// The symbols found so far: (argument number, dimension), by dim index.
  const std::vector<std::pair<unsigned, int64_t>> &symbols() const {
    return symbolList;
  }

private:
  FailureOr<::kiln::artifact::Expression> buildUncached(Value value);
  FailureOr<::kiln::artifact::Expression>
  fromAffine(AffineExpr expr, ValueRange dims, ValueRange symbols);
  ::kiln::artifact::Expression symbol(unsigned argument, int64_t dim);

  func::FuncOp host;
  llvm::DenseMap<Value, ::kiln::artifact::Expression> cache;
  std::map<std::pair<unsigned, int64_t>, int64_t> symbolIndex;
  std::vector<std::pair<unsigned, int64_t>> symbolList;
};

/// Registers the test pass annotating allocations with their expressions.
void registerTestShapeExpressionsPass();

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_HOST_SHAPEEXPRESSIONS_H
