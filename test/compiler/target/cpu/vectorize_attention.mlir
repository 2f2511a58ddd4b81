// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-attention %s | FileCheck %s
// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-attention=lanes=16 %s | FileCheck %s --check-prefix=WIDE
// RUN: not kiln-opt --split-input-file --kiln-cpu-vectorize-attention=lanes=4 %s 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: kiln-cpu-vectorize-attention: lanes must be 8 or 16 (got 4)

// Tests FlashAttention's loop nest: a [head_dim][64] key panel, 6x64 scores
// and two rows of 192 floats on the stack; per (batch, head) blocks of 192
// query rows; per block of 64 keys the panel packed, then tiles of 6 rows
// (one row at a time after the last whole tile) whose scores come from
// 12 accumulators fed by 2 panel loads and 6 broadcasts of q per d, are
// scaled, masked at the block's tail (and by causality), and stored; the
// online softmax per row (block maximum, rescaling factor, exponentials,
// sum), and 6x16 output tiles rescaled and accumulated in registers.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[PANEL:.+]] = memref.alloca(%{{.+}}) : memref<?x64xf32>
// CHECK-DAG: %[[SCORES:.+]] = memref.alloca() : memref<6x64xf32>
// CHECK-DAG: %[[MAX:.+]] = memref.alloca() : memref<192xf32>
// CHECK-DAG: %[[SUM:.+]] = memref.alloca() : memref<192xf32>
// CHECK: scf.for %[[B:.+]] =
// CHECK: scf.for %[[H:.+]] =
// CHECK: scf.for %[[I0:.+]] = %{{.+}} to %{{.+}} step %[[C192:.+]] {
// CHECK: scf.for %[[J0:.+]] = %{{.+}} to %{{.+}} step %[[C64:.+]] {
// CHECK: memref.store %{{.+}}, %[[PANEL]]
// CHECK: scf.for %[[R0:.+]] = %{{.+}} to %{{.+}} step %[[C6:.+]] {
// CHECK: scf.for %{{.+}} iter_args({{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-2: vector.load %[[PANEL]]
// CHECK-COUNT-12: vector.fma
// CHECK: vector.create_mask
// CHECK: arith.select
// CHECK: vector.store %{{.+}}, %[[SCORES]]
// CHECK: vector.reduction <maxnumf>
// CHECK: math.exp
// CHECK: math.exp {{.+}} : vector<8xf32>
// CHECK: vector.reduction <add>
// CHECK: memref.store %{{.+}}, %[[MAX]]
// CHECK: memref.store %{{.+}}, %[[SUM]]
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-2: vector.load %arg2
// CHECK: memref.load %[[SCORES]]
// CHECK: vector.fma
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: arith.divf
// CHECK-NOT: kiln.flash_attention
// With 16 lanes (AVX-512): 6 x 32 score tiles from zmm vectors, and the
// 16 values per head in one vector of 16 (no pair of vectors fits).
// WIDE-LABEL: func.func @attention
// WIDE: scf.for %{{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// WIDE-COUNT-12: vector.fma {{.*}} : vector<16xf32>
// WIDE: math.exp {{.+}} : vector<16xf32>
// WIDE: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// WIDE: arith.divf
func.func @attention(%q: memref<1x?x2x16xf32>, %k: memref<1x?x2x16xf32>, %v: memref<1x?x2x16xf32>, %o: memref<1x?x2x16xf32>) {
  kiln.flash_attention ins(%q, %k, %v : memref<1x?x2x16xf32>, memref<1x?x2x16xf32>, memref<1x?x2x16xf32>) outs(%o : memref<1x?x2x16xf32>) {scale = 0.25 : f64}
  return
}

// -----

// Tests that a mask is read with masked loads (the block's tail is not read)
// and added to the scaled scores.
// CHECK-LABEL: func.func @masked
// CHECK: vector.maskedload %arg2
// CHECK: arith.addf
// CHECK-NOT: kiln.flash_attention
func.func @masked(%q: memref<1x?x2x16xf32>, %o: memref<1x?x2x16xf32>, %m: memref<1x2x?x?xf32>) {
  kiln.flash_attention ins(%q, %q, %q : memref<1x?x2x16xf32>, memref<1x?x2x16xf32>, memref<1x?x2x16xf32>) mask(%m : memref<1x2x?x?xf32>) outs(%o : memref<1x?x2x16xf32>) {scale = 1.0 : f64}
  return
}

// -----

// Tests that operands not contiguous along their last dimension take the
// scalar reference loops.
// CHECK-LABEL: func.func @strided
// CHECK-NOT: vector.fma
// CHECK: math.fma
// CHECK-NOT: kiln.flash_attention
func.func @strided(%q: memref<1x4x2x16xf32, strided<[256, 64, 32, 2]>>, %o: memref<1x4x2x16xf32>) {
  kiln.flash_attention ins(%q, %q, %q : memref<1x4x2x16xf32, strided<[256, 64, 32, 2]>>, memref<1x4x2x16xf32, strided<[256, 64, 32, 2]>>, memref<1x4x2x16xf32, strided<[256, 64, 32, 2]>>) outs(%o : memref<1x4x2x16xf32>) {scale = 0.25 : f64}
  return
}
