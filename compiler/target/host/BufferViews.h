//===- BufferViews.h - Host memrefs as (buffer, offset, strides) -*- C++ -*-===//
//
// After bufferization the host program passes kernels views: subviews,
// expand/collapse_shape, reshapes and casts of an argument, an allocation
// or a global constant. The artifact describes each binding as a byte range
// of one buffer with a shape and strides, all expressions over the entry's
// dims; this walks a view back to its buffer and composes those.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_HOST_BUFFERVIEWS_H
#define KILN_COMPILER_TARGET_HOST_BUFFERVIEWS_H

#include "compiler/target/host/ShapeExpressions.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir::kiln {

/// A view of a root buffer, in elements of the view's type.
struct BufferView {
  /// A block argument of the host function, a memref.alloc or a
  /// memref.get_global.
  Value root;
  ::kiln::artifact::Expression offset;
  llvm::SmallVector<::kiln::artifact::Expression> sizes;
  llvm::SmallVector<::kiln::artifact::Expression> strides;
};

class BufferViewTracer {
public:
  explicit BufferViewTracer(ShapeExpressionBuilder &shapes) : shapes(shapes) {}

  /// The view `value` is, or failure with an error on the op the artifact
  /// cannot describe.
  FailureOr<BufferView> trace(Value value);

  /// The buffer a view reads or writes, without its expressions.
  static Value rootOf(Value value);

private:
  FailureOr<BufferView> traceUncached(Value value);
  FailureOr<llvm::SmallVector<::kiln::artifact::Expression>> sizesOf(Value v);

  ShapeExpressionBuilder &shapes;
  llvm::DenseMap<Value, BufferView> cache;
};

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_HOST_BUFFERVIEWS_H
