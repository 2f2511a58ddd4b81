// RUN: kiln-opt --kiln-expand-fp8 %s | FileCheck %s
// RUN: kiln-opt --kiln-expand-fp8 --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts %s | FileCheck %s --check-prefix=LLVM

// Tests that an e4m3 -> f32 extension (vector and scalar) becomes integer
// operations: the bits widened to i32, normals by shifting the exponent
// (rebiased by 120) and the mantissa, subnormals as mantissa * 2^-9, NaN
// selected, the sign or-ed in; an f64 result is extended from f32, a bf16
// one truncated (exactly). The
// result lowers to LLVM (no FP8 type left).
// CHECK-LABEL: func.func @widen
// CHECK-DAG: arith.constant dense<120> : vector<8xi32>
// CHECK-DAG: arith.constant dense<0.001953125> : vector<8xf32>
// CHECK: %[[BITS:.+]] = arith.bitcast %{{.+}} : vector<8xf8E4M3FN> to vector<8xi8>
// CHECK: arith.extui %[[BITS]] : vector<8xi8> to vector<8xi32>
// CHECK: arith.uitofp
// CHECK: arith.select
// CHECK: arith.bitcast %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: arith.bitcast %{{.+}} : f8E4M3FN to i8
// CHECK: arith.extf %{{.+}} : f32 to f64
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK-NOT: arith.extf %{{.+}} : {{.*}}f8E4M3FN
// LLVM-NOT: f8E4M3FN
func.func @widen(%v: vector<8xf8E4M3FN>, %s: f8E4M3FN) -> (vector<8xf32>, f64, bf16) {
  %0 = arith.extf %v : vector<8xf8E4M3FN> to vector<8xf32>
  %1 = arith.extf %s : f8E4M3FN to f64
  %2 = arith.extf %s : f8E4M3FN to bf16
  return %0, %1, %2 : vector<8xf32>, f64, bf16
}
