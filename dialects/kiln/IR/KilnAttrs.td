//===- KilnAttrs.td - Attributes of the kiln dialect ------*- tablegen -*-===//

#ifndef KILN_DIALECT_KILN_IR_KILNATTRS_TD
#define KILN_DIALECT_KILN_IR_KILNATTRS_TD

include "dialects/kiln/IR/KilnBase.td"
include "mlir/IR/EnumAttr.td"

// The three GELU forms that FLUX, T5 and CLIP checkpoints use.
def Kiln_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how GELU is computed", [
      // x * Phi(x), with the exact erf (PyTorch approximate="none").
      I32EnumAttrCase<"None", 0, "none">,
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (gelu_pytorch_tanh, T5's gelu_new).
      I32EnumAttrCase<"Tanh", 1, "tanh">,
      // x * sigmoid(1.702 x) (CLIP's quick_gelu).
      I32EnumAttrCase<"Quick", 2, "quick">,
    ]> {
  let cppNamespace = "::mlir::kiln";
  let genSpecializedAttr = 0;
}
def Kiln_GeluApproximationAttr
    : EnumAttr<Kiln_Dialect, Kiln_GeluApproximation, "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

// How rotary embeddings pair the channels of a head.
def Kiln_RopeStyle : I32EnumAttr<"RopeStyle", "channel pairing of RoPE", [
      // Pairs (2i, 2i+1), as FLUX does (use_real_unbind_dim=-1).
      I32EnumAttrCase<"Interleaved", 0, "interleaved">,
      // Pairs (i, i + D/2), the rotate_half form of LLaMA-style models.
      I32EnumAttrCase<"Half", 1, "half">,
    ]> {
  let cppNamespace = "::mlir::kiln";
  let genSpecializedAttr = 0;
}
def Kiln_RopeStyleAttr : EnumAttr<Kiln_Dialect, Kiln_RopeStyle, "rope_style"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // KILN_DIALECT_KILN_IR_KILNATTRS_TD
