// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer | FileCheck %s
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer | grep -c "kiln.modulate" | FileCheck %s --check-prefix=MODULATE
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer --emit=linalg | FileCheck %s --check-prefix=LINALG

// The tiny FLUX transformer (2 double-stream, 2 single-stream blocks, 2 heads
// of 16, RoPE axes 4+6+6, guidance on) imports as one `denoise` function
// with dynamic batch and sequence lengths.

// CHECK-LABEL: func.func @denoise(
// CHECK-SAME: tensor<?x?x64xf32> {kiln.input = "hidden_states"}
// CHECK-SAME: tensor<?x?x32xf32> {kiln.input = "encoder_hidden_states"}
// CHECK-SAME: tensor<?x32xf32> {kiln.input = "pooled_projections"}
// CHECK-SAME: tensor<?xf32> {kiln.input = "timestep"}
// CHECK-SAME: tensor<?xf32> {kiln.input = "guidance"}
// CHECK-SAME: tensor<?x3xf32> {kiln.input = "img_ids"}
// CHECK-SAME: tensor<?x3xf32> {kiln.input = "txt_ids"}
// CHECK-SAME: -> (tensor<?x?x64xf32> {kiln.output = "sample"})

// Timestep and guidance are scaled by 1000, then embedded sinusoidally.
// CHECK: arith.constant dense<1.000000e+03> : tensor<f32>
// CHECK: kiln.timestep_embedding {{.*}}{dim = 256 : i64, flip_sin_to_cos}
// CHECK: "transformer.time_text_embed.timestep_embedder.linear_1.weight"
// CHECK: kiln.timestep_embedding {{.*}}{dim = 256 : i64, flip_sin_to_cos}
// CHECK: "transformer.time_text_embed.guidance_embedder.linear_1.weight"
// CHECK: "transformer.time_text_embed.text_embedder.linear_1.weight"

// RoPE tables from [txt_ids; img_ids], computed once.
// CHECK: %[[IDS:.+]] = tensor.concat dim(0)
// CHECK: %[[COS:.+]], %[[SIN:.+]] = kiln.rope_frequencies %[[IDS]] {axes_dim = array<i64: 4, 6, 6>}

// Double-stream block 0: AdaLN-Zero modulation of both streams, QK RMS norm,
// RoPE, joint attention over [text; image].
// CHECK: "transformer.transformer_blocks.0.norm1.linear.weight" : tensor<192x32xf32>
// CHECK: "transformer.transformer_blocks.0.norm1_context.linear.weight" : tensor<192x32xf32>
// CHECK: kiln.modulate
// CHECK: kiln.modulate
// CHECK: "transformer.transformer_blocks.0.attn.norm_q.weight" : tensor<16xf32>
// CHECK: kiln.rms_norm
// CHECK: kiln.rope %{{.*}}, %[[COS]], %[[SIN]]
// CHECK: kiln.rope %{{.*}}, %[[COS]], %[[SIN]]
// CHECK: kiln.attention {{.*}} -> tensor<?x?x2x16xf32>
// CHECK: "transformer.transformer_blocks.0.attn.to_out.0.weight"
// CHECK: "transformer.transformer_blocks.0.attn.to_add_out.weight"
// CHECK: "transformer.transformer_blocks.0.ff.net.0.proj.weight"
// CHECK: kiln.gelu {{.*}}#kiln.gelu_approximation<tanh>
// CHECK: "transformer.transformer_blocks.0.ff_context.net.2.weight"
// CHECK: "transformer.transformer_blocks.1.norm1.linear.weight"
// CHECK-NOT: "transformer.transformer_blocks.2.

// Single-stream blocks on the joint sequence: parallel attention and MLP.
// CHECK: "transformer.single_transformer_blocks.0.norm.linear.weight" : tensor<96x32xf32>
// CHECK: "transformer.single_transformer_blocks.0.proj_mlp.weight"
// CHECK: kiln.attention
// CHECK: tensor.concat dim(2)
// CHECK: "transformer.single_transformer_blocks.0.proj_out.weight" : tensor<32x160xf32>
// CHECK: "transformer.single_transformer_blocks.1.norm.linear.weight"
// CHECK-NOT: "transformer.single_transformer_blocks.2.

// Output: AdaLayerNormContinuous, then the projection back to 64 channels.
// CHECK: "transformer.norm_out.linear.weight" : tensor<64x32xf32>
// CHECK: "transformer.proj_out.weight" : tensor<64x32xf32>
// CHECK: return

// 2 x 2 modulations per double block, 1 per single block, 1 at the output.
// MODULATE: {{^}}11{{$}}

// The whole function lowers (attention to the kernel op
// kiln.flash_attention, written `kiln.flash_attention ins(`); weights become
// tagged arguments.
// LINALG: func.func @denoise({{.*}}{kiln.weight = "transformer.x_embedder.weight"}
// LINALG-NOT: = kiln.{{[a-z_0-9]+}} %
