// RUN: kiln-opt --kiln-cpu-approximate-math %s | FileCheck %s

// Tests that exp, tanh and erf become polynomials (no libm call that would
// keep the loop around them scalar) and that sin stays as it is.
// CHECK-LABEL: func.func @gelu_softmax
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK: math.sin
func.func @gelu_softmax(%x: f32) -> (f32, f32, f32, f32) {
  %a = math.tanh %x : f32
  %b = math.exp %x : f32
  %c = math.erf %x : f32
  %d = math.sin %x : f32
  return %a, %b, %c, %d : f32, f32, f32, f32
}
