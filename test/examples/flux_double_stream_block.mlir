// RUN: kiln-opt --kiln-optimize %kiln_src_root/examples/flux_double_stream_block.mlir | FileCheck %s
// RUN: kiln-opt --kiln-optimize %kiln_src_root/examples/flux_double_stream_block.mlir | grep -c '= kiln.add' | FileCheck %s --check-prefix=ADDS

// Tests the README's example: the kiln-optimize pipeline on one FLUX
// double-stream block keeps its structure and folds the MLP's bias adds into
// the linears, leaving only the three residual adds.

// CHECK-LABEL: func.func @flux_double_stream_block
// CHECK-COUNT-2: kiln.layer_norm
// CHECK-COUNT-6: kiln.reshape
// CHECK: kiln.rope
// CHECK: kiln.rope
// CHECK: kiln.attention {{.*}} -> tensor<1x?x24x128xf32>
// CHECK: %[[H1:.+]] = kiln.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x?x3072xf32>, tensor<12288x3072xf32>, tensor<12288xf32>) -> tensor<1x?x12288xf32>
// CHECK-NEXT: kiln.gelu %[[H1]] {approximation = #kiln.gelu_approximation<tanh>}
// CHECK-NEXT: kiln.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x?x12288xf32>, tensor<3072x12288xf32>, tensor<3072xf32>)
// CHECK: return

// ADDS: {{^}}3{{$}}
