// RUN: kiln-opt --split-input-file --canonicalize %s | FileCheck %s

// Tests that a static reshape to the same type folds away.
// CHECK-LABEL: @reshape_identity
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK-NOT: kiln.reshape
// CHECK: return %[[X]]
func.func @reshape_identity(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Tests that a dynamic reshape to the same type is kept: the shape may change.
// CHECK-LABEL: @reshape_dynamic_same_type
// CHECK: kiln.reshape %{{.*}} : tensor<?x8xf32> -> tensor<?x8xf32>
func.func @reshape_dynamic_same_type(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = kiln.reshape %x : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Tests that reshape of reshape becomes one reshape of the original input.
// CHECK-LABEL: @reshape_of_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<1x?x64xf32>)
// CHECK: %[[R:.+]] = kiln.reshape %[[X]] : tensor<1x?x64xf32> -> tensor<?x16xf32>
// CHECK-NOT: kiln.reshape
// CHECK: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<1x?x64xf32>) -> tensor<?x16xf32> {
  %0 = kiln.reshape %x : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
  %1 = kiln.reshape %0 : tensor<1x?x4x16xf32> -> tensor<?x16xf32>
  return %1 : tensor<?x16xf32>
}

// -----

// Tests that reshaping there and back again folds to the input.
// CHECK-LABEL: @reshape_round_trip
// CHECK-SAME: (%[[X:.+]]: tensor<2x24x64xf32>)
// CHECK-NOT: kiln.reshape
// CHECK: return %[[X]]
func.func @reshape_round_trip(%x: tensor<2x24x64xf32>) -> tensor<2x24x64xf32> {
  %0 = kiln.reshape %x : tensor<2x24x64xf32> -> tensor<2x24x4x16xf32>
  %1 = kiln.reshape %0 : tensor<2x24x4x16xf32> -> tensor<2x24x64xf32>
  return %1 : tensor<2x24x64xf32>
}

// -----

// Tests that an identity transpose folds away.
// CHECK-LABEL: @transpose_identity
// CHECK-SAME: (%[[X:.+]]: tensor<2x?x8xf32>)
// CHECK-NOT: kiln.transpose
// CHECK: return %[[X]]
func.func @transpose_identity(%x: tensor<2x?x8xf32>) -> tensor<2x?x8xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 0, 1, 2>} : (tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
  return %0 : tensor<2x?x8xf32>
}

// -----

// Tests that two transposes compose into one with the combined permutation.
// CHECK-LABEL: @transpose_of_transpose
// CHECK-SAME: (%[[X:.+]]: tensor<1x24x4x16xf32>)
// CHECK: %[[T:.+]] = kiln.transpose %[[X]] {permutation = array<i64: 2, 0, 1, 3>} : (tensor<1x24x4x16xf32>) -> tensor<4x1x24x16xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<1x24x4x16xf32>) -> tensor<4x1x24x16xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x24x4x16xf32>) -> tensor<1x4x24x16xf32>
  %1 = kiln.transpose %0 {permutation = array<i64: 1, 0, 2, 3>} : (tensor<1x4x24x16xf32>) -> tensor<4x1x24x16xf32>
  return %1 : tensor<4x1x24x16xf32>
}

// -----

// Tests that a transpose undone by its inverse disappears entirely.
// CHECK-LABEL: @transpose_inverse
// CHECK-SAME: (%[[X:.+]]: tensor<1x?x4x16xf32>)
// CHECK-NOT: kiln.transpose
// CHECK: return %[[X]]
func.func @transpose_inverse(%x: tensor<1x?x4x16xf32>) -> tensor<1x?x4x16xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x4x16xf32>) -> tensor<1x4x?x16xf32>
  %1 = kiln.transpose %0 {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x4x?x16xf32>) -> tensor<1x?x4x16xf32>
  return %1 : tensor<1x?x4x16xf32>
}
