// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-contractions %s | FileCheck %s

#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// Tests that a linear (x @ W^T, both inputs contiguous along k) becomes
// k-, n- and m-blocked loops (m blocks of 96 rows, and inside them the n
// tiles outside the m tiles, so the 4 rows of B stay in L1) around a 3x4 tile
// of vector<8xf32> FMAs whose accumulators are loop-carried, unrolled by 2
// along k (16 per trip, then 8, then 1), reduced once per k block and added
// to C.
// CHECK-LABEL: func.func @linear
// CHECK: scf.for %[[B:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %[[C512:.+]] {
// CHECK: scf.for %[[N0:.+]] = %{{.+}} to %{{.+}} step %[[C128:.+]] {
// CHECK: scf.for %[[MB:.+]] = %{{.+}} to %{{.+}} step %[[C96:.+]] {
// CHECK: scf.for %[[N:.+]] = %[[N0]] to %{{.+}} step %[[C4:.+]] {
// CHECK: scf.for %[[M:.+]] = %[[MB]] to %{{.+}} step %[[C3:.+]] {
// CHECK: scf.for %[[K:.+]] = %[[K0]] to %{{.+}} step %[[C16:.+]] iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-3: vector.load %arg0[%[[B]], {{.+}}, %[[K]]] : memref<?x?x64xf32>, vector<8xf32>
// CHECK: vector.load %arg1[%[[N]], %[[K]]] : memref<32x64xf32>, vector<8xf32>
// CHECK-COUNT-3: vector.fma
// CHECK: %[[K8:.+]] = arith.addi %[[K]], %{{.+}} : index
// CHECK: vector.load %arg0[%[[B]], {{.+}}, %[[K8]]]
// CHECK: scf.for %{{.+}} step %{{.+}} iter_args({{.*}}) -> (vector<8xf32>
// CHECK: scf.for %{{.+}} iter_args({{.*}}) -> (vector<1xf32>
// CHECK: vector.reduction <add>, %{{.+}} fastmath<reassoc> : vector<8xf32> into f32
// CHECK: memref.load %arg2
// CHECK: arith.addf
// CHECK: memref.store
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

// Tests that P @ V (B and C contiguous along n) keeps a 6x16 tile of C in
// 12 vector registers, fed by broadcasts of P, and that columns past the
// last whole tile still use vectors of 8, then single columns.
// CHECK-LABEL: func.func @attention_values
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C6:.+]] {
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C16:.+]] {
// CHECK-COUNT-12: vector.load %arg2{{.*}} vector<8xf32>
// CHECK: scf.for {{.*}} -> (vector<8xf32>
// CHECK: vector.load %arg1{{.*}} vector<8xf32>
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
