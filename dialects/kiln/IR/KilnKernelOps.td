//===- KilnKernelOps.td - Ops the lowering creates -------*- tablegen -*-===//
//
// Model-level ops are pure tensor functions. The ops here are what the
// lowering to linalg makes of a model op when no linalg op can express it as
// one kernel: they are in destination style, exist on tensors and, after
// bufferization, on memrefs, and each target has its own lowering of them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNKERNELOPS_TD
#define KILN_DIALECT_KILN_IR_KILNKERNELOPS_TD

include "dialects/kiln/IR/KilnBase.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kiln_FlashAttentionOp : Kiln_Op<"flash_attention", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "attention computed a block of keys at a time";
  let description = [{
    `init = softmax(q k^T * scale + mask) v`, the same function as
    `kiln.attention`, as one kernel: for every (batch, query, head) row the
    keys are visited in order with a running maximum and a running sum of
    exponentials (online softmax, as FlashAttention computes it), so no
    buffer of queries x keys scores exists. Shapes as `kiln.attention`: q
    `[B, Sq, H, D]`, k `[B, Sk, H, D]`, v `[B, Sk, H, E]`, init and the
    result `[B, Sq, H, E]`, the optional additive mask `[B|1, H|1, Sq|1, Sk]`.
    `causal` drops keys after the query position. On tensors the op has one
    result; on memrefs it writes `init` and has none. The contents of `init`
    are not read.

    ```mlir
    %o = kiln.flash_attention ins(%q, %k, %v : tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>) outs(%init : tensor<1x?x2x16xf32>) {scale = 2.5e-01 : f64} -> tensor<1x?x2x16xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$query, AnyShaped:$key, AnyShaped:$value,
                       AnyShaped:$init, Optional<AnyShaped>:$mask,
                       F64Attr:$scale, UnitAttr:$causal);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
        type($value) `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    `outs` `(` $init `:` type($init) `)` attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
    /// Two operand dimensions that must have the same size.
    struct SizeTie {
      const char *size, *aName;
      ::mlir::Value a;
      unsigned aDim;
      const char *bName;
      ::mlir::Value b;
      unsigned bDim;
    };
    /// Every pair of dimensions the shapes tie (the verifier checks the
    /// static ones; the runtime checks the rest before a kernel runs).
    ::llvm::SmallVector<SizeTie> getSizeTies();
    /// True once bufferized: the operands are memrefs and there is no result.
    bool hasBufferSemantics() {
      return ::llvm::isa<::mlir::MemRefType>(getInit().getType());
    }
  }];
}

#endif // KILN_DIALECT_KILN_IR_KILNKERNELOPS_TD
