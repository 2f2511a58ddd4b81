// RUN: kiln-opt --split-input-file --kiln-distribute-workgroups=host-workgroups=4 %s | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Tests that the outermost parallel loop is cut into contiguous blocks, one
// per workgroup, and that the host runs every workgroup.
// CHECK-LABEL: func.func @host
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: scf.for %[[WG:.+]] = %{{.+}} to %[[C4]]
// CHECK: call @host__dispatch_0(%{{.+}}, %{{.+}}, %[[WG]], %[[C4]])
// CHECK: func.func private @host__dispatch_0(%{{.+}}: memref<?x8xf32>, %[[OUT:.+]]: memref<?x8xf32>, %[[ID:.+]]: index, %[[COUNT:.+]]: index) attributes {kiln.dispatch, kiln.workgroup_extent = array<i64: 0, 0>}
// CHECK: %[[TRIPS:.+]] = arith.ceildivui
// CHECK: %[[CHUNK:.+]] = arith.ceildivui %[[TRIPS]], %[[COUNT]]
// CHECK: arith.muli %[[ID]]
// CHECK: %[[END:.+]] = arith.minui
// CHECK: %[[START:.+]] = arith.minui %{{.+}}, %[[END]]
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = (%[[START]], %{{.+}}) to (%[[END]], %{{.+}})
func.func @host(%x: memref<?x8xf32>, %y: memref<?x8xf32>) {
  call @host__dispatch_0(%x, %y) : (memref<?x8xf32>, memref<?x8xf32>) -> ()
  return
}
func.func private @host__dispatch_0(%x: memref<?x8xf32>, %y: memref<?x8xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x8xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}

// -----

#all = affine_map<(d0) -> (d0)>
#none = affine_map<(d0) -> ()>

// Tests that a kernel with no parallel dimension runs in workgroup 0 only.
// CHECK-LABEL: func.func private @sum__dispatch_0
// CHECK-SAME: %[[ID:[a-z0-9]+]]: index, %{{.+}}: index) attributes {kiln.dispatch} {
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[ID]], %{{.+}}
// CHECK: scf.if %[[FIRST]] {
// CHECK: scf.for
func.func @sum(%x: memref<?xf32>, %s: memref<f32>) {
  call @sum__dispatch_0(%x, %s) : (memref<?xf32>, memref<f32>) -> ()
  return
}
func.func private @sum__dispatch_0(%x: memref<?xf32>, %s: memref<f32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction"]}
      ins(%x : memref<?xf32>) outs(%s : memref<f32>) {
  ^bb0(%a: f32, %b: f32):
    %t = arith.addf %a, %b : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Tests that a buffer copy is distributed like any other op.
// CHECK-LABEL: func.func private @copy__dispatch_0
// CHECK: scf.parallel
// CHECK-NOT: memref.copy
func.func @copy(%x: memref<?x4xf32>, %y: memref<?x4xf32>) {
  call @copy__dispatch_0(%x, %y) : (memref<?x4xf32>, memref<?x4xf32>) -> ()
  return
}
func.func private @copy__dispatch_0(%x: memref<?x4xf32>, %y: memref<?x4xf32>) attributes {kiln.dispatch} {
  memref.copy %x, %y : memref<?x4xf32> to memref<?x4xf32>
  return
}
