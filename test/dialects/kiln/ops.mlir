// RUN: kiln-opt --split-input-file %s | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt --split-input-file --mlir-print-op-generic %s | kiln-opt --split-input-file | FileCheck %s

// Round trip of every kiln op, each with static and with dynamic shapes.

// Tests that a weight keeps its name and static type.
// CHECK-LABEL: @weight
// CHECK: kiln.weight "transformer.x_embedder.weight" : tensor<3072x64xf32>
// CHECK: kiln.weight "vae.conv_in.weight" : tensor<8x3x3x3xbf16>
func.func @weight() -> (tensor<3072x64xf32>, tensor<8x3x3x3xbf16>) {
  %0 = kiln.weight "transformer.x_embedder.weight" : tensor<3072x64xf32>
  %1 = kiln.weight "vae.conv_in.weight" : tensor<8x3x3x3xbf16>
  return %0, %1 : tensor<3072x64xf32>, tensor<8x3x3x3xbf16>
}

// -----

// Tests linear with and without bias, static and dynamic leading dims.
// CHECK-LABEL: @linear
// CHECK: kiln.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x24x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<2x24x128xf32>
// CHECK: kiln.linear %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<128x64xf32>) -> tensor<?x?x128xf32>
func.func @linear(%x: tensor<2x24x64xf32>, %d: tensor<?x?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> (tensor<2x24x128xf32>, tensor<?x?x128xf32>) {
  %0 = kiln.linear %x, %w, %b : (tensor<2x24x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<2x24x128xf32>
  %1 = kiln.linear %d, %w : (tensor<?x?x64xf32>, tensor<128x64xf32>) -> tensor<?x?x128xf32>
  return %0, %1 : tensor<2x24x128xf32>, tensor<?x?x128xf32>
}

// -----

// Tests attention with a dynamic sequence, a mask, a scale and causality.
// CHECK-LABEL: @attention
// CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x24x2x16xf32>, tensor<1x24x2x16xf32>, tensor<1x24x2x16xf32>) -> tensor<1x24x2x16xf32>
// CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} {scale = 1.000000e+00 : f32} : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<1x4x?x?xf32>) -> tensor<?x?x4x8xf32>
// CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<1x77x2x16xf32>, tensor<1x77x2x16xf32>, tensor<1x77x2x16xf32>) -> tensor<1x77x2x16xf32>
func.func @attention(%q: tensor<1x24x2x16xf32>, %d: tensor<?x?x4x8xf32>, %m: tensor<1x4x?x?xf32>, %c: tensor<1x77x2x16xf32>) -> (tensor<1x24x2x16xf32>, tensor<?x?x4x8xf32>, tensor<1x77x2x16xf32>) {
  %0 = kiln.attention %q, %q, %q : (tensor<1x24x2x16xf32>, tensor<1x24x2x16xf32>, tensor<1x24x2x16xf32>) -> tensor<1x24x2x16xf32>
  %1 = kiln.attention %d, %d, %d mask %m {scale = 1.0 : f32} : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<1x4x?x?xf32>) -> tensor<?x?x4x8xf32>
  %2 = kiln.attention %c, %c, %c {causal} : (tensor<1x77x2x16xf32>, tensor<1x77x2x16xf32>, tensor<1x77x2x16xf32>) -> tensor<1x77x2x16xf32>
  return %0, %1, %2 : tensor<1x24x2x16xf32>, tensor<?x?x4x8xf32>, tensor<1x77x2x16xf32>
}

// -----

// Tests the RoPE tables and their application, static and dynamic.
// CHECK-LABEL: @rope
// CHECK: kiln.rope_frequencies %{{.*}} {axes_dim = array<i64: 4, 6, 6>} : (tensor<24x3xf32>) -> (tensor<24x16xf32>, tensor<24x16xf32>)
// CHECK: kiln.rope_frequencies %{{.*}} {axes_dim = array<i64: 16, 56, 56>, theta = 1.000000e+03 : f64} : (tensor<?x3xi64>) -> (tensor<?x128xf32>, tensor<?x128xf32>)
// CHECK: kiln.rope %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x24x2x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<1x24x2x16xf32>
// CHECK: kiln.rope %{{.*}}, %{{.*}}, %{{.*}} {style = #kiln.rope_style<half>} : (tensor<?x?x2x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x?x2x128xf32>
func.func @rope(%ids: tensor<24x3xf32>, %dids: tensor<?x3xi64>, %x: tensor<1x24x2x16xf32>, %dx: tensor<?x?x2x128xf32>) -> (tensor<1x24x2x16xf32>, tensor<?x?x2x128xf32>) {
  %cos, %sin = kiln.rope_frequencies %ids {axes_dim = array<i64: 4, 6, 6>} : (tensor<24x3xf32>) -> (tensor<24x16xf32>, tensor<24x16xf32>)
  %dcos, %dsin = kiln.rope_frequencies %dids {axes_dim = array<i64: 16, 56, 56>, theta = 1000.0 : f64} : (tensor<?x3xi64>) -> (tensor<?x128xf32>, tensor<?x128xf32>)
  %0 = kiln.rope %x, %cos, %sin : (tensor<1x24x2x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<1x24x2x16xf32>
  %1 = kiln.rope %dx, %dcos, %dsin {style = #kiln.rope_style<half>} : (tensor<?x?x2x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x?x2x128xf32>
  return %0, %1 : tensor<1x24x2x16xf32>, tensor<?x?x2x128xf32>
}

// -----

// Tests timestep embeddings with the FLUX and with non-default settings.
// CHECK-LABEL: @timestep_embedding
// CHECK: kiln.timestep_embedding %{{.*}} {dim = 256 : i64, flip_sin_to_cos} : (tensor<2xf32>) -> tensor<2x256xf32>
// CHECK: kiln.timestep_embedding %{{.*}} {dim = 32 : i64, downscale_freq_shift = 1.000000e+00 : f64, max_period = 1.000000e+03 : f64, scale = 2.000000e+00 : f64} : (tensor<?xf32>) -> tensor<?x32xf32>
func.func @timestep_embedding(%t: tensor<2xf32>, %d: tensor<?xf32>) -> (tensor<2x256xf32>, tensor<?x32xf32>) {
  %0 = kiln.timestep_embedding %t {dim = 256 : i64, flip_sin_to_cos} : (tensor<2xf32>) -> tensor<2x256xf32>
  %1 = kiln.timestep_embedding %d {dim = 32 : i64, downscale_freq_shift = 1.0 : f64, scale = 2.0 : f64, max_period = 1000.0 : f64} : (tensor<?xf32>) -> tensor<?x32xf32>
  return %0, %1 : tensor<2x256xf32>, tensor<?x32xf32>
}

// -----

// Tests token embedding lookups with static and dynamic ids.
// CHECK-LABEL: @embedding
// CHECK: kiln.embedding %{{.*}}, %{{.*}} : (tensor<1000x32xf32>, tensor<1x77xi64>) -> tensor<1x77x32xf32>
// CHECK: kiln.embedding %{{.*}}, %{{.*}} : (tensor<1000x32xf32>, tensor<?x?xi32>) -> tensor<?x?x32xf32>
func.func @embedding(%table: tensor<1000x32xf32>, %ids: tensor<1x77xi64>, %dids: tensor<?x?xi32>) -> (tensor<1x77x32xf32>, tensor<?x?x32xf32>) {
  %0 = kiln.embedding %table, %ids : (tensor<1000x32xf32>, tensor<1x77xi64>) -> tensor<1x77x32xf32>
  %1 = kiln.embedding %table, %dids : (tensor<1000x32xf32>, tensor<?x?xi32>) -> tensor<?x?x32xf32>
  return %0, %1 : tensor<1x77x32xf32>, tensor<?x?x32xf32>
}

// -----

// Tests layer_norm and rms_norm with and without their affine operands.
// CHECK-LABEL: @last_dim_norms
// CHECK: kiln.layer_norm %{{.*}} scale %{{.*}} bias %{{.*}} {epsilon = 9.99999974E-6 : f32} : (tensor<1x24x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x24x64xf32>
// CHECK: kiln.layer_norm %{{.*}} : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
// CHECK: kiln.rms_norm %{{.*}} scale %{{.*}} : (tensor<1x24x4x64xf32>, tensor<64xf32>) -> tensor<1x24x4x64xf32>
// CHECK: kiln.rms_norm %{{.*}} : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
func.func @last_dim_norms(%x: tensor<1x24x64xf32>, %d: tensor<?x?x64xf32>, %h: tensor<1x24x4x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> (tensor<1x24x64xf32>, tensor<?x?x64xf32>, tensor<1x24x4x64xf32>, tensor<?x?x64xf32>) {
  %0 = kiln.layer_norm %x scale %g bias %b {epsilon = 1.0e-5 : f32} : (tensor<1x24x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x24x64xf32>
  %1 = kiln.layer_norm %d : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %2 = kiln.rms_norm %h scale %g : (tensor<1x24x4x64xf32>, tensor<64xf32>) -> tensor<1x24x4x64xf32>
  %3 = kiln.rms_norm %d : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %0, %1, %2, %3 : tensor<1x24x64xf32>, tensor<?x?x64xf32>, tensor<1x24x4x64xf32>, tensor<?x?x64xf32>
}

// -----

// Tests group_norm on static and dynamic feature maps.
// CHECK-LABEL: @group_norm
// CHECK: kiln.group_norm %{{.*}} scale %{{.*}} bias %{{.*}} {num_groups = 4 : i64} : (tensor<1x16x8x12xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x16x8x12xf32>
// CHECK: kiln.group_norm %{{.*}} {epsilon = 9.99999974E-6 : f32, num_groups = 8 : i64} : (tensor<?x16x?x?xf32>) -> tensor<?x16x?x?xf32>
func.func @group_norm(%x: tensor<1x16x8x12xf32>, %d: tensor<?x16x?x?xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> (tensor<1x16x8x12xf32>, tensor<?x16x?x?xf32>) {
  %0 = kiln.group_norm %x scale %g bias %b {num_groups = 4 : i64} : (tensor<1x16x8x12xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x16x8x12xf32>
  %1 = kiln.group_norm %d {num_groups = 8 : i64, epsilon = 1.0e-5 : f32} : (tensor<?x16x?x?xf32>) -> tensor<?x16x?x?xf32>
  return %0, %1 : tensor<1x16x8x12xf32>, tensor<?x16x?x?xf32>
}

// -----

// Tests AdaLN modulation over a static and a dynamic token axis.
// CHECK-LABEL: @modulate
// CHECK: kiln.modulate %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x24x64xf32>, tensor<2x64xf32>, tensor<2x64xf32>) -> tensor<2x24x64xf32>
// CHECK: kiln.modulate %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
func.func @modulate(%x: tensor<2x24x64xf32>, %s: tensor<2x64xf32>, %d: tensor<?x?x64xf32>, %ds: tensor<?x64xf32>) -> (tensor<2x24x64xf32>, tensor<?x?x64xf32>) {
  %0 = kiln.modulate %x, %s, %s : (tensor<2x24x64xf32>, tensor<2x64xf32>, tensor<2x64xf32>) -> tensor<2x24x64xf32>
  %1 = kiln.modulate %d, %ds, %ds : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  return %0, %1 : tensor<2x24x64xf32>, tensor<?x?x64xf32>
}

// -----

// Tests conv2d: 3x3 same padding, the VAE's asymmetric strided downsample, and dynamic sizes.
// CHECK-LABEL: @conv2d
// CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x3x16x24xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x16x24xf32>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} {padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x16x24xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x12xf32>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 1, 1, 1, 1>} : (tensor<?x3x?x?xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x?x?xf32>
func.func @conv2d(%x: tensor<1x3x16x24xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>, %w2: tensor<8x8x3x3xf32>, %d: tensor<?x3x?x?xf32>) -> (tensor<1x8x8x12xf32>, tensor<?x8x?x?xf32>) {
  %0 = kiln.conv2d %x, %w, %b {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x3x16x24xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x16x24xf32>
  %1 = kiln.conv2d %0, %w2 {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>} : (tensor<1x8x16x24xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x12xf32>
  %2 = kiln.conv2d %d, %w, %b {padding = array<i64: 1, 1, 1, 1>} : (tensor<?x3x?x?xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x?x?xf32>
  return %1, %2 : tensor<1x8x8x12xf32>, tensor<?x8x?x?xf32>
}

// -----

// Tests nearest upsampling, static and dynamic.
// CHECK-LABEL: @upsample
// CHECK: kiln.upsample %{{.*}} : (tensor<1x8x4x6xf32>) -> tensor<1x8x8x12xf32>
// CHECK: kiln.upsample %{{.*}} {scale_factor = 3 : i64} : (tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32>
func.func @upsample(%x: tensor<1x8x4x6xf32>, %d: tensor<1x8x?x?xf32>) -> (tensor<1x8x8x12xf32>, tensor<1x8x?x?xf32>) {
  %0 = kiln.upsample %x : (tensor<1x8x4x6xf32>) -> tensor<1x8x8x12xf32>
  %1 = kiln.upsample %d {scale_factor = 3 : i64} : (tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32>
  return %0, %1 : tensor<1x8x8x12xf32>, tensor<1x8x?x?xf32>
}

// -----

// Tests latent packing and unpacking with static and dynamic grids.
// CHECK-LABEL: @patchify
// CHECK: kiln.patchify %{{.*}} : (tensor<1x16x8x12xf32>) -> tensor<1x24x64xf32>
// CHECK: kiln.patchify %{{.*}} {patch_size = 1 : i64} : (tensor<?x16x?x?xf32>) -> tensor<?x?x16xf32>
// CHECK: kiln.unpatchify %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x24x64xf32> -> tensor<1x16x8x12xf32>
// CHECK: kiln.unpatchify %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x64xf32> -> tensor<?x16x?x?xf32>
func.func @patchify(%x: tensor<1x16x8x12xf32>, %d: tensor<?x16x?x?xf32>, %t: tensor<?x?x64xf32>, %h: index, %w: index) -> (tensor<1x16x8x12xf32>, tensor<?x?x16xf32>, tensor<?x16x?x?xf32>) {
  %0 = kiln.patchify %x : (tensor<1x16x8x12xf32>) -> tensor<1x24x64xf32>
  %1 = kiln.patchify %d {patch_size = 1 : i64} : (tensor<?x16x?x?xf32>) -> tensor<?x?x16xf32>
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %2 = kiln.unpatchify %0, %c8, %c12 : tensor<1x24x64xf32> -> tensor<1x16x8x12xf32>
  %3 = kiln.unpatchify %t, %h, %w : tensor<?x?x64xf32> -> tensor<?x16x?x?xf32>
  return %2, %1, %3 : tensor<1x16x8x12xf32>, tensor<?x?x16xf32>, tensor<?x16x?x?xf32>
}

// -----

// Tests the activations in all their forms.
// CHECK-LABEL: @activations
// CHECK: kiln.gelu %{{.*}} : tensor<1x24x64xf32>
// CHECK: kiln.gelu %{{.*}} {approximation = #kiln.gelu_approximation<tanh>} : tensor<?x?x64xf32>
// CHECK: kiln.gelu %{{.*}} {approximation = #kiln.gelu_approximation<quick>} : tensor<?x?x64xf32>
// CHECK: kiln.silu %{{.*}} : tensor<1x24x64xf32>
// CHECK: kiln.silu %{{.*}} : tensor<?x?x64xf32>
func.func @activations(%x: tensor<1x24x64xf32>, %d: tensor<?x?x64xf32>) -> (tensor<1x24x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<1x24x64xf32>, tensor<?x?x64xf32>) {
  %0 = kiln.gelu %x : tensor<1x24x64xf32>
  %1 = kiln.gelu %d {approximation = #kiln.gelu_approximation<tanh>} : tensor<?x?x64xf32>
  %2 = kiln.gelu %d {approximation = #kiln.gelu_approximation<quick>} : tensor<?x?x64xf32>
  %3 = kiln.silu %x : tensor<1x24x64xf32>
  %4 = kiln.silu %d : tensor<?x?x64xf32>
  return %0, %1, %2, %3, %4 : tensor<1x24x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<1x24x64xf32>, tensor<?x?x64xf32>
}

// -----

// Tests the broadcasting binary ops: a gate over tokens, a scalar, dynamic dims.
// CHECK-LABEL: @binary
// CHECK: kiln.add %{{.*}}, %{{.*}} : (tensor<2x24x64xf32>, tensor<2x1x64xf32>) -> tensor<2x24x64xf32>
// CHECK: kiln.sub %{{.*}}, %{{.*}} : (tensor<2x24x64xf32>, tensor<f32>) -> tensor<2x24x64xf32>
// CHECK: kiln.mul %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
// CHECK: kiln.div %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
func.func @binary(%x: tensor<2x24x64xf32>, %g: tensor<2x1x64xf32>, %s: tensor<f32>, %d: tensor<?x?x64xf32>, %dg: tensor<?x1x64xf32>, %v: tensor<64xf32>) -> (tensor<2x24x64xf32>, tensor<?x?x64xf32>) {
  %0 = kiln.add %x, %g : (tensor<2x24x64xf32>, tensor<2x1x64xf32>) -> tensor<2x24x64xf32>
  %1 = kiln.sub %0, %s : (tensor<2x24x64xf32>, tensor<f32>) -> tensor<2x24x64xf32>
  %2 = kiln.mul %d, %dg : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
  %3 = kiln.div %2, %v : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %1, %3 : tensor<2x24x64xf32>, tensor<?x?x64xf32>
}

// -----

// Tests reshape (head split with a dynamic sequence) and transpose.
// CHECK-LABEL: @shape
// CHECK: kiln.reshape %{{.*}} : tensor<1x24x64xf32> -> tensor<1x24x4x16xf32>
// CHECK: kiln.reshape %{{.*}} : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
// CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x24x4x16xf32>) -> tensor<1x4x24x16xf32>
// CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x4x16xf32>) -> tensor<1x4x?x16xf32>
func.func @shape(%x: tensor<1x24x64xf32>, %d: tensor<1x?x64xf32>) -> (tensor<1x4x24x16xf32>, tensor<1x4x?x16xf32>) {
  %0 = kiln.reshape %x : tensor<1x24x64xf32> -> tensor<1x24x4x16xf32>
  %1 = kiln.reshape %d : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
  %2 = kiln.transpose %0 {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x24x4x16xf32>) -> tensor<1x4x24x16xf32>
  %3 = kiln.transpose %1 {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x?x4x16xf32>) -> tensor<1x4x?x16xf32>
  return %2, %3 : tensor<1x4x24x16xf32>, tensor<1x4x?x16xf32>
}

// -----

// Tests the text-encoder helpers: T5 buckets, argmax pooling positions, token gather.
// CHECK-LABEL: @text_encoder_helpers
// CHECK: kiln.relative_position_buckets %{{.*}}, %{{.*}} {bidirectional, max_distance = 128 : i64, num_buckets = 32 : i64} : tensor<?x?xi64>
// CHECK: kiln.argmax %{{.*}} : (tensor<2x77xi64>) -> tensor<2xi64>
// CHECK: kiln.argmax %{{.*}} : (tensor<?x?xi32>) -> tensor<?xi64>
// CHECK: kiln.gather_tokens %{{.*}}, %{{.*}} : (tensor<2x77x32xf32>, tensor<2xi64>) -> tensor<2x32xf32>
// CHECK: kiln.gather_tokens %{{.*}}, %{{.*}} : (tensor<?x?x32xf32>, tensor<?xi64>) -> tensor<?x32xf32>
func.func @text_encoder_helpers(%n: index, %ids: tensor<2x77xi64>, %dids: tensor<?x?xi32>, %h: tensor<2x77x32xf32>, %dh: tensor<?x?x32xf32>) -> (tensor<?x?xi64>, tensor<2x32xf32>, tensor<?x32xf32>) {
  %b = kiln.relative_position_buckets %n, %n {num_buckets = 32 : i64, max_distance = 128 : i64, bidirectional} : tensor<?x?xi64>
  %i = kiln.argmax %ids : (tensor<2x77xi64>) -> tensor<2xi64>
  %di = kiln.argmax %dids : (tensor<?x?xi32>) -> tensor<?xi64>
  %p = kiln.gather_tokens %h, %i : (tensor<2x77x32xf32>, tensor<2xi64>) -> tensor<2x32xf32>
  %dp = kiln.gather_tokens %dh, %di : (tensor<?x?x32xf32>, tensor<?xi64>) -> tensor<?x32xf32>
  return %b, %p, %dp : tensor<?x?xi64>, tensor<2x32xf32>, tensor<?x32xf32>
}
