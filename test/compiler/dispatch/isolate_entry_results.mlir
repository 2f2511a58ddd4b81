// RUN: kiln-opt --split-input-file --kiln-isolate-entry-results %s | FileCheck %s

// Tests that a result that is a view of a larger buffer is copied into an
// allocation of its own and the result type loses the strided layout.
// CHECK-LABEL: func.func @view_result
// CHECK-SAME: -> memref<?x16xf32>
// CHECK: %[[MOMENTS:.+]] = memref.alloc(%{{.+}}) : memref<?x32xf32>
// CHECK: %[[MEAN:.+]] = memref.subview %[[MOMENTS]]
// CHECK: %[[N:.+]] = memref.dim %[[MEAN]], %{{.+}}
// CHECK: %[[OUT:.+]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?x16xf32>
// CHECK: memref.copy %[[MEAN]], %[[OUT]]
// CHECK: return %[[OUT]] : memref<?x16xf32>
func.func @view_result(%n: index) -> memref<?x16xf32, strided<[32, 1]>> {
  %moments = memref.alloc(%n) : memref<?x32xf32>
  %mean = memref.subview %moments[0, 0] [%n, 16] [1, 1]
      : memref<?x32xf32> to memref<?x16xf32, strided<[32, 1]>>
  return %mean : memref<?x16xf32, strided<[32, 1]>>
}

// -----

// Tests that an argument returned as it is, and an allocation returned twice,
// each get a copy, while the allocation's first return stays.
// CHECK-LABEL: func.func @aliased_results
// CHECK: %[[A:.+]] = memref.alloc() : memref<4xf32>
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK: memref.copy %arg0, %[[X]]
// CHECK: %[[B:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: return %[[X]], %[[A]], %[[B]]
func.func @aliased_results(%arg0: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  return %arg0, %a, %a : memref<4xf32>, memref<4xf32>, memref<4xf32>
}

// -----

// Tests that kernels (kiln.dispatch) and whole allocations are left alone.
// CHECK-LABEL: func.func @whole
// CHECK-NOT: memref.copy
// CHECK: return %{{.+}} : memref<8xf32>
func.func @whole() -> memref<8xf32> {
  %a = memref.alloc() : memref<8xf32>
  return %a : memref<8xf32>
}
