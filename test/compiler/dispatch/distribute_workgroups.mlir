// RUN: kiln-opt --split-input-file --kiln-distribute-workgroups=host-workgroups=4 %s | FileCheck %s
// RUN: kiln-opt --split-input-file --kiln-distribute-workgroups=lower-to-loops=false %s | FileCheck %s --check-prefix=LINALG

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Tests that a parallel loop is cut into contiguous blocks, one per
// workgroup, and that the host runs every workgroup. The static dimension (8)
// is too small to split, so the dynamic rows are.
// CHECK-LABEL: func.func @host
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: scf.for %[[WG:.+]] = %{{.+}} to %[[C4]]
// CHECK: call @host__dispatch_0(%{{.+}}, %{{.+}}, %[[WG]], %[[C4]])
// CHECK: func.func private @host__dispatch_0(%[[IN:.+]]: memref<?x8xf32>, %[[OUT:.+]]: memref<?x8xf32>, %[[ID:.+]]: index, %[[COUNT:.+]]: index) attributes {kiln.dispatch, kiln.workgroup_extent = array<i64: 0, 0>}
// CHECK: %[[ROWS:.+]] = memref.dim %[[IN]], %{{.+}}
// CHECK: %[[CHUNK:.+]] = arith.ceildivui %[[ROWS]], %[[COUNT]]
// CHECK: arith.muli %[[ID]], %[[CHUNK]]
// CHECK: %[[END:.+]] = arith.minui %[[ROWS]]
// CHECK: %[[START:.+]] = arith.minui %{{.+}}, %[[END]]
// CHECK: %[[SIZE:.+]] = arith.subi %[[END]], %[[START]]
// CHECK: memref.subview %[[IN]][%[[START]], 0] [%[[SIZE]], 8] [1, 1]
// CHECK: memref.subview %[[OUT]][%[[START]], 0] [%[[SIZE]], 8] [1, 1]
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[SIZE]]
// CHECK: scf.for
// CHECK-NOT: linalg.generic
// Without lowering to loops the op stays, on the workgroup's subviews.
// LINALG-LABEL: func.func private @host__dispatch_0
// LINALG: %[[SUB:.+]] = memref.subview %arg0
// LINALG: %[[SUBOUT:.+]] = memref.subview %arg1
// LINALG: linalg.generic {{.*}} ins(%[[SUB]] : {{.*}}) outs(%[[SUBOUT]] : {{.*}})
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
// CHECK: scf.for
// CHECK-NOT: memref.copy
func.func @copy(%x: memref<?x4xf32>, %y: memref<?x4xf32>) {
  call @copy__dispatch_0(%x, %y) : (memref<?x4xf32>, memref<?x4xf32>) -> ()
  return
}
func.func private @copy__dispatch_0(%x: memref<?x4xf32>, %y: memref<?x4xf32>) attributes {kiln.dispatch} {
  memref.copy %x, %y : memref<?x4xf32> to memref<?x4xf32>
  return
}

// -----

#in = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// Tests that a large static dimension is split rather than the batch (1 at
// run time), in blocks of 16 when it is the output's innermost dimension,
// and that linalg.index sees the full iteration space.
// CHECK-LABEL: func.func private @wide__dispatch_0
// CHECK-SAME: kiln.workgroup_extent = array<i64: 0, 2>
// CHECK: %[[C16:.+]] = arith.constant 16 : index
// CHECK: %[[Q:.+]] = arith.ceildivui %{{.+}}, %[[C16]]
// CHECK: %[[CHUNK:.+]] = arith.muli %[[Q]], %[[C16]]
// CHECK: arith.minui
// CHECK: %[[START:.+]] = arith.minui
// CHECK: memref.subview %arg0[0, 0, %[[START]]]
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[IV:[a-z0-9]+]] =
// CHECK: affine.apply #{{.+}}()[%[[IV]], %[[START]]]
// LINALG-LABEL: func.func private @wide__dispatch_0
// LINALG: linalg.index 2
// LINALG: affine.apply
func.func @wide(%y: memref<?x?x256xf32>) {
  call @wide__dispatch_0(%y) : (memref<?x?x256xf32>) -> ()
  return
}
func.func private @wide__dispatch_0(%y: memref<?x?x256xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [#in], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%y : memref<?x?x256xf32>) {
  ^bb0(%b: f32):
    %i = linalg.index 2 : index
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f32
    linalg.yield %f : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>

// Tests that the output features of a contraction are split in wider blocks
// than 16 (each block of W re-reads all of A): 128 columns, halved while
// fewer than 8 blocks remain; 1536 features give blocks of 128.
// CHECK-LABEL: func.func private @linear__dispatch_0
// CHECK-SAME: kiln.workgroup_extent = array<i64: 1, 0>
// CHECK: %[[C128:.+]] = arith.constant 128 : index
// CHECK: %[[Q:.+]] = arith.ceildivui %{{.+}}, %[[C128]]
// CHECK: arith.muli %[[Q]], %[[C128]]
// CHECK: memref.subview %arg1[%{{.+}}, 0]
// CHECK-LABEL: func.func private @narrow__dispatch_0
// CHECK: %[[C32:.+]] = arith.constant 32 : index
// CHECK: %[[Q:.+]] = arith.ceildivui %{{.+}}, %[[C32]]
// CHECK: arith.muli %[[Q]], %[[C32]]
func.func @linear(%x: memref<?x64xf32>, %w: memref<1536x64xf32>, %y: memref<?x1536xf32>) {
  call @linear__dispatch_0(%x, %w, %y) : (memref<?x64xf32>, memref<1536x64xf32>, memref<?x1536xf32>) -> ()
  return
}
func.func @narrow(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %y: memref<?x256xf32>) {
  call @narrow__dispatch_0(%x, %w, %y) : (memref<?x64xf32>, memref<256x64xf32>, memref<?x256xf32>) -> ()
  return
}
func.func private @linear__dispatch_0(%x: memref<?x64xf32>, %w: memref<1536x64xf32>, %y: memref<?x1536xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<1536x64xf32>) outs(%y : memref<?x1536xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %c, %0 : f32
    linalg.yield %1 : f32
  }
  return
}
func.func private @narrow__dispatch_0(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %y: memref<?x256xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %c, %0 : f32
    linalg.yield %1 : f32
  }
  return
}
