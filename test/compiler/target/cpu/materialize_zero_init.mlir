// RUN: kiln-opt --split-input-file --kiln-cpu-materialize-zero-init %s | FileCheck %s

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (n, m)>

// Tests that a zero-init op the vectorizer left alone (here C is transposed)
// gets its output filled with zero right before it and loses the mark.
// CHECK-LABEL: func.func @left_alone
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ZERO]] : f32) outs(%arg2 : memref<4x4xf32>)
// CHECK-NEXT: linalg.generic
// CHECK-NOT: kiln.zero_init
func.func @left_alone(%x: memref<4x8xf32>, %w: memref<8x4xf32>, %y: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<4x8xf32>, memref<8x4xf32>) outs(%y : memref<4x4xf32>) attrs = {kiln.zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#n = affine_map<(m, n, k) -> (n)>
#c = affine_map<(m, n, k) -> (n, m)>

// Tests that a bias-init op the vectorizer left alone (C transposed) gets
// its bias broadcast into the output, indexed by the output's dim of n,
// right before it, and loses the mark.
// CHECK-DAG: #[[ROWS:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @bias_left_alone
// CHECK: linalg.generic {indexing_maps = [#[[ROWS]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg2 : memref<6xf32>) outs(%arg3 : memref<6x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1, %arg2
// CHECK-NOT: kiln.bias_init
func.func @bias_left_alone(%x: memref<4x8xf32>, %w: memref<8x6xf32>, %bias: memref<6xf32>, %y: memref<6x4xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #n, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %bias : memref<4x8xf32>, memref<8x6xf32>, memref<6xf32>) outs(%y : memref<6x4xf32>) attrs = {kiln.bias_init} {
  ^bb0(%in: f32, %in_0: f32, %in_1: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#rows = affine_map<(m, n, k) -> (m)>
#c = affine_map<(m, n, k) -> (n, m)>

// Tests that a kiln.epilogue op the vectorizer left alone (C transposed) is
// split: the contraction with its own inputs (zero-init, so the fill comes
// back first), then the epilogue over the output in place, its extra input
// indexed by the output's dim of m.
// CHECK-DAG: #[[COLS:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @epilogue_left_alone
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%arg3 : memref<6x4xf32>)
// CHECK-NEXT: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1 : memref<4x8xf32>, memref<8x6xf32>) outs(%arg3 : memref<6x4xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic {indexing_maps = [#[[COLS]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg2 : memref<4xf32>) outs(%arg3 : memref<6x4xf32>)
// CHECK-NEXT: ^bb0(%[[ROW:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT: %[[T:.+]] = arith.mulf %[[ACC]], %[[ROW]] : f32
// CHECK-NEXT: linalg.yield %[[T]] : f32
// CHECK-NOT: kiln.
func.func @epilogue_left_alone(%x: memref<4x8xf32>, %w: memref<8x6xf32>, %s: memref<4xf32>, %y: memref<6x4xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #rows, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %s : memref<4x8xf32>, memref<8x6xf32>, memref<4xf32>) outs(%y : memref<6x4xf32>) attrs = {kiln.zero_init, kiln.epilogue} {
  ^bb0(%in: f32, %in_0: f32, %row: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    %2 = arith.mulf %1, %row : f32
    linalg.yield %2 : f32
  }
  return
}
