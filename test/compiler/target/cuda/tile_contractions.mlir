// RUN: kiln-opt --split-input-file --kiln-cuda-tile-contractions --cse %s | FileCheck %s

// Tests that a linear (bias start, bf16 weight, tanh epilogue, as
// kiln-cpu-materialize-zero-init leaves it) becomes block tiles: two
// workgroup stages, blocks taking tiles grid-stride, the bias written and
// the output loaded as each lane's accumulator start, the first stage's A
// (f32 rounded to bf16) and B (bf16 as stored) pairs loaded before a k
// loop of 32 that carries 64 accumulators and 16 words: it stores the
// words in the stages, meets at a barrier, loads the next stage's pairs,
// runs 32 m16n8k16 bf16 mma.sync on fragments read from the stages and
// meets again; then the store and the epilogue at each accumulator's
// element.
// CHECK-LABEL: func.func @linear_bias_tanh
// CHECK-SAME: (%[[A:.+]]: memref<?x64xf32>, %[[W:.+]]: memref<48x64xbf16>, %[[BIAS:.+]]: memref<48xf32>, %[[C:.+]]: memref<?x48xf32>)
// CHECK-DAG: %[[STAGE_A:.+]] = memref.alloca() : memref<128x20xi32, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[STAGE_B:.+]] = memref.alloca() : memref<128x20xi32, #gpu.address_space<workgroup>>
// CHECK: gpu.thread_id x
// CHECK: %[[BLOCK:.+]] = gpu.block_id x
// CHECK: %[[GRID:.+]] = gpu.grid_dim x
// CHECK: scf.for %[[TILE:.+]] = %[[BLOCK]] to %{{.+}} step %[[GRID]] {
// CHECK: scf.if %{{.+}} -> (f32) {
// CHECK:   %[[B0:.+]] = memref.load %[[BIAS]]
// CHECK:   memref.store %[[B0]], %[[C]][%[[I0:.+]], %[[J0:.+]]]
// CHECK:   %[[START:.+]] = memref.load %[[C]][%[[I0]], %[[J0]]]
// CHECK:   scf.yield %[[START]] : f32
// CHECK: } else {
// CHECK:   scf.yield %{{.+}} : f32
// CHECK: %{{.+}}:16 = scf.if %{{.+}} -> (i32,
// CHECK:   %[[X:.+]] = memref.load %[[A]]
// CHECK:   %[[XS:.+]] = arith.select %{{.+}}, %[[X]], %{{.+}} : f32
// CHECK:   %[[XB:.+]] = arith.truncf %[[XS]] : f32 to bf16
// CHECK:   arith.bitcast %[[XB]] : bf16 to i16
// CHECK:   %[[Y:.+]] = memref.load %[[W]]
// CHECK-NOT: arith.truncf
// CHECK:   %[[YS:.+]] = arith.select %{{.+}}, %[[Y]], %{{.+}} : bf16
// CHECK:   arith.bitcast %[[YS]] : bf16 to i16
// CHECK: %[[SUMS:.+]]:80 = scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %c32 iter_args
// CHECK:   memref.store %{{.+}}, %[[STAGE_A]]
// CHECK:   memref.store %{{.+}}, %[[STAGE_B]]
// CHECK:   gpu.barrier
// CHECK:   memref.load %[[A]]
// CHECK:   memref.load %[[W]]
// CHECK:   memref.load %[[STAGE_A]]
// CHECK:   memref.load %[[STAGE_B]]
// CHECK-COUNT-32: nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[{{.+}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK:   gpu.barrier
// CHECK-NEXT: scf.yield
// CHECK: scf.if %{{.+}} {
// CHECK:   memref.store %[[SUMS]]#0, %[[C]][%[[I1:.+]], %[[J1:.+]]]
// CHECK:   %[[V:.+]] = memref.load %[[C]][%[[I1]], %[[J1]]]
// CHECK:   %[[T:.+]] = math.tanh %[[V]]
// CHECK:   memref.store %[[T]], %[[C]][%[[I1]], %[[J1]]]
// CHECK-NOT: linalg.generic
func.func @linear_bias_tanh(%a: memref<?x64xf32>, %w: memref<48x64xbf16>, %bias: memref<48xf32>, %c: memref<?x48xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<48xf32>) outs(%c : memref<?x48xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w, %bias : memref<?x64xf32>, memref<48x64xbf16>, memref<48xf32>) outs(%c : memref<?x48xf32>) {
  ^bb0(%x: f32, %y: bf16, %unused: f32, %o: f32):
    %yy = arith.extf %y : bf16 to f32
    %m = arith.mulf %x, %yy : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      outs(%c : memref<?x48xf32>) {
  ^bb0(%o: f32):
    %t = math.tanh %o : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Tests that a linear on [batch, tokens, k] activations (two m loops)
// flattens them into the tile's rows: each lane row's batch and token come
// from 32-bit division by the token count, and a zero fill start becomes a
// store of zero before the output is loaded.
// CHECK-LABEL: func.func @linear_3d
// CHECK-SAME: (%[[A:.+]]: memref<?x?x32xf32>, %[[W:.+]]: memref<16x32xf32>, %[[C:.+]]: memref<?x?x16xf32>)
// CHECK: %[[TOKENS:.+]] = memref.dim %[[A]], %c1
// CHECK: scf.for
// CHECK:   %[[TOKENS32:.+]] = arith.index_castui %[[TOKENS]] : index to i32
// CHECK:   arith.remui %{{.+}}, %[[TOKENS32]] : i32
// CHECK:   arith.divui %{{.+}}, %[[TOKENS32]] : i32
// CHECK:   scf.if %{{.+}} -> (f32) {
// CHECK:     memref.store %{{.+}}, %[[C]][%[[BATCH:.+]], %[[TOKEN:.+]], %[[J:.+]]]
// CHECK:     memref.load %[[C]][%[[BATCH]], %[[TOKEN]], %[[J]]]
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-NOT: linalg.
func.func @linear_3d(%a: memref<?x?x32xf32>, %w: memref<16x32xf32>, %c: memref<?x?x16xf32>) attributes {kiln.dispatch} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?x?x16xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<?x?x32xf32>, memref<16x32xf32>) outs(%c : memref<?x?x16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tests that a batched matmul with k-major B (attention's P V) keeps its
// batch loop outside the tile: the tile number gives the batch index, which
// indexes A, B and the output alike, and B is read at [batch, k, n].
// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME: (%[[A:.+]]: memref<?x?x?xf32>, %[[B:.+]]: memref<?x?x?xf32>, %[[C:.+]]: memref<?x?x?xf32>)
// CHECK: scf.for %[[TILE:.+]] =
// CHECK:   %[[T32:.+]] = arith.index_castui %[[TILE]] : index to i32
// CHECK:   arith.divui %[[T32]]
// CHECK:   %[[BATCH32:.+]] = arith.divui
// CHECK:   %[[BATCH:.+]] = arith.index_castui %[[BATCH32]] : i32 to index
// CHECK:   scf.for
// CHECK:     memref.load %[[A]][%[[BATCH]], %{{.+}}, %{{.+}}]
// CHECK:     memref.load %[[B]][%[[BATCH]], %{{.+}}, %{{.+}}]
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK:   memref.store %{{.+}}, %[[C]][%[[BATCH]], %{{.+}}, %{{.+}}]
func.func @batch_matmul(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>, %c: memref<?x?x?xf32>) attributes {kiln.dispatch} {
  linalg.batch_matmul ins(%a, %b : memref<?x?x?xf32>, memref<?x?x?xf32>) outs(%c : memref<?x?x?xf32>)
  return
}

// -----

// Tests what stays with kiln-cuda-distribute-to-threads: a convolution
// (its input indexed by a sum of loops), an epilogue that writes another
// buffer, and a function that is not a dispatch.
// CHECK-LABEL: func.func @convolution
// CHECK-NOT: nvvm.mma.sync
// CHECK: linalg.generic
func.func @convolution(%x: memref<?x32xf32>, %w: memref<3x32x16xf32>, %c: memref<?x16xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0 + d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<?x32xf32>, memref<3x32x16xf32>) outs(%c : memref<?x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @epilogue_elsewhere
// CHECK-NOT: nvvm.mma.sync
// CHECK: linalg.generic
// CHECK: linalg.generic
func.func @epilogue_elsewhere(%a: memref<?x32xf32>, %w: memref<16x32xf32>, %c: memref<?x16xf32>, %d: memref<?x16xf32>) attributes {kiln.dispatch} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<?x32xf32>, memref<16x32xf32>) outs(%c : memref<?x16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<?x16xf32>) outs(%d : memref<?x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %t = math.tanh %x : f32
    linalg.yield %t : f32
  }
  return
}

// CHECK-LABEL: func.func @not_a_dispatch
// CHECK-NOT: nvvm.mma.sync
// CHECK: linalg.matmul
func.func @not_a_dispatch(%a: memref<?x32xf32>, %b: memref<32x16xf32>, %c: memref<?x16xf32>) {
  linalg.matmul ins(%a, %b : memref<?x32xf32>, memref<32x16xf32>) outs(%c : memref<?x16xf32>)
  return
}
