//===- KilnOps.td - Operations of the kiln dialect --------*- tablegen -*-===//
//
// Shape rules live in the ops' result-type inference (KilnOps*.cpp), so a
// malformed op is rejected by the verifier with a message that names the
// operand and the dimension that disagree.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNOPS_TD
#define KILN_DIALECT_KILN_IR_KILNOPS_TD

include "dialects/kiln/IR/KilnBase.td"
include "dialects/kiln/IR/KilnAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

// Result-type inference that accepts a declared result type as long as it is
// compatible with the inferred one (same rank and element type, dimensions
// equal where both are static). A frontend may so declare `?` where a later
// specialization knows more; `kiln-refine-shapes` then tightens the types.
def Kiln_InferTypeAllowingRefinement : InferTypeOpAdaptorBase<[{
    static bool isCompatibleReturnTypes(::mlir::TypeRange lhs,
                                        ::mlir::TypeRange rhs) {
      return ::mlir::kiln::areCompatibleTensorTypes(lhs, rhs);
    }
  }]>;

// Ops whose result types follow from operands and attributes.
class Kiln_InferredOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, traits # [Pure, Kiln_InferTypeAllowingRefinement]>;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def Kiln_WeightOp : Kiln_Op<"weight", [Pure]> {
  let summary = "a named model parameter";
  let description = [{
    Refers to a tensor of the checkpoint by its name; the data stays in the
    checkpoint (and later in the artifact's weight segment), never in the IR.
    Weights always have static shapes.

    ```mlir
    %w = kiln.weight "transformer.x_embedder.weight" : tensor<3072x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dense layers and attention
//===----------------------------------------------------------------------===//

def Kiln_LinearOp : Kiln_InferredOp<"linear"> {
  let summary = "y = x W^T (+ b)";
  let description = [{
    A fully connected layer over the last dimension. `weight` is
    `[out_features, in_features]` as PyTorch stores it; `bias` is
    `[out_features]`. Every leading dimension of `input` is kept.

    ```mlir
    %y = kiln.linear %x, %w, %b : (tensor<1x?x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<1x?x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_AttentionOp : Kiln_InferredOp<"attention"> {
  let summary = "multi-head scaled dot-product attention";
  let description = [{
    `softmax(q k^T * scale + mask) v` per batch and head. Operands are
    `[batch, seq, heads, head_dim]`: q is `[B, Sq, H, D]`, k is `[B, Sk, H, D]`,
    v is `[B, Sk, H, Dv]`; the result is `[B, Sq, H, Dv]`. The optional `mask`
    is an additive bias of shape `[B|1, H|1, Sq|1, Sk]` (T5's relative
    position bias, padding masks). `scale` defaults to `1/sqrt(D)`; T5 uses 1.
    `causal` masks keys after the query position (CLIP's text encoder).

    ```mlir
    %o = kiln.attention %q, %k, %v : (tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>) -> tensor<1x?x24x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$query, Kiln_FloatTensor:$key,
                       Kiln_FloatTensor:$value, Optional<Kiln_FloatTensor>:$mask,
                       OptionalAttr<F32Attr>:$scale, UnitAttr:$causal);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_DequantizeOp : Kiln_Op<"dequantize", [Pure]> {
  let summary = "per-output-channel scaled FP8 weight to f32";
  let description = [{
    `result[n, ...] = f32(data[n, ...]) * scale[n]`: a weight stored as FP8
    E4M3 (OCP "e4m3fn") with one f32 scale per output channel (dimension 0,
    the `out` of a `[out, in]` linear weight), as `kiln-quantize-fp8` makes
    them. A `kiln.linear` whose weight is a dequantize is lowered without the
    f32 weight ever existing: the contraction widens the e4m3 values where
    it loads them and multiplies its sums by the scales.

    ```mlir
    %w = kiln.dequantize %q, %s : (tensor<3072x3072xf8E4M3FN>, tensor<3072xf32>) -> tensor<3072x3072xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F8E4M3FN]>:$data,
                       RankedTensorOf<[F32]>:$scale);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$data `,` $scale attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Position encodings
//===----------------------------------------------------------------------===//

def Kiln_RopeFrequenciesOp : Kiln_InferredOp<"rope_frequencies"> {
  let summary = "cos/sin tables of multi-axis rotary embeddings";
  let description = [{
    For position ids `[S, A]` (one column per axis, FLUX uses 3: reference
    index, row, column) and `axes_dim = [d_0, d_1, ...]`, axis `a`
    contributes `d_a` channels: frequencies `theta^(-2i/d_a)` for
    `i < d_a/2`, each repeated twice (interleaved pairs). The results are
    `cos` and `sin` of `ids[:, a] * freq`, concatenated over axes: `[S, D]`
    with `D = sum(axes_dim)`, in f32.

    ```mlir
    %cos, %sin = kiln.rope_frequencies %ids {axes_dim = array<i64: 16, 56, 56>, theta = 10000.0 : f64} : (tensor<?x3xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>)
    ```
  }];
  let arguments = (ins Kiln_IdsTensor:$ids, DenseI64ArrayAttr:$axes_dim,
                       DefaultValuedAttr<F64Attr, "10000.0">:$theta);
  let results = (outs Kiln_FloatTensor:$cos, Kiln_FloatTensor:$sin);
  let assemblyFormat = "$ids attr-dict `:` functional-type(operands, results)";
}

def Kiln_RopeOp : Kiln_InferredOp<"rope"> {
  let summary = "applies rotary position embeddings";
  let description = [{
    Rotates channel pairs of `input` (`[B, S, H, D]`) by the angles whose
    `cos`/`sin` are given as `[S, D]` (as made by `kiln.rope_frequencies`):
    `out = x * cos + rotate(x) * sin`, where `rotate` maps each pair (a, b)
    to (-b, a). `style` chooses which channels form a pair.

    ```mlir
    %r = kiln.rope %q, %cos, %sin {style = #kiln.rope_style<interleaved>} : (tensor<1x?x24x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<1x?x24x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$cos,
                       Kiln_FloatTensor:$sin,
                       DefaultValuedAttr<Kiln_RopeStyleAttr,
                           "::mlir::kiln::RopeStyle::Interleaved">:$style);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_TimestepEmbeddingOp : Kiln_InferredOp<"timestep_embedding"> {
  let summary = "sinusoidal embedding of diffusion timesteps";
  let description = [{
    diffusers' `get_timestep_embedding`: for `t` of shape `[B]`,
    `half = dim/2`, `freq_i = exp(-ln(max_period) * i / (half - downscale_freq_shift))`,
    `e = scale * t * freq`, result `[sin(e), cos(e)]` (or `[cos, sin]` with
    `flip_sin_to_cos`), shape `[B, dim]`.

    ```mlir
    %e = kiln.timestep_embedding %t {dim = 256 : i64, flip_sin_to_cos} : (tensor<?xf32>) -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$timesteps, I64Attr:$dim,
                       UnitAttr:$flip_sin_to_cos,
                       DefaultValuedAttr<F64Attr, "0.0">:$downscale_freq_shift,
                       DefaultValuedAttr<F64Attr, "1.0">:$scale,
                       DefaultValuedAttr<F64Attr, "10000.0">:$max_period);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$timesteps attr-dict `:` functional-type(operands, results)";
}

def Kiln_EmbeddingOp : Kiln_InferredOp<"embedding"> {
  let summary = "looks up rows of an embedding table";
  let description = [{
    `table` is `[V, D]`; `ids` of any shape gives a result of shape
    `ids.shape + [D]`. Out-of-range ids are clamped by the lowering.

    ```mlir
    %e = kiln.embedding %table, %ids : (tensor<49408x768xf32>, tensor<1x77xi64>) -> tensor<1x77x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$table, Kiln_IndexTensor:$ids);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
}

def Kiln_RelativePositionBucketsOp : Kiln_Op<"relative_position_buckets",
    [Pure]> {
  let summary = "T5's bucketed relative positions of a query/key grid";
  let description = [{
    For `query_len` x `key_len` positions, bucket `(i, j)` classifies the
    relative position `j - i` as T5 does (`_relative_position_bucket`): half
    the buckets per direction when `bidirectional`, exact buckets for small
    distances, logarithmic ones up to `max_distance`. The result (i64) feeds
    a `kiln.embedding` of the per-head bias table.

    ```mlir
    %b = kiln.relative_position_buckets %n, %n {num_buckets = 32 : i64, max_distance = 128 : i64, bidirectional} : tensor<?x?xi64>
    ```
  }];
  let arguments = (ins Index:$query_len, Index:$key_len, I64Attr:$num_buckets,
                       I64Attr:$max_distance, UnitAttr:$bidirectional);
  let results = (outs Kiln_IndexTensor:$result);
  let assemblyFormat = [{
    $query_len `,` $key_len attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_ArgmaxOp : Kiln_InferredOp<"argmax"> {
  let summary = "index of the largest element along the last dimension";
  let description = [{
    `[..., N]` integer or float values give `[...]` i64 indices; ties go to
    the first occurrence, as in PyTorch. CLIP pools its output at the
    argmax of the token ids (the end-of-text token has the largest id).

    ```mlir
    %i = kiln.argmax %ids : (tensor<?x77xi64>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins Kiln_IdsTensor:$input);
  let results = (outs Kiln_IndexTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_GatherTokensOp : Kiln_InferredOp<"gather_tokens"> {
  let summary = "picks one token per batch row";
  let description = [{
    `input` `[B, S, D]` and `positions` `[B]` give `[B, D]` with row `b`
    being `input[b, positions[b]]` (positions clamped to the sequence).

    ```mlir
    %p = kiln.gather_tokens %h, %i : (tensor<?x77x768xf32>, tensor<?xi64>) -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_IndexTensor:$positions);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input `,` $positions attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Normalization and modulation
//===----------------------------------------------------------------------===//

// layer_norm and rms_norm share their operands: the input, an optional
// per-channel scale and bias over the last dimension, and epsilon.
class Kiln_LastDimNormOp<string mnemonic, string what, string example>
    : Kiln_InferredOp<mnemonic, [AttrSizedOperandSegments]> {
  let summary = what # " over the last dimension";
  let description = what # [{ over the last dimension of `input`, then the
    optional elementwise affine `* scale + bias` (each `[C]`).

    ```mlir
    }] # example # [{
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       Optional<Kiln_FloatTensor>:$scale,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<F32Attr, "1e-6">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`scale` $scale^)? (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_LayerNormOp : Kiln_LastDimNormOp<"layer_norm",
    "`(x - mean) / sqrt(var + epsilon)`",
    "%n = kiln.layer_norm %x {epsilon = 1.0e-06 : f32} : (tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>">;

def Kiln_RmsNormOp : Kiln_LastDimNormOp<"rms_norm",
    "`x / sqrt(mean(x^2) + epsilon)`",
    "%n = kiln.rms_norm %q scale %w : (tensor<1x?x24x128xf32>, tensor<128xf32>) -> tensor<1x?x24x128xf32>">;

def Kiln_GroupNormOp : Kiln_InferredOp<"group_norm", [AttrSizedOperandSegments]> {
  let summary = "group normalization of an NCHW feature map";
  let description = [{
    Splits the `C` channels of `input` (`[N, C, spatial...]`) into
    `num_groups` groups, normalizes each group over its channels and all
    spatial positions, then applies the optional per-channel `scale`/`bias`.

    ```mlir
    %n = kiln.group_norm %x scale %g bias %b {num_groups = 32 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x128x?x?xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<1x128x?x?xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       Optional<Kiln_FloatTensor>:$scale,
                       Optional<Kiln_FloatTensor>:$bias,
                       I64Attr:$num_groups,
                       DefaultValuedAttr<F32Attr, "1e-6">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`scale` $scale^)? (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_ModulateOp : Kiln_InferredOp<"modulate"> {
  let summary = "AdaLN modulation: x * (1 + scale) + shift";
  let description = [{
    `input` is `[B, ..., C]`; `shift` and `scale` are `[B, C]` and broadcast
    over every middle dimension (the tokens), as in FLUX's AdaLayerNormZero.

    ```mlir
    %m = kiln.modulate %n, %shift, %scale : (tensor<1x?x3072xf32>, tensor<1x3072xf32>, tensor<1x3072xf32>) -> tensor<1x?x3072xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$shift,
                       Kiln_FloatTensor:$scale);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $shift `,` $scale attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Convolution and resampling (the VAE)
//===----------------------------------------------------------------------===//

def Kiln_Conv2dOp : Kiln_InferredOp<"conv2d"> {
  let summary = "2-D convolution of an NCHW feature map";
  let description = [{
    `input` `[N, Cin, H, W]`, `weight` `[Cout, Cin, KH, KW]`, optional
    `bias` `[Cout]`. `strides` is `[sh, sw]`; `padding` is
    `[top, left, bottom, right]` (zeros), which also expresses the asymmetric
    padding of diffusers' VAE downsampler. Output size per axis:
    `(in + pad_begin + pad_end - k) / stride + 1`.

    ```mlir
    %y = kiln.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x16x?x?xf32>, tensor<512x16x3x3xf32>, tensor<512xf32>) -> tensor<1x512x?x?xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_UpsampleOp : Kiln_InferredOp<"upsample"> {
  let summary = "nearest-neighbour upsampling of an NCHW feature map";
  let description = [{
    Repeats every pixel `scale_factor` times along H and W.

    ```mlir
    %u = kiln.upsample %x {scale_factor = 2 : i64} : (tensor<1x512x?x?xf32>) -> tensor<1x512x?x?xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "2">:$scale_factor);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Latent packing
//===----------------------------------------------------------------------===//

def Kiln_PatchifyOp : Kiln_InferredOp<"patchify"> {
  let summary = "packs an NCHW latent into a sequence of patch tokens";
  let description = [{
    `[B, C, H, W]` becomes `[B, (H/p)*(W/p), C*p*p]`: tokens in row-major
    patch order, each token's channels ordered `(c, dy, dx)`, the packing of
    diffusers' `FluxPipeline._pack_latents`.

    ```mlir
    %t = kiln.patchify %z {patch_size = 2 : i64} : (tensor<1x16x?x?xf32>) -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "2">:$patch_size);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_UnpatchifyOp : Kiln_Op<"unpatchify", [Pure]> {
  let summary = "unpacks patch tokens into an NCHW latent";
  let description = [{
    The inverse of `kiln.patchify`: `[B, S, C*p*p]` with the latent's
    `height` and `width` (index operands, multiples of `p`,
    `S = (height/p) * (width/p)`) becomes `[B, C, height, width]`.

    ```mlir
    %z = kiln.unpatchify %t, %h, %w {patch_size = 2 : i64} : tensor<1x?x64xf32> -> tensor<1x16x?x?xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Index:$height, Index:$width,
                       DefaultValuedAttr<I64Attr, "2">:$patch_size);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $height `,` $width attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Kiln_GeluOp : Kiln_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU activation";
  let description = [{
    ```mlir
    %y = kiln.gelu %x {approximation = #kiln.gelu_approximation<tanh>} : tensor<1x?x12288xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_GeluApproximationAttr,
                           "::mlir::kiln::GeluApproximation::None">:$approximation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_SiluOp : Kiln_Op<"silu", [Pure, SameOperandsAndResultType]> {
  let summary = "SiLU activation: x * sigmoid(x)";
  let description = [{
    ```mlir
    %y = kiln.silu %x : tensor<1x3072xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

// Binary ops with NumPy broadcasting (dimensions aligned from the right; a
// static 1 stretches). Two dynamic dimensions are taken to be equal.
class Kiln_BroadcastBinaryOp<string mnemonic, string formula>
    : Kiln_InferredOp<mnemonic> {
  let summary = "elementwise " # formula # " with broadcasting";
  let description = [{
    Operands broadcast as in NumPy; a rank-0 operand is a scalar.

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x, %g : (tensor<1x?x64xf32>, tensor<1x1x64xf32>) -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$lhs, Kiln_FloatTensor:$rhs);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Kiln_AddOp : Kiln_BroadcastBinaryOp<"add", "lhs + rhs">;
def Kiln_SubOp : Kiln_BroadcastBinaryOp<"sub", "lhs - rhs">;
def Kiln_MulOp : Kiln_BroadcastBinaryOp<"mul", "lhs * rhs">;
def Kiln_DivOp : Kiln_BroadcastBinaryOp<"div", "lhs / rhs">;

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

def Kiln_ReshapeOp : Kiln_Op<"reshape", [Pure]> {
  let summary = "reinterprets a tensor with another shape";
  let description = [{
    Row-major reshape to the result type. The result may have one dynamic
    dimension, which is the element count divided by the static ones (the
    `-1` of PyTorch's `view`), so head splitting works at any sequence length.

    ```mlir
    %h = kiln.reshape %x : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_TransposeOp : Kiln_InferredOp<"transpose"> {
  let summary = "permutes the dimensions of a tensor";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]`.

    ```mlir
    %t = kiln.transpose %x {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x24x128xf32>) -> tensor<1x24x?x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

include "dialects/kiln/IR/KilnKernelOps.td"

#endif // KILN_DIALECT_KILN_IR_KILNOPS_TD
