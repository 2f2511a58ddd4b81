// RUN: kiln-opt --split-input-file --kiln-narrow-weights %s | FileCheck %s

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0) -> (d0)>

// Tests that a weight read only as a contraction's second input becomes
// bf16 (argument and function type) and is widened in the body before the
// product, while a weight also read by an elementwise op (a bias) stays
// f32, and so does a non-weight argument.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>, %[[W:.+]]: tensor<8x64xbf16> {kiln.weight = "w"}, %[[B:.+]]: tensor<8xf32> {kiln.weight = "b"}) -> tensor<?x8xf32>
// CHECK: linalg.generic {{.+}} ins(%[[X]], %[[W]] : tensor<?x64xf32>, tensor<8x64xbf16>)
// CHECK-NEXT: ^bb0(%[[A:.+]]: f32, %[[WB:.+]]: bf16, %[[C:.+]]: f32):
// CHECK-NEXT: %[[WIDE:.+]] = arith.extf %[[WB]] : bf16 to f32
// CHECK-NEXT: %[[P:.+]] = arith.mulf %[[A]], %[[WIDE]] : f32
// CHECK-NEXT: arith.addf %[[C]], %[[P]] : f32
// CHECK: ins(%[[B]] : tensor<8xf32>)
func.func @linear(%x: tensor<?x64xf32>, %w: tensor<8x64xf32> {kiln.weight = "w"}, %b: tensor<8xf32> {kiln.weight = "b"}) -> tensor<?x8xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%n) : tensor<?x8xf32>
  %zero = arith.constant 0.0 : f32
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x8xf32>) -> tensor<?x8xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x64xf32>, tensor<8x64xf32>) outs(%z : tensor<?x8xf32>) {
  ^bb0(%a: f32, %wv: f32, %c: f32):
    %p = arith.mulf %a, %wv : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x8xf32>
  %e2 = tensor.empty() : tensor<8xf32>
  %b2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : tensor<8xf32>) outs(%e2 : tensor<8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %d = arith.mulf %v, %v : f32
    linalg.yield %d : f32
  } -> tensor<8xf32>
  return %y : tensor<?x8xf32>
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>

// Tests that a weight used as a contraction's first input (not the weight
// position) is left alone.
// CHECK-LABEL: func.func @first_input
// CHECK-SAME: tensor<8x64xf32> {kiln.weight = "w"}
// CHECK-NOT: arith.extf
func.func @first_input(%w: tensor<8x64xf32> {kiln.weight = "w"}, %x: tensor<4x64xf32>, %z: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%w, %x : tensor<8x64xf32>, tensor<4x64xf32>) outs(%z : tensor<8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
