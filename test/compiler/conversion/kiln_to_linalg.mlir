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

// Tests that attention without a mask is q scaled first (not the scores),
// a dot product, row max, the exponentials (one exp per score, written
// over the scores), their row sums, one reciprocal per row, the weighted sum of the exponentials, then
// its rows scaled by the reciprocals.
// CHECK-LABEL: @attention
// CHECK: arith.constant 2.500000e-01 : f32
// CHECK: arith.mulf
// CHECK: %[[SCORES:.+]] = linalg.generic {{.*}}"reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>) outs(%{{.*}} : tensor<1x2x?x?xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}}"reduction"]} ins(%[[SCORES]] :
// CHECK: arith.maximumf
// CHECK: %[[EXPS:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[MAX]] : tensor<1x2x?xf32>) outs(%[[SCORES]] : tensor<1x2x?x?xf32>)
// CHECK-NEXT: ^bb0(%[[M:.+]]: f32, %[[S:.+]]: f32):
// CHECK-NEXT: %[[D:.+]] = arith.subf %[[S]], %[[M]]
// CHECK-NEXT: math.exp %[[D]]
// CHECK: linalg.generic {{.*}}"reduction"]} ins(%[[EXPS]] :
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK: %[[SCALE:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: arith.divf
// CHECK-NOT: math.exp
// CHECK: %[[PV:.+]] = linalg.generic {{.*}}"reduction"]} ins(%[[EXPS]], %{{.*}} : tensor<1x2x?x?xf32>, tensor<1x?x2x16xf32>) outs(%{{.*}} : tensor<1x?x2x16xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[PV]], %[[SCALE]] : tensor<1x?x2x16xf32>, tensor<1x2x?xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NOT: kiln.attention
func.func @attention(%q: tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32> {
  %0 = kiln.attention %q, %q, %q : (tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32>
  return %0 : tensor<1x?x2x16xf32>
}

// -----

// Tests that a causal attention selects -inf for keys after the query.
// CHECK-LABEL: @causal_attention
// CHECK: linalg.index 2
// CHECK: linalg.index 3
// CHECK: arith.cmpi ugt
// CHECK: arith.select
func.func @causal_attention(%q: tensor<1x7x2x16xf32>) -> tensor<1x7x2x16xf32> {
  %0 = kiln.attention %q, %q, %q {causal} : (tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32>, tensor<1x7x2x16xf32>) -> tensor<1x7x2x16xf32>
  return %0 : tensor<1x7x2x16xf32>
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
