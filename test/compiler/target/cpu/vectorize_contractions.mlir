// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-contractions %s | FileCheck %s

#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// Tests that a linear (x @ W^T, both inputs contiguous along k, C
// contiguous along n) becomes k blocks of 256 and n blocks of 128 in which
// W's block is first packed into a stack buffer of k-major panels of 16
// columns (8x8 blocks transposed with vector shuffles, the k values past
// the last multiple of 8 one by one), then 6x16 tiles of C (m tiles outside the panels) are kept in
// 12 vector registers and fed by 2 loads of the panel and 6 broadcasts of
// x per k (the k loop unrolled by 4, then the k values left one by one),
// with the next m tile's rows of x prefetched; rows past the last
// whole tile use 4x16, 2x16 and 1x16 tiles, columns past the last whole
// panel dot tiles.
// While a block is packed, the same rows of the next block are prefetched.
// CHECK-LABEL: func.func @linear
// CHECK: %[[PACK:.+]] = memref.alloca() {alignment = 64 : i64} : memref<8x256x16xf32>
// CHECK: scf.for %[[B:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %[[C256:.+]] {
// CHECK: scf.for %[[N0:.+]] = %{{.+}} to %{{.+}} step %[[C128:.+]] {
// CHECK: scf.for %[[P:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[KK:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK-COUNT-8: vector.load %arg1[%{{.+}}, %{{.+}}] : memref<32x64xf32>, vector<8xf32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 8, 1, 9, 4, 12, 5, 13]
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 8, 9, 4, 5, 12, 13]
// CHECK: %[[COL0:.+]] = vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 8, 9, 10, 11]
// CHECK: vector.store %[[COL0]], %[[PACK]][%[[P]], %[[KK]], %{{.+}}] : memref<8x256x16xf32>, vector<8xf32>
// CHECK-COUNT-8: memref.prefetch %arg1[%{{.+}}, %{{.+}}], read, locality<3>, data : memref<32x64xf32>
// CHECK: %[[W:.+]] = memref.load %arg1[%{{.+}}, %{{.+}}] : memref<32x64xf32>
// CHECK: memref.store %[[W]], %[[PACK]][%[[P]], %{{.+}}, %{{.+}}] : memref<8x256x16xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C96:.+]] {
// CHECK: scf.for %[[Q:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C6:.+]] {
// CHECK-COUNT-12: memref.prefetch %arg0
// CHECK-COUNT-6: memref.prefetch %arg2
// CHECK-COUNT-12: vector.load %arg2{{.*}} vector<8xf32>
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %[[KMAIN:.+]] step %c4{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-2: vector.load %[[PACK]][%[[Q]], %[[K]], %{{.+}}] : memref<8x256x16xf32>, vector<8xf32>
// CHECK: memref.load %arg0[%[[B]], %{{.+}}, %{{.+}}] : memref<?x?x64xf32>
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK-COUNT-2: vector.fma
// CHECK-COUNT-46: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK: scf.for %{{.+}} = %[[KMAIN]] to %{{.+}} step %c1{{.*}} iter_args(
// CHECK-COUNT-12: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-12: vector.store {{.*}} vector<8xf32>
// The rows past the last 6-row tile: one tile of 4 (8 accumulators), of 2,
// of 1, as they fit.
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c4
// CHECK: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c2
// CHECK: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1
// CHECK: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>)
// CHECK-NOT: linalg.generic
func.func @linear(%x: memref<?x?x64xf32>, %w: memref<32x64xf32>, %y: memref<?x?x32xf32>) {
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x?x64xf32>, memref<32x64xf32>) outs(%y : memref<?x?x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#p = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d1, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>

// Tests that P @ V (B and C contiguous along n) packs V's rows into panels
// with vector copies, then keeps 6x16 tiles of C in 12 vector registers fed
// by broadcasts of P, and that columns past the last whole panel (40 = 2 x
// 16 + 8) use single columns; the next block's rows of V are prefetched
// while one is packed.
// CHECK-LABEL: func.func @attention_values
// CHECK: %[[PACK:.+]] = memref.alloca() {alignment = 64 : i64} : memref<8x256x16xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c128 {
// CHECK: scf.for %[[P:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[KK:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: %[[V:.+]] = vector.load %arg1[{{.*}}] : memref<?x?x4x40xf32>, vector<8xf32>
// CHECK: vector.store %[[V]], %[[PACK]][%[[P]], %[[KK]], %{{.+}}]
// CHECK: memref.prefetch %arg1[{{.*}}], read, locality<3>, data : memref<?x?x4x40xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C6:.+]] {
// CHECK-COUNT-12: vector.load %arg2{{.*}} vector<8xf32>
// CHECK: scf.for {{.*}} -> (vector<8xf32>
// CHECK-COUNT-2: vector.load %[[PACK]]
// CHECK: memref.load %arg0
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK: vector.fma
// CHECK-COUNT-12: vector.store {{.*}} vector<8xf32>
// CHECK: vector<1xf32>
// CHECK-NOT: linalg.generic
func.func @attention_values(%pr: memref<?x4x?x?xf32>, %val: memref<?x?x4x40xf32>, %out: memref<?x?x4x40xf32>) {
  linalg.generic {indexing_maps = [#p, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%pr, %val : memref<?x4x?x?xf32>, memref<?x?x4x40xf32>) outs(%out : memref<?x?x4x40xf32>) {
  ^bb0(%in: f32, %in_0: f32, %o: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// Tests that ops other than f32 contractions are left alone.
// CHECK-LABEL: func.func @sum_rows
// CHECK: linalg.generic
func.func @sum_rows(%x: memref<?x64xf32>, %y: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%y : memref<?xf32>) {
  ^bb0(%in: f32, %o: f32):
    %0 = arith.addf %o, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that a kiln.zero_init contraction starts its tiles from zeros in the
// first k block (k0 == 0) without loading C, and from C after it.
// CHECK-LABEL: func.func @zero_init
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK: scf.if %[[FIRST]] -> (vector<8xf32>
// CHECK: %[[Z:.+]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK: scf.yield %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]] :
// CHECK: } else {
// CHECK-COUNT-12: vector.load %arg2
// CHECK-NOT: kiln.zero_init
func.func @zero_init(%x: memref<?x64xf32>, %w: memref<32x64xf32>, %y: memref<?x32xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<32x64xf32>) outs(%y : memref<?x32xf32>) attrs = {kiln.zero_init} {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#n = affine_map<(m, n, k) -> (n)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that a kiln.bias_init contraction starts its 6x16 tiles from two
// vectors of the bias (shared by the 6 rows) in the first k block, without
// loading C, and from C after it; the 1x1 tiles of the columns past the
// last panel start from one bias element.
// CHECK-LABEL: func.func @bias_init
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK: scf.if %[[FIRST]] -> (vector<8xf32>
// CHECK-NEXT: %[[B0:.+]] = vector.load %arg2[%{{.+}}] : memref<40xf32>, vector<8xf32>
// CHECK: %[[B1:.+]] = vector.load %arg2[%{{.+}}] : memref<40xf32>, vector<8xf32>
// CHECK-NEXT: scf.yield %[[B0]], %[[B1]], %[[B0]], %[[B1]], %[[B0]], %[[B1]], %[[B0]], %[[B1]], %[[B0]], %[[B1]], %[[B0]], %[[B1]] :
// CHECK: } else {
// CHECK-COUNT-12: vector.load %arg3
// CHECK: %[[BIAS:.+]] = memref.load %arg2[%{{.+}}] : memref<40xf32>
// CHECK: arith.select %{{.+}}, %[[BIAS]], %{{.+}} : f32
// CHECK-NOT: kiln.bias_init
func.func @bias_init(%x: memref<?x64xf32>, %w: memref<40x64xf32>, %bias: memref<40xf32>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #n, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %bias : memref<?x64xf32>, memref<40x64xf32>, memref<40xf32>) outs(%y : memref<?x40xf32>) attrs = {kiln.bias_init} {
  ^bb0(%in: f32, %in_0: f32, %in_1: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#rows = affine_map<(m, n, k) -> (m)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that a kiln.epilogue contraction applies its epilogue (times a value
// per row, then tanh with a hoisted constant) to its 6x16 tiles only when
// it stores the last k block: the row's value broadcast, the constant
// splat, the ops on vectors; the rows' and columns' remainders on vectors
// of 1 and scalars; no linalg op or mark left.
// CHECK-LABEL: func.func @epilogue
// CHECK: %[[LAST:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK-NEXT: scf.if %[[LAST]] -> (vector<8xf32>
// CHECK: %[[ROW:.+]] = memref.load %arg2[%{{.+}}] : memref<?xf32>
// CHECK-NEXT: %[[SPLAT:.+]] = vector.broadcast %[[ROW]] : f32 to vector<8xf32>
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %{{.+}}, %[[SPLAT]] : vector<8xf32>
// CHECK-NEXT: %[[HALF:.+]] = arith.constant dense<5.000000e-01> : vector<8xf32>
// CHECK-NEXT: %[[H:.+]] = arith.mulf %[[SCALED]], %[[HALF]] : vector<8xf32>
// CHECK-NEXT: math.tanh %[[H]] : vector<8xf32>
// CHECK: } else {
// CHECK: vector.store
// CHECK: math.tanh %{{.+}} : f32
// CHECK-NOT: linalg.generic
// CHECK-NOT: kiln.epilogue
func.func @epilogue(%x: memref<?x64xf32>, %w: memref<40x64xf32>, %s: memref<?xf32>, %y: memref<?x40xf32>) {
  %half = arith.constant 0.5 : f32
  linalg.generic {indexing_maps = [#a, #b, #rows, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %s : memref<?x64xf32>, memref<40x64xf32>, memref<?xf32>) outs(%y : memref<?x40xf32>) attrs = {kiln.zero_init, kiln.epilogue} {
  ^bb0(%in: f32, %in_0: f32, %row: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    %2 = arith.mulf %1, %row : f32
    %3 = arith.mulf %2, %half : f32
    %4 = math.tanh %3 : f32
    linalg.yield %4 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#gate = affine_map<(m, n, k) -> (0, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests an epilogue whose inputs are a gate broadcast along the rows from a
// size-1 dim (index 0) and a residual of the output's shape: both vectors
// along n, the residual at the tile's row.
// CHECK-LABEL: func.func @gate_and_residual
// CHECK: scf.if %{{.+}} -> (vector<8xf32>
// CHECK: %[[G:.+]] = vector.load %arg2[%c0{{.*}}, %{{.+}}] : memref<1x48xf32>, vector<8xf32>
// CHECK-NEXT: %[[R:.+]] = vector.load %arg3[%{{.+}}, %{{.+}}] : memref<?x48xf32>, vector<8xf32>
// CHECK-NEXT: %[[T:.+]] = arith.mulf %[[G]], %{{.+}} : vector<8xf32>
// CHECK-NEXT: arith.addf %[[R]], %[[T]] : vector<8xf32>
// CHECK-NOT: linalg.generic
func.func @gate_and_residual(%x: memref<?x64xf32>, %w: memref<48x64xf32>, %g: memref<1x48xf32>, %res: memref<?x48xf32>, %y: memref<?x48xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #gate, #c, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %g, %res : memref<?x64xf32>, memref<48x64xf32>, memref<1x48xf32>, memref<?x48xf32>) outs(%y : memref<?x48xf32>) attrs = {kiln.zero_init, kiln.epilogue} {
  ^bb0(%in: f32, %in_0: f32, %gi: f32, %ri: f32, %out: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %out, %0 : f32
    %2 = arith.mulf %gi, %1 : f32
    %3 = arith.addf %ri, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#n = affine_map<(m, n, k) -> (n)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that a bf16 weight (kiln-narrow-weights) is loaded as bf16 and
// widened where the panels are packed (8 rows per transposed block, and the
// k values past the last multiple of 8 one by one), so the packed panels
// and the tiles stay f32; a bias_init contraction with a GELU-like epilogue
// still matches.
// CHECK-LABEL: func.func @bf16_weight
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<8x256x16xf32>
// CHECK-COUNT-8: vector.load %arg1[%{{.+}}, %{{.+}}] : memref<40x70xbf16>, vector<8xbf16>
// CHECK: arith.extf %{{.+}} : vector<8xbf16> to vector<8xf32>
// CHECK: memref.load %arg1[%{{.+}}, %{{.+}}] : memref<40x70xbf16>
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: vector.fma
// CHECK: math.tanh
// CHECK-NOT: linalg.generic
func.func @bf16_weight(%x: memref<?x70xf32>, %w: memref<40x70xbf16>, %bias: memref<40xf32>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #n, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w, %bias : memref<?x70xf32>, memref<40x70xbf16>, memref<40xf32>) outs(%y : memref<?x40xf32>) attrs = {kiln.bias_init, kiln.epilogue} {
  ^bb0(%in: f32, %wb: bf16, %bi: f32, %out: f32):
    %wf = arith.extf %wb : bf16 to f32
    %0 = arith.mulf %in, %wf : f32
    %1 = arith.addf %out, %0 : f32
    %2 = math.tanh %1 : f32
    linalg.yield %2 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that an e4m3 weight (kiln-quantize-fp8) takes the same packed path:
// loaded as f8E4M3FN vectors and widened while packing.
// CHECK-LABEL: func.func @fp8_weight
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<8x256x16xf32>
// CHECK: vector.load %arg1[%{{.+}}, %{{.+}}] : memref<32x64xf8E4M3FN>, vector<8xf8E4M3FN>
// CHECK: arith.extf %{{.+}} : vector<8xf8E4M3FN> to vector<8xf32>
// CHECK: vector.fma
// CHECK-NOT: linalg.generic
func.func @fp8_weight(%x: memref<?x64xf32>, %w: memref<32x64xf8E4M3FN>, %y: memref<?x32xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<32x64xf8E4M3FN>) outs(%y : memref<?x32xf32>) attrs = {kiln.zero_init} {
  ^bb0(%in: f32, %q: f8E4M3FN, %out: f32):
    %wf = arith.extf %q : f8E4M3FN to f32
    %0 = arith.mulf %in, %wf : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}
