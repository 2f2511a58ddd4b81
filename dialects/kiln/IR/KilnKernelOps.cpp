//===- KilnKernelOps.cpp - Weight formats and ops the lowering creates ---===//
//
// The verifier of kiln.dequantize (FP8 weights, kiln-quantize-fp8), and the
// verifier, memory effects and bufferization of kiln.flash_attention. The
// op is in destination style, so one-shot bufferization writes the result
// into the buffer of `init`; `init` is write-only (every element of the
// result is computed), which lets an empty tensor become a plain
// allocation without a copy.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::kiln;

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto data = cast<RankedTensorType>(getData().getType());
  auto scale = cast<RankedTensorType>(getScale().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (data.getRank() < 1)
    return emitOpError("expects data of rank >= 1 ([out, ...])");
  if (scale.getRank() != 1)
    return emitOpError("expects a rank-1 scale (one per output channel), got ")
           << scale;
  int64_t out = data.getDimSize(0), scales = scale.getDimSize(0);
  if (!ShapedType::isDynamic(out) && !ShapedType::isDynamic(scales) &&
      out != scales)
    return emitOpError("expects one scale per output channel: data has ")
           << out << ", scale " << scales;
  if (result.getShape() != data.getShape())
    return emitOpError("expects the result shape of data, got ") << result;
  return success();
}

//===----------------------------------------------------------------------===//
// FlashAttentionOp
//===----------------------------------------------------------------------===//

namespace {

/// The shapes agree where static: q [B,Sq,H,D], k [B,Sk,H,D], v [B,Sk,H,E],
/// init [B,Sq,H,E], mask [B|1,H|1,Sq|1,Sk].
LogicalResult verifyAttentionShapes(FlashAttentionOp op) {
  struct Use {
    const char *name;
    Value value;
  };
  SmallVector<Use> uses{{"query", op.getQuery()},
                        {"key", op.getKey()},
                        {"value", op.getValue()},
                        {"init", op.getInit()}};
  if (op.getMask())
    uses.push_back({"mask", op.getMask()});
  bool buffers = op.hasBufferSemantics();
  for (const Use &use : uses) {
    auto type = dyn_cast<ShapedType>(use.value.getType());
    if (!type || !type.hasRank() || type.getRank() != 4 ||
        !type.getElementType().isF32())
      return op.emitOpError("expects ")
             << use.name << " to be a rank-4 f32 shaped value, got "
             << use.value.getType();
    if (isa<MemRefType>(type) != buffers)
      return op.emitOpError("expects ")
             << use.name << " to be a "
             << (buffers ? "memref" : "tensor") << " like init";
  }
  if (op.getResult().size() != (buffers ? 0u : 1u))
    return op.emitOpError(buffers ? "has no result on memrefs"
                                  : "expects one result on tensors");
  if (!buffers && op.getResult().front().getType() != op.getInit().getType())
    return op.emitOpError("expects the result type to be init's type");

  for (const FlashAttentionOp::SizeTie &tie : op.getSizeTies()) {
    int64_t a = cast<ShapedType>(tie.a.getType()).getDimSize(tie.aDim);
    int64_t b = cast<ShapedType>(tie.b.getType()).getDimSize(tie.bDim);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return op.emitOpError("expects the ")
             << tie.size << " of " << tie.bName << " (dim " << tie.bDim
             << ", " << b << ") to equal that of " << tie.aName << " (dim "
             << tie.aDim << ", " << a << ")";
  }
  return success();
}

} // namespace

SmallVector<FlashAttentionOp::SizeTie> FlashAttentionOp::getSizeTies() {
  Value q = getQuery(), k = getKey(), v = getValue(), o = getInit();
  SmallVector<SizeTie> ties{
      {"batch", "query", q, 0, "key", k, 0},
      {"batch", "query", q, 0, "value", v, 0},
      {"batch", "query", q, 0, "init", o, 0},
      {"query length", "query", q, 1, "init", o, 1},
      {"heads", "query", q, 2, "key", k, 2},
      {"heads", "query", q, 2, "value", v, 2},
      {"heads", "query", q, 2, "init", o, 2},
      {"head dim", "query", q, 3, "key", k, 3},
      {"key length", "key", k, 1, "value", v, 1},
      {"value dim", "value", v, 3, "init", o, 3}};
  if (Value mask = getMask()) {
    ties.push_back({"key length", "key", k, 1, "mask", mask, 3});
    // Mask dimensions 0..2 broadcast when they are a static 1.
    auto maskType = cast<ShapedType>(mask.getType());
    const char *names[] = {"batch", "heads", "query length"};
    unsigned queryDims[] = {0, 2, 1};
    for (unsigned d = 0; d < 3; ++d)
      if (maskType.getDimSize(d) != 1)
        ties.push_back({names[d], "query", q, queryDims[d], "mask", mask, d});
  }
  return ties;
}

LogicalResult FlashAttentionOp::verify() {
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError("expects a positive scale");
  return verifyAttentionShapes(*this);
}

void FlashAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (!hasBufferSemantics())
    return;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (&operand == &getInitMutable())
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

bool FlashAttentionOp::bufferizesToMemoryRead(
    OpOperand &operand, const bufferization::AnalysisState &) {
  return &operand != &getInitMutable();
}

bool FlashAttentionOp::bufferizesToMemoryWrite(
    OpOperand &operand, const bufferization::AnalysisState &) {
  return &operand == &getInitMutable();
}

bufferization::AliasingValueList FlashAttentionOp::getAliasingValues(
    OpOperand &operand, const bufferization::AnalysisState &) {
  if (&operand != &getInitMutable())
    return {};
  return {{getResult().front(), bufferization::BufferRelation::Equivalent}};
}

LogicalResult
FlashAttentionOp::bufferize(RewriterBase &rewriter,
                            const bufferization::BufferizationOptions &options,
                            bufferization::BufferizationState &state) {
  SmallVector<Value> buffers;
  for (Value operand : getOperands()) {
    FailureOr<Value> buffer =
        bufferization::getBuffer(rewriter, operand, options, state);
    if (failed(buffer))
      return failure();
    buffers.push_back(*buffer);
  }
  rewriter.setInsertionPoint(*this);
  FlashAttentionOp::create(rewriter, getLoc(), TypeRange{}, buffers[0],
                           buffers[1], buffers[2], buffers[3],
                           getMask() ? buffers[4] : Value(), getScaleAttr(),
                           getCausalAttr());
  bufferization::replaceOpWithBufferizedValues(rewriter, *this, buffers[3]);
  return success();
}
