// RUN: kiln-opt --split-input-file --verify-diagnostics --kiln-cuda-distribute-to-threads %s | FileCheck %s

// Tests that an elementwise op becomes a grid-stride loop over its output's
// elements: the thread's first element is block_id * block_dim + thread_id,
// the step the grid's thread count, the coordinates row-major, and a body that
// does not read the output does not load it.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[A:.+]]: memref<?x32xf32>, %[[C:.+]]: memref<?x32xf32>)
// CHECK-DAG: %[[TID:.+]] = gpu.thread_id x
// CHECK-DAG: %[[BID:.+]] = gpu.block_id x
// CHECK-DAG: %[[BDIM:.+]] = gpu.block_dim x
// CHECK-DAG: %[[GDIM:.+]] = gpu.grid_dim x
// CHECK: %[[FIRST_BLOCK:.+]] = arith.muli %[[BID]], %[[BDIM]]
// CHECK: %[[START:.+]] = arith.addi %[[FIRST_BLOCK]], %[[TID]]
// CHECK: %[[STRIDE:.+]] = arith.muli %[[GDIM]], %[[BDIM]]
// CHECK: scf.for %[[E:.+]] = %[[START]] to %{{.+}} step %[[STRIDE]]
// CHECK:   %[[J:.+]] = arith.remui %[[E]], %{{.+}}
// CHECK:   %[[I:.+]] = arith.divui %[[E]], %{{.+}}
// CHECK-NOT: memref.load %[[C]]
// CHECK:   %[[X:.+]] = memref.load %[[A]]
// CHECK:   %[[T:.+]] = math.tanh %[[X]]
// CHECK:   memref.store %[[T]], %[[C]][%[[I]], %[[J]]]
// CHECK-NOT: linalg.generic
func.func @elementwise(%a: memref<?x32xf32>, %c: memref<?x32xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<?x32xf32>) outs(%c : memref<?x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %t = math.tanh %x : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Tests that a contraction's reduction loop runs inside the element loop
// with the output element carried in registers: loaded once before k,
// stored once after it.
// CHECK-LABEL: func.func @contraction
// CHECK-SAME: (%[[A:.+]]: memref<?x64xf32>, %[[B:.+]]: memref<32x64xf32>, %[[C:.+]]: memref<?x32xf32>)
// CHECK: scf.for %[[E:.+]] =
// CHECK:   %[[INIT:.+]] = memref.load %[[C]]
// CHECK:   %[[SUM:.+]] = scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32)
// CHECK:     memref.load %[[A]]
// CHECK:     memref.load %[[B]]
// CHECK:     %[[P:.+]] = arith.mulf
// CHECK:     %[[S:.+]] = arith.addf %[[ACC]], %[[P]]
// CHECK:     scf.yield %[[S]]
// CHECK:   memref.store %[[SUM]], %[[C]]
func.func @contraction(%a: memref<?x64xf32>, %b: memref<32x64xf32>, %c: memref<?x32xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x64xf32>, memref<32x64xf32>) outs(%c : memref<?x32xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tests that a loop order with the reduction first (a column sum) still
// gives each output element to one thread, whose index comes from the
// output's coordinates, and that linalg.index reads the loop indices.
// CHECK-LABEL: func.func @reduction_first
// CHECK: scf.for %[[E:.+]] =
// CHECK:   scf.for %[[R:.+]] = %{{.+}} iter_args
// CHECK:     %[[IDX:.+]] = arith.index_cast %[[E]] : index to i64
// CHECK:     arith.sitofp %[[IDX]]
func.func @reduction_first(%a: memref<16x?xf32>, %c: memref<?xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<16x?xf32>) outs(%c : memref<?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f32
    %m = arith.mulf %x, %f : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tests that the ops of one kernel writing the same buffer (a fill, then an
// accumulation onto it, as kiln-cpu-materialize-zero-init makes them) each
// become a loop, in order, with the same element-to-thread assignment.
// CHECK-LABEL: func.func @fill_then_accumulate
// CHECK: scf.for
// CHECK:   memref.store %{{.+}}, %[[C:.+]][
// CHECK: scf.for
// CHECK:   memref.load %[[C]][
// CHECK:   scf.for
// CHECK:   memref.store %{{.+}}, %[[C]][
func.func @fill_then_accumulate(%a: memref<?x8xf32>, %c: memref<?xf32>) attributes {kiln.dispatch} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<?x8xf32>) outs(%c : memref<?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %o, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tests that an op with two outputs (an argmax: value and index) carries
// both through its reduction and stores both.
// CHECK-LABEL: func.func @argmax
// CHECK: scf.for
// CHECK:   %[[V0:.+]] = memref.load %[[VAL:.+]][
// CHECK:   %[[I0:.+]] = memref.load %[[IDX:.+]][
// CHECK:   %[[R:.+]]:2 = scf.for %{{.+}} iter_args(%{{.+}} = %[[V0]], %{{.+}} = %[[I0]]) -> (f32, i64)
// CHECK:   memref.store %[[R]]#0, %[[VAL]]
// CHECK:   memref.store %[[R]]#1, %[[IDX]]
func.func @argmax(%a: memref<?x?xf32>, %v: memref<?xf32>, %i: memref<?xi64>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<?x?xf32>) outs(%v, %i : memref<?xf32>, memref<?xi64>) {
  ^bb0(%x: f32, %best: f32, %at: i64):
    %k = linalg.index 1 : index
    %kk = arith.index_cast %k : index to i64
    %gt = arith.cmpf ogt, %x, %best : f32
    %nv = arith.select %gt, %x, %best : f32
    %ni = arith.select %gt, %kk, %at : i64
    linalg.yield %nv, %ni : f32, i64
  }
  return
}

// -----

// Tests that a kernel whose second op reads what its first one writes is
// refused: another thread may own the element it reads.
func.func @read_after_write(%a: memref<?xf32>, %t: memref<?xf32>, %c: memref<?xf32>) attributes {kiln.dispatch} {
  linalg.copy ins(%a : memref<?xf32>) outs(%t : memref<?xf32>)
  // expected-error @+1 {{reads a buffer another op of its kernel writes}}
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%t : memref<?xf32>) outs(%c : memref<?xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  return
}

// -----

// Tests that two ops writing different views of one buffer are refused:
// their elements' owners differ.
func.func @two_views(%a: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {kiln.dispatch} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x4xf32>)
  %part = memref.subview %c[0, 0] [2, 4] [1, 1] : memref<4x4xf32> to memref<2x4xf32, strided<[4, 1]>>
  %src = memref.subview %a[0, 0] [2, 4] [1, 1] : memref<4x4xf32> to memref<2x4xf32, strided<[4, 1]>>
  // expected-error @+1 {{writes a buffer another op of its kernel writes through another view}}
  linalg.copy ins(%src : memref<2x4xf32, strided<[4, 1]>>) outs(%part : memref<2x4xf32, strided<[4, 1]>>)
  return
}

// -----

// Tests that functions that are not dispatch kernels are left alone.
// CHECK-LABEL: func.func @host
// CHECK: linalg.copy
func.func @host(%a: memref<4xf32>, %c: memref<4xf32>) {
  linalg.copy ins(%a : memref<4xf32>) outs(%c : memref<4xf32>)
  return
}

// -----

// Tests that attention gives each thread whole (batch, query, head) rows,
// heads fastest, each computed by the reference loops (online softmax over
// the keys).
// CHECK-LABEL: func.func @attention
// CHECK: %[[STRIDE:.+]] = arith.muli %grid_dim_x
// CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %{{.+}} step %[[STRIDE]]
// CHECK: %[[H:.+]] = arith.remui %[[ROW]], %{{.+}}
// CHECK: %[[REST:.+]] = arith.divui %[[ROW]], %{{.+}}
// CHECK: %[[I:.+]] = arith.remui %[[REST]], %{{.+}}
// CHECK: %[[B:.+]] = arith.divui %[[REST]], %{{.+}}
// CHECK: scf.for {{.+}} iter_args
// CHECK: memref.load %arg0[%[[B]], %[[I]], %[[H]], %{{.+}}]
// CHECK: math.exp
// CHECK-NOT: kiln.flash_attention
func.func @attention(%q: memref<1x?x2x16xf32>, %o: memref<1x?x2x16xf32>) attributes {kiln.dispatch} {
  kiln.flash_attention ins(%q, %q, %q : memref<1x?x2x16xf32>, memref<1x?x2x16xf32>, memref<1x?x2x16xf32>) outs(%o : memref<1x?x2x16xf32>) {scale = 0.25 : f64}
  return
}
