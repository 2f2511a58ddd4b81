// RUN: kiln-opt --split-input-file --kiln-cuda-tile-attention --cse %s | FileCheck %s

// Tests that a masked attention with a head of 32 and 16 value channels
// becomes block tiles: two workgroup stages (K as 16 keys x 16 channel
// pairs, V as 16 channels x 8 key pairs, rows padded by 4 words), blocks
// taking (batch, head, 128-query) tiles grid-stride, each warp's Q
// fragments loaded before the key loop, 16 keys a step carrying two row
// maxima, two sums and 2 x 4 O accumulators: the block stages the step's K
// and V (V's 128 words by the first 128 threads) and meets, S = Q K^T as
// two chains of two bf16 mma.sync on K fragments from the stage, the mask
// added, the row maximum and sum across a row's 4 lanes by xor shuffles 1
// and 2, exp of the scores less the maximum, P V as two more mma.sync on V
// fragments from the stage, a barrier before the next step; then O / sum
// stored inside the output.
// CHECK-LABEL: func.func @masked
// CHECK-SAME: (%[[Q:.+]]: memref<?x?x2x32xf32>, %[[K:.+]]: memref<?x?x2x32xf32>, %[[V:.+]]: memref<?x?x2x16xf32>, %[[MASK:.+]]: memref<1x1x1x?xf32>, %[[O:.+]]: memref<?x?x2x16xf32>)
// CHECK-DAG: %[[STAGE_K:.+]] = memref.alloca() : memref<16x20xi32, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[STAGE_V:.+]] = memref.alloca() : memref<16x12xi32, #gpu.address_space<workgroup>>
// CHECK: %[[BLOCK:.+]] = gpu.block_id x
// CHECK: %[[GRID:.+]] = gpu.grid_dim x
// CHECK: scf.for %[[TILE:.+]] = %[[BLOCK]] to %{{.+}} step %[[GRID]] {
// CHECK:   memref.load %[[Q]]
// CHECK:   %[[STATE:.+]]:12 = scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %c16 iter_args
// CHECK:     memref.load %[[K]]
// CHECK:     memref.store %{{.+}}, %[[STAGE_K]]
// CHECK:     scf.if
// CHECK:       memref.load %[[V]]
// CHECK:       memref.store %{{.+}}, %[[STAGE_V]]
// CHECK:     gpu.barrier
// CHECK:     memref.load %[[STAGE_K]]
// CHECK:     nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[%[[ZERO:.+]], %[[ZERO]], %[[ZERO]], %[[ZERO]]]
// CHECK:     nvvm.mma.sync
// CHECK:     nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[%[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]]]
// CHECK:     nvvm.mma.sync
// CHECK:     memref.load %[[MASK]][%c0, %c0, %c0, %{{.+}}]
// CHECK:     arith.select %{{.+}}, %{{.+}}, %[[NEG_INF:.+]] : f32
// CHECK:     %[[MAX0:.+]], %{{.+}} = gpu.shuffle  xor %{{.+}}, %c1_i32, %c32_i32 : f32
// CHECK:     arith.maximumf %{{.+}}, %[[MAX0]]
// CHECK:     %[[MAX1:.+]], %{{.+}} = gpu.shuffle  xor %{{.+}}, %c2_i32, %c32_i32 : f32
// CHECK:     arith.maximumf %{{.+}}, %[[MAX1]]
// CHECK:     math.exp
// CHECK:     %[[SUM0:.+]], %{{.+}} = gpu.shuffle  xor %{{.+}}, %c1_i32, %c32_i32 : f32
// CHECK:     arith.addf %{{.+}}, %[[SUM0]]
// CHECK:     memref.load %[[STAGE_V]]
// CHECK:     nvvm.mma.sync
// CHECK:     memref.load %[[STAGE_V]]
// CHECK:     nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK:     gpu.barrier
// CHECK-NEXT: scf.yield
// CHECK:   %[[INV:.+]] = arith.divf %{{.+}}, %[[STATE]]#2
// CHECK:   scf.if
// CHECK:     %[[OUT:.+]] = arith.mulf %[[STATE]]#4, %[[INV]]
// CHECK:     memref.store %[[OUT]], %[[O]]
// CHECK-NOT: kiln.flash_attention
func.func @masked(%q: memref<?x?x2x32xf32>, %k: memref<?x?x2x32xf32>, %v: memref<?x?x2x16xf32>, %mask: memref<1x1x1x?xf32>, %o: memref<?x?x2x16xf32>) attributes {kiln.dispatch} {
  kiln.flash_attention ins(%q, %k, %v : memref<?x?x2x32xf32>, memref<?x?x2x32xf32>, memref<?x?x2x16xf32>) mask(%mask : memref<1x1x1x?xf32>) outs(%o : memref<?x?x2x16xf32>) {scale = 0.25 : f64}
  return
}

// -----

// Tests that causal attention drops keys after the query: a key is valid
// when it is below the key count and at most the row.
// CHECK-LABEL: func.func @causal
// CHECK: scf.for
// CHECK:   arith.cmpi ult
// CHECK:   arith.cmpi ule
// CHECK:   arith.andi
// CHECK:   arith.select
func.func @causal(%q: memref<1x?x2x16xf32>, %k: memref<1x?x2x16xf32>, %v: memref<1x?x2x16xf32>, %o: memref<1x?x2x16xf32>) attributes {kiln.dispatch} {
  kiln.flash_attention ins(%q, %k, %v : memref<1x?x2x16xf32>, memref<1x?x2x16xf32>, memref<1x?x2x16xf32>) outs(%o : memref<1x?x2x16xf32>) {scale = 0.25 : f64, causal}
  return
}

// -----

// Tests that a head of 8 channels (T5's in the tiny model: not a multiple
// of the mma's k of 16) stays for kiln-cuda-distribute-to-threads.
// CHECK-LABEL: func.func @head_of_8
// CHECK-NOT: nvvm.mma.sync
// CHECK: kiln.flash_attention
func.func @head_of_8(%q: memref<1x?x4x8xf32>, %k: memref<1x?x4x8xf32>, %v: memref<1x?x4x8xf32>, %o: memref<1x?x4x8xf32>) attributes {kiln.dispatch} {
  kiln.flash_attention ins(%q, %k, %v : memref<1x?x4x8xf32>, memref<1x?x4x8xf32>, memref<1x?x4x8xf32>) outs(%o : memref<1x?x4x8xf32>) {scale = 1.0 : f64}
  return
}
