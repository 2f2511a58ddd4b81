//===- KilnBase.td - The kiln dialect definition ----------*- tablegen -*-===//
//
// The `kiln` dialect holds diffusion models at the level their authors think
// in: linear layers, attention, norms, modulation. Frontends build it from
// checkpoints; Kiln's passes fuse and quantize it; lowering takes it to linalg.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNBASE_TD
#define KILN_DIALECT_KILN_IR_KILNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::mlir::kiln";
  let summary = "Model-level operations of FLUX-class diffusion models";
  let description = [{
    Ops at the granularity of a model definition (diffusers/transformers).
    Tensors are ranked; sequence length and spatial sizes are usually dynamic
    (`?`) so that one compiled artifact serves every resolution and every
    number of reference images. Weights are referenced by name through
    `kiln.weight`, never copied into the IR.

    Layout conventions (decided once, for every op):
      * token tensors are `[batch, seq, channels]`;
      * attention operands are `[batch, seq, heads, head_dim]`;
      * images and feature maps are NCHW, as in PyTorch checkpoints;
      * linear weights are `[out_features, in_features]` (PyTorch layout).
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 0;
}

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, traits>;

// A ranked tensor of any floating-point type (f32, f16, bf16, f8E4M3FN...).
def Kiln_FloatTensor : RankedTensorOf<[AnyFloat]>;
// Token ids and position ids.
def Kiln_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;
// Position ids may come as floats (diffusers) or integers.
def Kiln_IdsTensor : RankedTensorOf<[AnySignlessInteger, AnyFloat]>;

#endif // KILN_DIALECT_KILN_IR_KILNBASE_TD
