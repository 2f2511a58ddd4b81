// RUN: kiln-opt --split-input-file --kiln-outline-dispatches --verify-diagnostics %s | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>

// Tests that each compute op becomes a kernel called in order, while
// allocations and sizes stay in the host program.
// CHECK-LABEL: func.func @two_ops
// CHECK-SAME: (%[[X:.+]]: memref<?x8xf32>)
// CHECK: %[[N:.+]] = memref.dim %[[X]]
// CHECK: %[[Y:.+]] = memref.alloc(%[[N]])
// CHECK: call @two_ops__dispatch_0(%[[Y]]) : (memref<?x8xf32>) -> ()
// CHECK: call @two_ops__dispatch_1(%[[X]], %[[Y]]) : (memref<?x8xf32>, memref<?x8xf32>) -> ()
// CHECK-NOT: linalg.
// CHECK: return %[[Y]]
// CHECK: func.func private @two_ops__dispatch_0(%[[A:.+]]: memref<?x8xf32>) attributes {kiln.dispatch} {
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ZERO]] : f32) outs(%[[A]] : memref<?x8xf32>)
// The add ties both dims of its two bindings: (binding, dim) pairs the
// runtime checks when their sizes come from different inputs.
// CHECK: func.func private @two_ops__dispatch_1(%{{.+}}: memref<?x8xf32>, %{{.+}}: memref<?x8xf32>) attributes {kiln.dispatch, kiln.size_equalities = array<i64: 0, 0, 1, 0, 0, 1, 1, 1>}
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @two_ops(%x: memref<?x8xf32>) -> memref<?x8xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %y = memref.alloc(%n) : memref<?x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x8xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x8xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return %y : memref<?x8xf32>
}

// -----

#id1 = affine_map<(d0) -> (d0)>

// Tests that a host size used inside the op is recomputed in the kernel from
// a memref that then becomes a binding.
// CHECK-LABEL: func.func @uses_host_size
// CHECK: call @uses_host_size__dispatch_0(%{{.+}}, %{{.+}}) : (memref<?xindex>, memref<?x4xf32>) -> ()
// CHECK: func.func private @uses_host_size__dispatch_0(%[[OUT:.+]]: memref<?xindex>, %[[TABLE:.+]]: memref<?x4xf32>)
// CHECK: %[[V:.+]] = memref.dim %[[TABLE]], %{{.+}} : memref<?x4xf32>
// CHECK: linalg.generic {{.*}} outs(%[[OUT]] : memref<?xindex>)
// CHECK: linalg.yield %[[V]]
func.func @uses_host_size(%table: memref<?x4xf32>, %out: memref<?xindex>) {
  %c0 = arith.constant 0 : index
  %vocab = memref.dim %table, %c0 : memref<?x4xf32>
  linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%out : memref<?xindex>) {
  ^bb0(%o: index):
    linalg.yield %vocab : index
  }
  return
}

// -----

#id2 = affine_map<(d0) -> (d0)>

// Tests that a value only the host knows (a function argument) is refused.
func.func @host_only_value(%out: memref<?xindex>, %k: index) {
  // expected-error @+1 {{uses a host value that the kernel cannot recompute (a block argument); pass it through a buffer}}
  linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel"]} outs(%out : memref<?xindex>) {
  ^bb0(%o: index):
    linalg.yield %k : index
  }
  return
}
