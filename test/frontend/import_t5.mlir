// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder_2 | FileCheck %s
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder_2 | grep -c "relative_attention_bias" | FileCheck %s --check-prefix=ONEBIAS
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder_2 --emit=linalg | FileCheck %s --check-prefix=LINALG

// Only the gated feed-forward is built (there is no ReLU op); the key is named.
// RUN: rm -rf %t && mkdir -p %t && cp -r %kiln_src_root/test/goldens/tiny-flux %t/relu
// RUN: sed -i 's/"feed_forward_proj": "gated-gelu"/"feed_forward_proj": "relu"/' %t/relu/text_encoder_2/config.json
// RUN: not kiln-compile %t/relu --component=text_encoder_2 2>&1 | FileCheck %s --check-prefix=RELU

// The tiny T5 encoder (2 blocks, 4 heads of d_kv 8, gated-gelu, 32 buckets)
// imports as `t5_text_encoder` with dynamic batch and sequence length.

// CHECK-LABEL: func.func @t5_text_encoder(
// CHECK-SAME: %[[IDS:.+]]: tensor<?x?xi64> {kiln.input = "input_ids"}
// CHECK-SAME: -> (tensor<?x?x32xf32> {kiln.output = "last_hidden_state"})

// The tied embedding is read from `shared.weight`.
// CHECK: %[[TABLE:.+]] = kiln.weight "text_encoder_2.shared.weight" : tensor<400x32xf32>
// CHECK: kiln.embedding %[[TABLE]], %[[IDS]]

// The relative position bias, computed once from block 0's table:
// bidirectional buckets of the L x L grid, per-head lookup, [1, H, L, L].
// CHECK: %[[L:.+]] = tensor.dim %[[IDS]], %c1
// CHECK: %[[BUCKETS:.+]] = kiln.relative_position_buckets %[[L]], %[[L]] {bidirectional, max_distance = 128 : i64, num_buckets = 32 : i64} : tensor<?x?xi64>
// CHECK: %[[BIASTABLE:.+]] = kiln.weight "text_encoder_2.encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight" : tensor<32x4xf32>
// CHECK: %[[LOOKUP:.+]] = kiln.embedding %[[BIASTABLE]], %[[BUCKETS]] : {{.*}} -> tensor<?x?x4xf32>
// CHECK: %[[PERHEAD:.+]] = kiln.transpose %[[LOOKUP]] {permutation = array<i64: 2, 0, 1>} : {{.*}} -> tensor<4x?x?xf32>
// CHECK: %[[BIAS:.+]] = tensor.expand_shape %[[PERHEAD]] {{.*}} into tensor<1x4x?x?xf32>

// Block 0: RMS norm (no bias, default epsilon 1e-6), unscaled attention with
// the bias as its additive mask, gated tanh-GELU feed-forward.
// CHECK: "text_encoder_2.encoder.block.0.layer.0.layer_norm.weight"
// CHECK: kiln.rms_norm %{{[^ ]+}} scale %{{[^ ]+}} :
// CHECK: "text_encoder_2.encoder.block.0.layer.0.SelfAttention.q.weight"
// CHECK: kiln.attention {{.*}} mask %[[BIAS]] {scale = 1.000000e+00 : f32} : {{.*}} -> tensor<?x?x4x8xf32>
// CHECK: "text_encoder_2.encoder.block.0.layer.0.SelfAttention.o.weight"
// CHECK: kiln.add
// CHECK: "text_encoder_2.encoder.block.0.layer.1.layer_norm.weight"
// CHECK: "text_encoder_2.encoder.block.0.layer.1.DenseReluDense.wi_0.weight"
// CHECK: %[[GATE:.+]] = kiln.gelu {{.*}}#kiln.gelu_approximation<tanh>
// CHECK: "text_encoder_2.encoder.block.0.layer.1.DenseReluDense.wi_1.weight"
// CHECK: %[[UP:.+]] = kiln.linear
// CHECK: kiln.mul %[[GATE]], %[[UP]]
// CHECK: "text_encoder_2.encoder.block.0.layer.1.DenseReluDense.wo.weight"
// CHECK: kiln.add

// Block 1 reuses the same bias.
// CHECK: "text_encoder_2.encoder.block.1.layer.0.layer_norm.weight"
// CHECK: kiln.attention {{.*}} mask %[[BIAS]] {scale = 1.000000e+00 : f32}
// CHECK-NOT: "text_encoder_2.encoder.block.2.

// Final RMS norm is the output.
// CHECK: "text_encoder_2.encoder.final_layer_norm.weight"
// CHECK: %[[OUT:.+]] = kiln.rms_norm
// CHECK: return %[[OUT]]

// The bias table is read once.
// ONEBIAS: {{^}}1{{$}}

// The whole function lowers (attention to the kernel op
// kiln.flash_attention, written `kiln.flash_attention ins(`); weights become
// tagged arguments.
// LINALG: func.func @t5_text_encoder({{.*}}{kiln.weight = "text_encoder_2.shared.weight"}
// LINALG-NOT: = kiln.{{[a-z_0-9]+}} %

// RELU: text_encoder_2/config.json: key 'feed_forward_proj' has unsupported value "relu"
