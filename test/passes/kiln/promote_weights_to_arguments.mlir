// RUN: kiln-opt --split-input-file --kiln-promote-weights-to-arguments --verify-diagnostics %s | FileCheck %s

// Tests that each distinct weight becomes one tagged trailing argument, in first-use order.
// CHECK-LABEL: func.func @two_weights
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>, %[[W:.+]]: tensor<8x64xf32> {kiln.weight = "proj.weight"}, %[[B:.+]]: tensor<8xf32> {kiln.weight = "proj.bias"})
// CHECK-NOT: kiln.weight "
// CHECK: kiln.linear %[[X]], %[[W]], %[[B]]
// CHECK: kiln.linear %[[X]], %[[W]] :
func.func @two_weights(%x: tensor<?x64xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %w = kiln.weight "proj.weight" : tensor<8x64xf32>
  %b = kiln.weight "proj.bias" : tensor<8xf32>
  %0 = kiln.linear %x, %w, %b : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %w2 = kiln.weight "proj.weight" : tensor<8x64xf32>
  %1 = kiln.linear %x, %w2 : (tensor<?x64xf32>, tensor<8x64xf32>) -> tensor<?x8xf32>
  return %0, %1 : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Tests that a function without weights keeps its signature.
// CHECK-LABEL: func.func @no_weights
// CHECK-SAME: (%{{.*}}: tensor<4xf32>) -> tensor<4xf32>
func.func @no_weights(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.silu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that one name used with two types is an error, not two arguments.
func.func @conflicting_types() -> (tensor<4xf32>, tensor<2x2xf32>) {
  %a = kiln.weight "w" : tensor<4xf32>
  // expected-error @+1 {{weight 'w' is used with two types: 'tensor<4xf32>' and 'tensor<2x2xf32>'}}
  %b = kiln.weight "w" : tensor<2x2xf32>
  return %a, %b : tensor<4xf32>, tensor<2x2xf32>
}
