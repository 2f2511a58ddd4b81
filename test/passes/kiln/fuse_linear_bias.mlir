// RUN: kiln-opt --split-input-file --kiln-fuse-linear-bias %s | FileCheck %s

// Tests that a bias add after a bias-free linear becomes the linear's bias.
// CHECK-LABEL: @linear_then_bias
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>, %[[W:.+]]: tensor<128x64xf32>, %[[B:.+]]: tensor<128xf32>)
// CHECK: %[[Y:.+]] = kiln.linear %[[X]], %[[W]], %[[B]] : (tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<?x128xf32>
// CHECK-NOT: kiln.add
// CHECK: return %[[Y]]
func.func @linear_then_bias(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<?x128xf32> {
  %0 = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %1 = kiln.add %0, %b : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  return %1 : tensor<?x128xf32>
}

// -----

// Tests that the bias may be the add's first operand.
// CHECK-LABEL: @bias_then_linear
// CHECK: kiln.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<2x128xf32>
// CHECK-NOT: kiln.add
func.func @bias_then_linear(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<2x128xf32> {
  %0 = kiln.linear %x, %w : (tensor<2x64xf32>, tensor<128x64xf32>) -> tensor<2x128xf32>
  %1 = kiln.add %b, %0 : (tensor<128xf32>, tensor<2x128xf32>) -> tensor<2x128xf32>
  return %1 : tensor<2x128xf32>
}

// -----

// Tests that a linear with another user is left alone: fusing would compute it twice.
// CHECK-LABEL: @linear_with_two_users
// CHECK: kiln.linear %{{.*}}, %{{.*}} :
// CHECK: kiln.add
func.func @linear_with_two_users(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> (tensor<2x128xf32>, tensor<2x128xf32>) {
  %0 = kiln.linear %x, %w : (tensor<2x64xf32>, tensor<128x64xf32>) -> tensor<2x128xf32>
  %1 = kiln.add %0, %b : (tensor<2x128xf32>, tensor<128xf32>) -> tensor<2x128xf32>
  return %0, %1 : tensor<2x128xf32>, tensor<2x128xf32>
}

// -----

// Tests that a residual add (not a [out_features] vector) is not a bias.
// CHECK-LABEL: @residual_is_not_bias
// CHECK: kiln.linear %{{.*}}, %{{.*}} :
// CHECK: kiln.add
func.func @residual_is_not_bias(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>, %r: tensor<2x128xf32>) -> tensor<2x128xf32> {
  %0 = kiln.linear %x, %w : (tensor<2x64xf32>, tensor<128x64xf32>) -> tensor<2x128xf32>
  %1 = kiln.add %0, %r : (tensor<2x128xf32>, tensor<2x128xf32>) -> tensor<2x128xf32>
  return %1 : tensor<2x128xf32>
}

// -----

// Tests that a linear which already has a bias keeps the separate add.
// CHECK-LABEL: @linear_with_bias
// CHECK: kiln.linear %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK: kiln.add
func.func @linear_with_bias(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<2x128xf32> {
  %0 = kiln.linear %x, %w, %b : (tensor<2x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<2x128xf32>
  %1 = kiln.add %0, %b : (tensor<2x128xf32>, tensor<128xf32>) -> tensor<2x128xf32>
  return %1 : tensor<2x128xf32>
}
