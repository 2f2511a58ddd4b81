// RUN: kiln-opt --kiln-cpu-reassociate-reductions %s | FileCheck %s

// Tests that the arith ops of a reduction's body may be reassociated (so
// LLVM vectorizes the loop) and that all-parallel ops are left alone.
// CHECK-LABEL: func.func @row_max
// CHECK: arith.maximumf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK-LABEL: func.func @scale
// CHECK: arith.mulf %{{.+}}, %{{.+}} : f32
func.func @row_max(%x: memref<?x64xf32>, %y: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%y : memref<?xf32>) {
  ^bb0(%in: f32, %o: f32):
    %0 = arith.maximumf %in, %o : f32
    linalg.yield %0 : f32
  }
  return
}
func.func @scale(%x: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      outs(%x : memref<?xf32>) {
  ^bb0(%o: f32):
    %0 = arith.mulf %o, %o : f32
    linalg.yield %0 : f32
  }
  return
}
