// RUN: kiln-opt --split-input-file --kiln-annotate-dim-aliases %s | FileCheck %s

#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Tests that a structured op ties the batch of two arguments: both index
// their first dimension with loop 0. The second argument's batch aliases the
// first's; the unrelated sequence lengths stay separate.
// CHECK-LABEL: func.func @batch
// CHECK-SAME: attributes {kiln.dim_aliases = array<i64: 1, 0, 0, 0>}
func.func @batch(%x: tensor<?x?xf32>, %t: tensor<?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %x, %c0 : tensor<?x?xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%b, %s) : tensor<?x?xf32>
  %0 = linalg.generic {indexing_maps = [#map, #row, #map], iterator_types = ["parallel", "parallel"]}
      ins(%x, %t : tensor<?x?xf32>, tensor<?xf32>) outs(%e : tensor<?x?xf32>) {
  ^bb0(%a: f32, %b2: f32, %o: f32):
    %m = arith.mulf %a, %b2 : f32
    linalg.yield %m : f32
  } -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Tests that a concat ties all but its concatenated dimension, and that a
// slice ties its result to the size it was given, not to its source (rows
// 0..n of %g say nothing about how many rows %g has).
// CHECK-LABEL: func.func @through_views
// CHECK-SAME: attributes {kiln.dim_aliases = array<i64: 1, 0, 0, 0>}
func.func @through_views(%a: tensor<?x?x8xf32>, %b: tensor<?x?x8xf32>, %g: tensor<?x16xf32>) -> (tensor<?x?x8xf32>, tensor<?x8xf32>) {
  %c0 = arith.constant 0 : index
  %j = tensor.concat dim(1) %a, %b : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %n = tensor.dim %j, %c0 : tensor<?x?x8xf32>
  %half = tensor.extract_slice %g[0, 8] [%n, 8] [1, 1] : tensor<?x16xf32> to tensor<?x8xf32>
  return %j, %half : tensor<?x?x8xf32>, tensor<?x8xf32>
}

// -----

// Tests that a function whose sizes are all independent gets no attribute.
// CHECK-LABEL: func.func @independent
// CHECK-NOT: kiln.dim_aliases
func.func @independent(%x: tensor<?xf32>, %y: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  return %x, %y : tensor<?xf32>, tensor<?xf32>
}
