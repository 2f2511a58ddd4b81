// RUN: kiln-opt --split-input-file --kiln-distribute-workgroups=lower-to-loops=false %s | FileCheck %s
// RUN: kiln-opt --split-input-file --kiln-distribute-workgroups %s | FileCheck %s --check-prefix=LOOPS

// Tests that attention splits its heads over the workgroups: q, k, v and the
// output are restricted in dimension 2, the mask in dimension 1, and the
// extent names q's heads.
// CHECK-LABEL: func.func private @host__dispatch_0
// CHECK-SAME: (%[[Q:.+]]: memref<1x?x4x16xf32>, %[[K:.+]]: memref<1x?x4x16xf32>, %[[V:.+]]: memref<1x?x4x8xf32>, %[[O:.+]]: memref<1x?x4x8xf32>, %[[M:.+]]: memref<1x4x?x?xf32>, %[[ID:.+]]: index, %[[COUNT:.+]]: index)
// CHECK-SAME: kiln.workgroup_extent = array<i64: 0, 2>
// CHECK: %[[HEADS:.+]] = memref.dim %[[Q]], %c2
// CHECK: %[[CHUNK:.+]] = arith.ceildivui %[[HEADS]], %[[COUNT]]
// CHECK: %[[END:.+]] = arith.minui
// CHECK: %[[START:.+]] = arith.minui %{{.+}}, %[[END]]
// CHECK: %[[SIZE:.+]] = arith.subi %[[END]], %[[START]]
// CHECK-DAG: %[[SM:.+]] = memref.subview %[[M]][0, %[[START]], 0, 0] [1, %[[SIZE]], %{{.+}}, %{{.+}}]
// CHECK-DAG: %[[SQ:.+]] = memref.subview %[[Q]][0, 0, %[[START]], 0] [1, %{{.+}}, %[[SIZE]], 16]
// CHECK-DAG: %[[SK:.+]] = memref.subview %[[K]][0, 0, %[[START]], 0] [1, %{{.+}}, %[[SIZE]], 16]
// CHECK-DAG: %[[SV:.+]] = memref.subview %[[V]][0, 0, %[[START]], 0] [1, %{{.+}}, %[[SIZE]], 8]
// CHECK-DAG: %[[SO:.+]] = memref.subview %[[O]][0, 0, %[[START]], 0] [1, %{{.+}}, %[[SIZE]], 8]
// CHECK: kiln.flash_attention ins(%[[SQ]], %[[SK]], %[[SV]] : {{.+}}) mask(%[[SM]] : {{.+}}) outs(%[[SO]] : {{.+}}) {scale = 2.500000e-01 : f64}
// Lowered to loops: rows (batch, query, head), the keys carrying the
// running maximum and sum, a dot product over head_dim, an exp for the
// probability and one for the rescaling of the row, the row divided by the
// sum at the end.
// LOOPS-LABEL: func.func private @host__dispatch_0
// LOOPS: scf.for
// LOOPS: scf.for
// LOOPS: scf.for
// LOOPS: %{{.+}}:2 = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[MAX:.+]] = %{{.+}}, %[[SUM:.+]] = %{{.+}}) -> (f32, f32)
// LOOPS: scf.for {{.+}} iter_args
// LOOPS: math.fma
// LOOPS: arith.maximumf %[[MAX]]
// LOOPS: math.exp
// LOOPS: math.exp
// LOOPS: arith.divf
// LOOPS-NOT: kiln.flash_attention
func.func @host(%q: memref<1x?x4x16xf32>, %k: memref<1x?x4x16xf32>, %v: memref<1x?x4x8xf32>, %o: memref<1x?x4x8xf32>, %m: memref<1x4x?x?xf32>) {
  call @host__dispatch_0(%q, %k, %v, %o, %m) : (memref<1x?x4x16xf32>, memref<1x?x4x16xf32>, memref<1x?x4x8xf32>, memref<1x?x4x8xf32>, memref<1x4x?x?xf32>) -> ()
  return
}
func.func private @host__dispatch_0(%q: memref<1x?x4x16xf32>, %k: memref<1x?x4x16xf32>, %v: memref<1x?x4x8xf32>, %o: memref<1x?x4x8xf32>, %m: memref<1x4x?x?xf32>) attributes {kiln.dispatch} {
  kiln.flash_attention ins(%q, %k, %v : memref<1x?x4x16xf32>, memref<1x?x4x16xf32>, memref<1x?x4x8xf32>) mask(%m : memref<1x4x?x?xf32>) outs(%o : memref<1x?x4x8xf32>) {scale = 0.25 : f64}
  return
}

// -----

// Tests that a mask broadcast over the heads (a static 1) is not restricted.
// CHECK-LABEL: func.func private @broadcast__dispatch_0
// CHECK-NOT: memref.subview %arg4
// CHECK: kiln.flash_attention {{.+}} mask(%arg4 : memref<1x1x?x?xf32>)
func.func private @broadcast__dispatch_0(%q: memref<1x?x4x16xf32>, %m: memref<1x1x?x?xf32>, %o: memref<1x?x4x16xf32>, %k: memref<1x?x4x16xf32>, %mm: memref<1x1x?x?xf32>) attributes {kiln.dispatch} {
  kiln.flash_attention ins(%q, %k, %k : memref<1x?x4x16xf32>, memref<1x?x4x16xf32>, memref<1x?x4x16xf32>) mask(%mm : memref<1x1x?x?xf32>) outs(%o : memref<1x?x4x16xf32>) {scale = 0.25 : f64}
  return
}
