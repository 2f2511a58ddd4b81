// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-contractions="lanes=16 rows=12" %s | FileCheck %s
// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-contractions="lanes=16 rows=12 bf16-dot=true" %s | FileCheck %s --check-prefix=DOT
// RUN: kiln-opt --split-input-file --kiln-cpu-vectorize-contractions="lanes=16 rows=12 bf16-dot=true amx=true" %s | FileCheck %s --check-prefix=AMX
// RUN: not kiln-opt --split-input-file --kiln-cpu-vectorize-contractions="lanes=12" %s 2>&1 | FileCheck %s --check-prefix=BAD

// The AVX-512 levels' options (compiler/target/cpu/CpuCodegen.cpp).
// BAD: lanes must be 8 or 16 (16 with bf16-dot), amx needs bf16-dot, and rows divide 96 (got lanes=12, rows=6)

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that 16 lanes and 12 rows make panels of 32 columns and 12x32
// register tiles (24 zmm accumulators), with the rows past the last
// 12-row tile in tiles of 6, 4, 2 and 1; an f32 weight keeps f32 FMAs even
// with bf16-dot.
// CHECK-LABEL: func.func @f32_weight
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<4x256x32xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c12
// CHECK-COUNT-24: vector.load %arg2{{.*}} vector<16xf32>
// CHECK: iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c6
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c4
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c2
// CHECK-NOT: linalg.generic
// DOT-LABEL: func.func @f32_weight
// DOT-NOT: x86vector
// DOT: vector.fma {{.*}} : vector<16xf32>
// DOT-NOT: x86vector
// DOT-LABEL: return
func.func @f32_weight(%x: memref<?x64xf32>, %w: memref<64x64xf32>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<64x64xf32>) outs(%y : memref<?x64xf32>) attrs = {kiln.zero_init} {
  ^bb0(%in: f32, %wf: f32, %out: f32):
    %0 = arith.mulf %in, %wf : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that with bf16-dot a bf16 weight is packed as bf16 pairs along k
// (8 rows of 16 bf16 = 8 pairs, transposed as i32; the pairs past the last
// multiple of 8 and an odd k's last value one by one), the rows of x as
// pairs rounded by vcvtneps2bf16 once per m block, and the 12x32 tiles
// accumulate with vdpbf16ps: 2 loads of the panel, a broadcast pair per
// row, 2 dots per row, 2 pairs per trip.
// DOT-LABEL: func.func @bf16_weight
// DOT: %[[PACKBYTES:.+]] = memref.alloca() {alignment = 64 : i64} : memref<65536xi8>
// DOT: %[[PACK:.+]] = memref.view %[[PACKBYTES]][%{{.+}}][] : memref<65536xi8> to memref<4x128x32xi32>
// DOT: memref.view %[[PACKBYTES]][%{{.+}}][] : memref<65536xi8> to memref<4x128x64xbf16>
// DOT: %[[ABYTES:.+]] = memref.alloca() {alignment = 64 : i64} : memref<49152xi8>
// DOT: %[[APACK:.+]] = memref.view %[[ABYTES]][%{{.+}}][] : memref<49152xi8> to memref<96x128xi32>
// DOT-COUNT-8: vector.load %arg1[%{{.+}}, %{{.+}}] : memref<64x71xbf16>, vector<16xbf16>
// DOT: vector.bitcast %{{.+}} : vector<16xbf16> to vector<8xi32>
// DOT: vector.shuffle
// DOT: vector.store %{{.+}}, %[[PACK]]{{.*}} : memref<4x128x32xi32>, vector<8xi32>
// DOT: memref.load %arg1{{.*}} : memref<64x71xbf16>
// DOT: arith.ori
// DOT: memref.store %{{.+}}, %[[PACK]]
// DOT: scf.if
// DOT: x86vector.avx512.cvt.packed.f32_to_bf16 %{{.+}} : vector<16xf32> -> vector<16xbf16>
// DOT: vector.store %{{.+}}, %[[APACK]]{{.*}} : memref<96x128xi32>, vector<8xi32>
// DOT: arith.cmpf uno
// DOT: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c2{{.*}} iter_args(
// DOT-COUNT-2: vector.load %[[PACK]]{{.*}} : memref<4x128x32xi32>, vector<16xi32>
// DOT: memref.load %[[APACK]]
// DOT: vector.broadcast %{{.+}} : i32 to vector<16xi32>
// DOT: vector.bitcast %{{.+}} : vector<16xi32> to vector<32xbf16>
// DOT-COUNT-2: x86vector.avx512.dot %{{.+}}, %{{.+}}, %{{.+}} : vector<32xbf16> -> vector<16xf32>
// DOT-NOT: vector.fma
// DOT: scf.yield
// DOT-NOT: linalg.generic
func.func @bf16_weight(%x: memref<?x71xf32>, %w: memref<64x71xbf16>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x71xf32>, memref<64x71xbf16>) outs(%y : memref<?x64xf32>) attrs = {kiln.zero_init} {
  ^bb0(%in: f32, %wb: bf16, %out: f32):
    %wf = arith.extf %wb : bf16 to f32
    %0 = arith.mulf %in, %wf : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Tests that an e4m3 weight becomes bf16 pairs exactly: widened to f32 and
// its upper 16 bits kept.
// DOT-LABEL: func.func @fp8_weight
// DOT: vector.load %arg1[%{{.+}}, %{{.+}}] : memref<64x64xf8E4M3FN>, vector<16xf8E4M3FN>
// DOT: arith.extf %{{.+}} : vector<16xf8E4M3FN> to vector<16xf32>
// DOT: arith.shrui
// DOT: arith.trunci %{{.+}} : vector<16xi32> to vector<16xi16>
// DOT: x86vector.avx512.dot
func.func @fp8_weight(%x: memref<?x64xf32>, %w: memref<64x64xf8E4M3FN>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<64x64xf8E4M3FN>) outs(%y : memref<?x64xf32>) attrs = {kiln.zero_init} {
  ^bb0(%in: f32, %q: f8E4M3FN, %out: f32):
    %wf = arith.extf %q : f8E4M3FN to f32
    %0 = arith.mulf %in, %wf : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// Tests that with amx the bf16 weight's 16-row tiles run on AMX (for a
// whole k block of 256 a straight line of 8 steps (one A tile of pairs, two
// panel tiles, two tdpbf16ps each) into two 16x16 accumulators stored to a
// 16x32 scratch, else a loop through the scratch; then per row the start,
// the scratch row, vdpbf16ps for the pairs left and the store. f32 weights
// keep their 12-row FMA tiles).
// AMX-LABEL: func.func @f32_weight
// AMX-NOT: amx.
// AMX: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c12
// AMX-LABEL: func.func @bf16_weight
// AMX: %[[SCRATCH:.+]] = memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// AMX: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c16
// AMX: scf.if
// AMX-COUNT-2: amx.tile_zero : !amx.tile<16x16xf32>
// AMX: amx.tile_load %{{.+}}[%{{.+}}, %{{.+}}] : memref<96x256xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<4x128x64xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_mulf %{{.+}}, %{{.+}}, %{{.+}} : !amx.tile<16x32xbf16>, !amx.tile<16x32xbf16>, !amx.tile<16x16xf32>
// AMX-COUNT-15: amx.tile_mulf
// AMX-NOT: amx.tile_mulf
// AMX: amx.tile_store %[[SCRATCH]]
// AMX: amx.tile_store %[[SCRATCH]]
// AMX: } else {
// AMX: scf.for
// AMX: amx.tile_load %[[SCRATCH]]
// AMX: amx.tile_mulf
// AMX: amx.tile_store %[[SCRATCH]]
// AMX: vector.load %[[SCRATCH]]
// AMX: x86vector.avx512.dot
