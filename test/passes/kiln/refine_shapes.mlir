// RUN: kiln-opt --split-input-file --kiln-refine-shapes %s | FileCheck %s

// Tests that static operands tighten a chain of dynamic results, and that
// func.return keeps its declared type through a tensor.cast.
// CHECK-LABEL: @chain
// CHECK: %[[L:.+]] = kiln.linear %{{.*}}, %{{.*}} : (tensor<1x24x64xf32>, tensor<128x64xf32>) -> tensor<1x24x128xf32>
// CHECK: %[[G:.+]] = kiln.gelu %[[L]] : tensor<1x24x128xf32>
// CHECK: %[[N:.+]] = kiln.layer_norm %[[G]] : (tensor<1x24x128xf32>) -> tensor<1x24x128xf32>
// CHECK: %[[C:.+]] = tensor.cast %[[N]] : tensor<1x24x128xf32> to tensor<1x?x128xf32>
// CHECK: return %[[C]]
func.func @chain(%x: tensor<1x24x64xf32>, %w: tensor<128x64xf32>) -> tensor<1x?x128xf32> {
  %0 = kiln.linear %x, %w : (tensor<1x24x64xf32>, tensor<128x64xf32>) -> tensor<1x?x128xf32>
  %1 = kiln.gelu %0 : tensor<1x?x128xf32>
  %2 = kiln.layer_norm %1 : (tensor<1x?x128xf32>) -> tensor<1x?x128xf32>
  return %2 : tensor<1x?x128xf32>
}

// -----

// Tests that attention results learn the sequence length from the query.
// CHECK-LABEL: @attention
// CHECK: kiln.attention {{.*}} -> tensor<1x24x2x16xf32>
func.func @attention(%q: tensor<1x24x2x16xf32>, %k: tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32> {
  %0 = kiln.attention %q, %k, %k : (tensor<1x24x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32>
  return %0 : tensor<1x?x2x16xf32>
}

// -----

// Tests that results already as static as inference can make them are untouched.
// CHECK-LABEL: @already_tight
// CHECK-NOT: tensor.cast
// CHECK: kiln.linear %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
func.func @already_tight(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) -> tensor<?x128xf32> {
  %0 = kiln.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}
