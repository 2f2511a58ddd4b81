// RUN: kiln-opt --split-input-file --kiln-fuse-contraction-epilogue %s | FileCheck %s

#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#n = affine_map<(m, n, k) -> (n)>
#y = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#rows = affine_map<(m, n) -> (m)>

// Tests that a bias-init linear whose only user is an elementwise op (the
// linear's result times a value per row, with a captured constant) becomes
// one op: the contraction's inputs, then the row values indexed through the
// output map, the elementwise op's empty tensor as output, the body's
// accumulation followed by the elementwise ops, and both marks.
// CHECK-DAG: #[[M:.+]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @scaled_linear
// CHECK-SAME: (%[[X:.+]]: tensor<?x8xf32>, %[[W:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<4xf32>, %[[S:.+]]: tensor<?xf32>, %[[E0:.+]]: tensor<?x4xf32>)
// CHECK: %[[TWO:.+]] = arith.constant 2.0
// CHECK: %[[E1:.+]] = tensor.empty
// CHECK-NEXT: %[[R:.+]] = linalg.generic
// CHECK-SAME: #[[M]]
// CHECK-SAME: ins(%[[X]], %[[W]], %[[B]], %[[S]] : tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<?xf32>)
// CHECK-SAME: outs(%[[E1]] : tensor<?x4xf32>)
// CHECK-SAME: kiln.bias_init
// CHECK-SAME: kiln.epilogue
// CHECK-NEXT: ^bb0(%[[A:.+]]: f32, %[[C:.+]]: f32, %{{.+}}: f32, %[[ROW:.+]]: f32, %[[O:.+]]: f32):
// CHECK-NEXT: %[[P:.+]] = arith.mulf %[[A]], %[[C]]
// CHECK-NEXT: %[[ACC:.+]] = arith.addf %[[O]], %[[P]]
// CHECK-NEXT: %[[T:.+]] = arith.mulf %[[ACC]], %[[ROW]]
// CHECK-NEXT: %[[U:.+]] = arith.mulf %[[T]], %[[TWO]]
// CHECK-NEXT: linalg.yield %[[U]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @scaled_linear(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>, %s: tensor<?xf32>, %e0: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %two = arith.constant 2.0 : f32
  %c0 = arith.constant 0 : index
  %rows = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e1 = tensor.empty(%rows) : tensor<?x4xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #n, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %b : tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32>) outs(%e0 : tensor<?x4xf32>) attrs = {kiln.bias_init} {
  ^bb0(%a: f32, %c: f32, %bias: f32, %o: f32):
    %p = arith.mulf %a, %c : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<?x4xf32>
  %g = linalg.generic {indexing_maps = [#id, #rows, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %s : tensor<?x4xf32>, tensor<?xf32>) outs(%e1 : tensor<?x4xf32>) {
  ^bb0(%v: f32, %row: f32, %o: f32):
    %t = arith.mulf %v, %row : f32
    %u = arith.mulf %t, %two : f32
    linalg.yield %u : f32
  } -> tensor<?x4xf32>
  return %g : tensor<?x4xf32>
}

// -----

#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#t = affine_map<(m, n) -> (n, m)>

// Tests what stays apart: a contraction without zero or bias init (its
// output's contents matter), one whose user reads it transposed, one whose
// user reads the output's old value, and one with a second user.
// CHECK-LABEL: func.func @kept
// CHECK: tensor.empty
// CHECK-NOT: kiln.epilogue
// CHECK-COUNT-8: linalg.generic
// CHECK-NOT: kiln.epilogue
func.func @kept(%x: tensor<4x8xf32>, %w: tensor<4x8xf32>, %acc: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %e = tensor.empty() : tensor<4x4xf32>
  %y1 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<4x8xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %p = arith.mulf %a, %c : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %g1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y1 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %u = arith.negf %v : f32
    linalg.yield %u : f32
  } -> tensor<4x4xf32>
  %y2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x4xf32>) attrs = {kiln.zero_init} {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %p = arith.mulf %a, %c : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %g2 = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y2 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %u = arith.negf %v : f32
    linalg.yield %u : f32
  } -> tensor<4x4xf32>
  %y3 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x4xf32>) attrs = {kiln.zero_init} {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %p = arith.mulf %a, %c : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %g3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y3 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %u = arith.addf %v, %o : f32
    linalg.yield %u : f32
  } -> tensor<4x4xf32>
  %y4 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x4xf32>) attrs = {kiln.zero_init} {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %p = arith.mulf %a, %c : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %g4 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y4 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %u = arith.negf %v : f32
    linalg.yield %u : f32
  } -> tensor<4x4xf32>
  return %g1, %g2, %g3, %g4, %y4 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}
