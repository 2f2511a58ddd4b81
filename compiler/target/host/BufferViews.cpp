//===- BufferViews.cpp - Host memrefs as (buffer, offset, strides) --------===//

#include "compiler/target/host/BufferViews.h"

#include "compiler/target/host/ExpressionMath.h"
#include "compiler/target/host/ExpressionPolynomial.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SmallBitVector.h"

namespace mlir::kiln {

using ::kiln::artifact::Expression;

Value BufferViewTracer::rootOf(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      value = view.getViewSource();
    else if (auto reshape = dyn_cast<memref::ReshapeOp>(def))
      value = reshape.getSource();
    else
      break;
  }
  return value;
}

FailureOr<SmallVector<Expression>> BufferViewTracer::sizesOf(Value v) {
  SmallVector<Expression> sizes;
  for (int64_t d = 0, e = cast<MemRefType>(v.getType()).getRank(); d < e; ++d) {
    FailureOr<Expression> size = shapes.dimension(v, d);
    if (failed(size))
      return failure();
    sizes.push_back(expr::simplify(*size));
  }
  return sizes;
}

FailureOr<BufferView> BufferViewTracer::trace(Value value) {
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  FailureOr<BufferView> view = traceUncached(value);
  if (succeeded(view))
    cache.try_emplace(value, *view);
  return view;
}

/// Row-major strides of `sizes`.
static SmallVector<Expression> rowMajor(ArrayRef<Expression> sizes) {
  SmallVector<Expression> strides(sizes.size());
  Expression stride = expr::constant(1);
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    strides[d] = stride;
    stride = expr::mul(stride, sizes[d]);
  }
  return strides;
}

FailureOr<BufferView> BufferViewTracer::traceUncached(Value value) {
  FailureOr<SmallVector<Expression>> sizes = sizesOf(value);
  if (failed(sizes))
    return failure();
  Operation *def = value.getDefiningOp();
  if (!def || isa<memref::AllocOp, memref::GetGlobalOp>(def))
    return BufferView{value, expr::constant(0), *sizes, rowMajor(*sizes)};

  if (auto cast = dyn_cast<memref::CastOp>(def)) {
    FailureOr<BufferView> source = trace(cast.getSource());
    if (failed(source))
      return failure();
    return BufferView{source->root, source->offset, *sizes, source->strides};
  }
  if (auto reshape = dyn_cast<memref::ReshapeOp>(def)) {
    // memref.reshape takes and gives contiguous row-major views.
    FailureOr<BufferView> source = trace(reshape.getSource());
    if (failed(source))
      return failure();
    return BufferView{source->root, source->offset, *sizes, rowMajor(*sizes)};
  }
  if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
    FailureOr<BufferView> source = trace(subview.getSource());
    if (failed(source))
      return failure();
    BufferView view{source->root, source->offset, *sizes, {}};
    llvm::SmallBitVector dropped = subview.getDroppedDims();
    SmallVector<OpFoldResult> offsets = subview.getMixedOffsets();
    SmallVector<OpFoldResult> steps = subview.getMixedStrides();
    for (size_t d = 0; d < offsets.size(); ++d) {
      FailureOr<Expression> offset = shapes.fold(offsets[d]);
      FailureOr<Expression> step = shapes.fold(steps[d]);
      if (failed(offset) || failed(step))
        return failure();
      view.offset =
          expr::add(view.offset, expr::mul(*offset, source->strides[d]));
      if (!dropped.test(d))
        view.strides.push_back(expr::mul(*step, source->strides[d]));
    }
    return view;
  }
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(def)) {
    FailureOr<BufferView> source = trace(expand.getSrc());
    if (failed(source))
      return failure();
    BufferView view{source->root, source->offset, *sizes, {}};
    view.strides.resize(sizes->size());
    // Within a group the innermost result dim keeps the source's stride;
    // each outer one steps over the inner ones.
    for (auto [d, group] : llvm::enumerate(expand.getReassociationIndices())) {
      Expression stride = source->strides[d];
      for (int64_t r : llvm::reverse(group)) {
        view.strides[r] = stride;
        stride = expr::mul(stride, (*sizes)[r]);
      }
    }
    return view;
  }
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def)) {
    // The verifier allows collapsing only dims contiguous with each other:
    // the collapsed dim steps like the innermost one of its group.
    FailureOr<BufferView> source = trace(collapse.getSrc());
    if (failed(source))
      return failure();
    BufferView view{source->root, source->offset, *sizes, {}};
    for (const auto &group : collapse.getReassociationIndices())
      view.strides.push_back(source->strides[group.back()]);
    return view;
  }
  return def->emitOpError("makes a view the artifact cannot describe");
}

} // namespace mlir::kiln
