// RUN: kiln-opt --split-input-file %s | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt --split-input-file --mlir-print-op-generic %s | kiln-opt --split-input-file | FileCheck %s

// Round trip of the ops the lowering and the weight formats add:
// kiln.flash_attention on tensors (with a result) and on
// memrefs (none), with a broadcast mask and causality.

// CHECK-LABEL: @on_tensors
// CHECK: %{{.+}} = kiln.flash_attention ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x8xf32>) outs(%{{.+}} : tensor<1x?x2x8xf32>) {scale = 2.500000e-01 : f64} -> tensor<1x?x2x8xf32>
func.func @on_tensors(%q: tensor<1x?x2x16xf32>, %k: tensor<1x?x2x16xf32>, %v: tensor<1x?x2x8xf32>, %o: tensor<1x?x2x8xf32>) -> tensor<1x?x2x8xf32> {
  %0 = kiln.flash_attention ins(%q, %k, %v : tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x2x8xf32>) outs(%o : tensor<1x?x2x8xf32>) {scale = 0.25 : f64} -> tensor<1x?x2x8xf32>
  return %0 : tensor<1x?x2x8xf32>
}

// -----

// CHECK-LABEL: @on_memrefs
// CHECK: kiln.flash_attention ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<2x5x3x4xf32>, memref<2x7x3x4xf32>, memref<2x7x3x4xf32>) mask(%{{.+}} : memref<1x3x1x7xf32>) outs(%{{.+}} : memref<2x5x3x4xf32>) {causal, scale = 1.000000e+00 : f64}
// CHECK-NOT: ->
func.func @on_memrefs(%q: memref<2x5x3x4xf32>, %k: memref<2x7x3x4xf32>, %m: memref<1x3x1x7xf32>, %o: memref<2x5x3x4xf32>) {
  kiln.flash_attention ins(%q, %k, %k : memref<2x5x3x4xf32>, memref<2x7x3x4xf32>, memref<2x7x3x4xf32>) mask(%m : memref<1x3x1x7xf32>) outs(%o : memref<2x5x3x4xf32>) {causal, scale = 1.0 : f64}
  return
}

// -----

// Round trip of kiln.dequantize (a kernel-facing weight format op).
// CHECK-LABEL: @dequantize
// CHECK: kiln.dequantize %{{.+}}, %{{.+}} : (tensor<8x4xf8E4M3FN>, tensor<8xf32>) -> tensor<8x4xf32>
func.func @dequantize(%q: tensor<8x4xf8E4M3FN>, %s: tensor<8xf32>) -> tensor<8x4xf32> {
  %0 = kiln.dequantize %q, %s : (tensor<8x4xf8E4M3FN>, tensor<8xf32>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}
