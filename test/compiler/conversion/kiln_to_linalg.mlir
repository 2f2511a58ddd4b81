// RUN: kiln-opt --split-input-file --kiln-lower-to-linalg %s | FileCheck %s
// RUN: kiln-opt --kiln-lower-to-linalg --canonicalize %kiln_src_root/examples/flux_double_stream_block.mlir | FileCheck %s --check-prefix=BLOCK

// Tests that linear becomes a bias broadcast plus a reduction over k.
// CHECK-LABEL: @linear
// CHECK: %[[INIT:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]{{.*}} ins(%{{.*}} : tensor<128xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x?x64xf32>, tensor<128x64xf32>) outs(%[[INIT]] : tensor<1x?x128xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: kiln.linear
func.func @linear(%x: tensor<1x?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<1x?x128xf32> {
  %0 = kiln.linear %x, %w, %b : (tensor<1x?x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<1x?x128xf32>
  return %0 : tensor<1x?x128xf32>
}

// -----

// Tests that attention becomes one kiln.flash_attention into an empty
// tensor (no queries x keys scores tensor), with the default scale
// 1/sqrt(head_dim).
// CHECK-LABEL: @attention
// CHECK: %[[INIT:.+]] = tensor.empty(%{{.+}}) : tensor<1x?x2x16xf32>
// CHECK: kiln.flash_attention ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>) outs(%[[INIT]] : tensor<1x?x2x16xf32>) {scale = 2.500000e-01 : f64} -> tensor<1x?x2x16xf32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: kiln.attention
func.func @attention(%q: tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32> {
  %0 = kiln.attention %q, %q, %q : (tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32>
  return %0 : tensor<1x?x2x16xf32>
}

// -----

// Tests that causality, an explicit scale and the mask carry over.
// CHECK-LABEL: @causal_masked_attention
// CHECK: kiln.flash_attention ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32>) mask(%{{.+}} : tensor<1x2x7x7xf32>) outs(%{{.+}} : tensor<1x7x2x16xf32>) {causal, scale = 1.000000e+00 : f64}
func.func @causal_masked_attention(%q: tensor<1x7x2x16xf32>, %m: tensor<1x2x7x7xf32>) -> tensor<1x7x2x16xf32> {
  %0 = kiln.attention %q, %q, %q mask %m {causal, scale = 1.0 : f32} : (tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32>, tensor<1x2x7x7xf32>) -> tensor<1x7x2x16xf32>
  return %0 : tensor<1x7x2x16xf32>
}

// -----

// Tests that a linear of a dequantized FP8 weight contracts over the e4m3
// data (widened in the body, from a zero-filled output) and then scales its
// sums per output channel and adds the bias in one elementwise op: no f32
// weight is built.
// CHECK-LABEL: @fp8_linear
// CHECK: %[[ACC:.+]] = linalg.generic {{.*}}"reduction"]} ins(%{{.+}}, %{{.+}} : tensor<?x8xf32>, tensor<16x8xf8E4M3FN>)
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[Q:.+]]: f8E4M3FN, %[[O:.+]]: f32):
// CHECK-NEXT: %[[W:.+]] = arith.extf %[[Q]] : f8E4M3FN to f32
// CHECK-NEXT: arith.mulf %[[X]], %[[W]]
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %{{.+}}, %{{.+}} : tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NOT: kiln.dequantize
func.func @fp8_linear(%x: tensor<?x8xf32>, %q: tensor<16x8xf8E4M3FN>, %s: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %w = kiln.dequantize %q, %s : (tensor<16x8xf8E4M3FN>, tensor<16xf32>) -> tensor<16x8xf32>
  %y = kiln.linear %x, %w, %b : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Tests the three GELU forms and SiLU.
// CHECK-LABEL: @activations
// CHECK: math.erf
// CHECK: math.tanh
// CHECK: arith.constant -1.702000e+00
// CHECK: math.exp
func.func @activations(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = kiln.gelu %x : tensor<4xf32>
  %1 = kiln.gelu %x {approximation = #kiln.gelu_approximation<tanh>} : tensor<4xf32>
  %2 = kiln.gelu %x {approximation = #kiln.gelu_approximation<quick>} : tensor<4xf32>
  %3 = kiln.silu %x : tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that a broadcast operand reads index 0 along its size-1 dimension.
// CHECK-DAG: #[[BCAST:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-LABEL: @broadcast_mul
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[BCAST]], #{{.+}}]
// CHECK: arith.mulf
func.func @broadcast_mul(%x: tensor<1x?x64xf32>, %g: tensor<1x1x64xf32>) -> tensor<1x?x64xf32> {
  %0 = kiln.mul %x, %g : (tensor<1x?x64xf32>, tensor<1x1x64xf32>) -> tensor<1x?x64xf32>
  return %0 : tensor<1x?x64xf32>
}

// -----

// Tests the group norm view as [N, G, rows], the conv padding, and the
// conv's loop order (n, f, y, c, i, j, x): an output row innermost.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d3, d2 + d4, d5 + d6)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d3, d4, d5)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d6)>
// CHECK-LABEL: @vae_ops
// CHECK: tensor.reshape %{{.*}}(%{{.*}}) : (tensor<1x8x?x?xf32>, tensor<3xindex>) -> tensor<1x4x?xf32>
// CHECK: math.rsqrt
// CHECK: tensor.reshape
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]}
func.func @vae_ops(%x: tensor<1x8x?x?xf32>, %w: tensor<8x8x3x3xf32>) -> tensor<1x8x?x?xf32> {
  %0 = kiln.group_norm %x {num_groups = 4 : i64} : (tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32>
  %1 = kiln.conv2d %0, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x8x?x?xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x?x?xf32>
  return %1 : tensor<1x8x?x?xf32>
}

// -----

// Tests that RoPE frequencies are float64 constants, one table per axis, concatenated.
// CHECK-LABEL: @rope_frequencies
// CHECK: arith.constant dense<{{.*}}> : tensor<4xf64>
// CHECK: math.cos {{.*}} : f64
// CHECK: arith.constant dense<{{.*}}> : tensor<6xf64>
// CHECK: tensor.concat dim(1)
func.func @rope_frequencies(%ids: tensor<?x2xf32>) -> (tensor<?x10xf32>, tensor<?x10xf32>) {
  %c, %s = kiln.rope_frequencies %ids {axes_dim = array<i64: 4, 6>} : (tensor<?x2xf32>) -> (tensor<?x10xf32>, tensor<?x10xf32>)
  return %c, %s : tensor<?x10xf32>, tensor<?x10xf32>
}

// The whole example block lowers: no kiln op but the weights remains.
// BLOCK-LABEL: func.func @flux_double_stream_block
// BLOCK-NOT: kiln.{{(linear|attention|rope|layer_norm|rms_norm|modulate|add|mul|reshape|silu|gelu)}}
// BLOCK: return
