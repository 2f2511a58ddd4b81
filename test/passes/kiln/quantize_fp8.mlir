// RUN: kiln-opt --split-input-file --kiln-quantize-fp8=report=true %s 2>%t.report | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.report
// RUN: kiln-opt --split-input-file "--kiln-quantize-fp8=keep=none" %s | FileCheck %s --check-prefix=ALL
// RUN: kiln-opt --split-input-file "--kiln-quantize-fp8=component=vae" %s | FileCheck %s --check-prefix=NONE

// Tests that a block's linear weight becomes an e4m3 weight of the same
// name plus per-output-channel scales, dequantized for the linear, while the
// default policy keeps the final proj_out (but not a block's proj_out; a
// block's modulation linear is quantized too), and a weight used twice is
// left alone.
// CHECK-LABEL: func.func @block
// CHECK-DAG: %[[Q:.+]] = kiln.weight "transformer.blocks.0.ff.weight" : tensor<16x8xf8E4M3FN>
// CHECK-DAG: %[[S:.+]] = kiln.weight "transformer.blocks.0.ff.weight#e4m3_scale" : tensor<16xf32>
// CHECK: %[[W:.+]] = kiln.dequantize %[[Q]], %[[S]] : (tensor<16x8xf8E4M3FN>, tensor<16xf32>) -> tensor<16x8xf32>
// CHECK: kiln.linear %{{.+}}, %[[W]]
// CHECK-DAG: kiln.weight "transformer.blocks.0.norm1.linear.weight" : tensor<16x8xf8E4M3FN>
// CHECK-DAG: kiln.weight "transformer.single_blocks.0.proj_out.weight" : tensor<8x16xf8E4M3FN>
// CHECK-DAG: kiln.weight "transformer.proj_out.weight" : tensor<8x16xf32>
// CHECK-DAG: kiln.weight "transformer.shared.weight" : tensor<8x8xf32>
// REPORT: kiln-quantize-fp8: quantized transformer.blocks.0.ff.weight [16 x 8]
// REPORT: kiln-quantize-fp8: quantized transformer.blocks.0.norm1.linear.weight [16 x 8]
// REPORT: kiln-quantize-fp8: quantized transformer.single_blocks.0.proj_out.weight [8 x 16]
// REPORT: kiln-quantize-fp8: kept transformer.proj_out.weight (policy: '^[^.]+\.proj_out\.')
// REPORT: kiln-quantize-fp8: kept transformer.shared.weight (not a 2-d f32 weight used by this linear only)
// REPORT: kiln-quantize-fp8: 3 linears to e4m3 (1536 bytes of f32 -> 544 with scales), 1 kept by the policy
// With keep=none everything but the shared weight is quantized.
// ALL-LABEL: func.func @block
// ALL-DAG: kiln.weight "transformer.proj_out.weight" : tensor<8x16xf8E4M3FN>
// ALL-DAG: kiln.weight "transformer.shared.weight" : tensor<8x8xf32>
// Another component: nothing changes.
// NONE-NOT: kiln.dequantize
func.func @block(%x: tensor<?x8xf32>, %h: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %ff = kiln.weight "transformer.blocks.0.ff.weight" : tensor<16x8xf32>
  %y0 = kiln.linear %x, %ff : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %mod = kiln.weight "transformer.blocks.0.norm1.linear.weight" : tensor<16x8xf32>
  %y1 = kiln.linear %x, %mod : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %sp = kiln.weight "transformer.single_blocks.0.proj_out.weight" : tensor<8x16xf32>
  %y2 = kiln.linear %h, %sp : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %po = kiln.weight "transformer.proj_out.weight" : tensor<8x16xf32>
  %y3 = kiln.linear %h, %po : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %sh = kiln.weight "transformer.shared.weight" : tensor<8x8xf32>
  %y4 = kiln.linear %x, %sh : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %y5 = kiln.linear %y4, %sh : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  return %y0, %y1, %y2, %y3, %y4, %y5 : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}

// kiln-compile's --weights=fp8-e4m3 runs the pass on the imported model
// with -v as its report; --fp8-keep replaces the policy.
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer --weights=fp8-e4m3 -v --emit=linalg -o /dev/null 2>&1 | FileCheck %s --check-prefix=COMPILE
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer --weights=fp8-e4m3 --fp8-keep=none -v --emit=linalg -o /dev/null 2>&1 | FileCheck %s --check-prefix=KEEPNONE
// COMPILE: kiln-quantize-fp8: kept transformer.x_embedder.weight (policy: 'x_embedder')
// COMPILE: kiln-quantize-fp8: quantized transformer.transformer_blocks.0.norm1.linear.weight
// COMPILE: kiln-quantize-fp8: 40 linears to e4m3 ({{.+}}), 10 kept by the policy
// KEEPNONE: kiln-quantize-fp8: 50 linears to e4m3 ({{.+}}), 0 kept by the policy
