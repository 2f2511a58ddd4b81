// RUN: kiln-opt --split-input-file --verify-diagnostics=only-expected %s

// Every verifier error of the kiln dialect. Result-type inference reports the
// problem and MLIR then adds a generic "failed to infer returned types";
// only-expected checks our message without spelling out the generic one.

func.func @weight_empty_name() {
  // expected-error @+1 {{expects a non-empty parameter name}}
  %0 = kiln.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{expects a static shape for parameter 'w'}}
  %0 = kiln.weight "w" : tensor<?x4xf32>
  return
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expects an input of rank >= 1}}
  %0 = kiln.linear %x, %w : (tensor<f32>, tensor<8x4xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x4xf32>, %w: tensor<8x4x1xf32>) {
  // expected-error @+1 {{expects weight of rank 2 ([out_features, in_features]), got rank 3}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<8x4x1xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_in_features(%x: tensor<2x5xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{expects weight in_features (4) to equal the input's last dimension (5)}}
  %0 = kiln.linear %x, %w : (tensor<2x5xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_element_type(%x: tensor<2x4xf32>, %w: tensor<8x4xbf16>) {
  // expected-error @+1 {{expects weight element type 'bf16' to match input element type 'f32'}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<8x4xbf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<2x4xf32>, %w: tensor<8x4xf32>, %b: tensor<1x8xf32>) {
  // expected-error @+1 {{expects bias of rank 1, got rank 2}}
  %0 = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<8x4xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_bias_length(%x: tensor<2x4xf32>, %w: tensor<8x4xf32>, %b: tensor<7xf32>) {
  // expected-error @+1 {{expects bias length (7) to equal out_features (8)}}
  %0 = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<8x4xf32>, tensor<7xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_declared_result(%x: tensor<2x4xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{inferred type(s) 'tensor<2x8xf32>' are incompatible with return type(s) of operation 'tensor<2x9xf32>'}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<2x9xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<1x4x2xf32>, %k: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{expects query of rank 4 ([batch, seq, heads, head_dim]), got rank 3}}
  %0 = kiln.attention %q, %k, %k : (tensor<1x4x2xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x4x2x8xf32>, %k: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{expects query and key batch to agree (2 vs 1)}}
  %0 = kiln.attention %q, %k, %k : (tensor<2x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) -> tensor<2x4x2x8xf32>
  return
}

// -----

func.func @attention_value_batch(%q: tensor<1x4x2x8xf32>, %v: tensor<3x4x2x8xf32>) {
  // expected-error @+1 {{expects key and value batch to agree (1 vs 3)}}
  %0 = kiln.attention %q, %q, %v : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<3x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_heads(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x3x8xf32>) {
  // expected-error @+1 {{expects query and key heads to agree (2 vs 3)}}
  %0 = kiln.attention %q, %k, %k : (tensor<1x4x2x8xf32>, tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_value_heads(%q: tensor<1x4x2x8xf32>, %v: tensor<1x4x3x8xf32>) {
  // expected-error @+1 {{expects key and value heads to agree (2 vs 3)}}
  %0 = kiln.attention %q, %q, %v : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x16xf32>) {
  // expected-error @+1 {{expects query and key head_dim to agree (8 vs 16)}}
  %0 = kiln.attention %q, %k, %k : (tensor<1x4x2x8xf32>, tensor<1x4x2x16xf32>, tensor<1x4x2x16xf32>) -> tensor<1x4x2x16xf32>
  return
}

// -----

func.func @attention_key_value_seq(%q: tensor<1x4x2x8xf32>, %v: tensor<1x5x2x8xf32>) {
  // expected-error @+1 {{expects key and value sequence lengths to agree (4 vs 5)}}
  %0 = kiln.attention %q, %q, %v : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x5x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_element_type(%q: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf16>) {
  // expected-error @+1 {{expects value element type 'f16' to match query element type 'f32'}}
  %0 = kiln.attention %q, %q, %v : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf16>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_mask_rank(%q: tensor<1x4x2x8xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{expects mask of rank 4 ([batch|1, heads|1, query_seq|1, key_seq]), got rank 2}}
  %0 = kiln.attention %q, %q, %q mask %m : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<4x4xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_mask_heads(%q: tensor<1x4x2x8xf32>, %m: tensor<1x3x4x4xf32>) {
  // expected-error @+1 {{expects mask dimension 1 (3) to be 1 or the heads size (2)}}
  %0 = kiln.attention %q, %q, %q mask %m : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x3x4x4xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_mask_keys(%q: tensor<1x4x2x8xf32>, %m: tensor<1x1x4x5xf32>) {
  // expected-error @+1 {{expects mask dimension 3 (5) to equal the key sequence length (4)}}
  %0 = kiln.attention %q, %q, %q mask %m : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x1x4x5xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{expects a positive scale, got -1}}
  %0 = kiln.attention %q, %q, %q {scale = -1.0 : f32} : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @rope_frequencies_rank(%ids: tensor<24xf32>) {
  // expected-error @+1 {{expects ids of rank 2 ([seq, axes]), got rank 1}}
  %c, %s = kiln.rope_frequencies %ids {axes_dim = array<i64: 4, 6, 6>} : (tensor<24xf32>) -> (tensor<24x16xf32>, tensor<24x16xf32>)
  return
}

// -----

func.func @rope_frequencies_no_axes(%ids: tensor<24x3xf32>) {
  // expected-error @+1 {{expects at least one axis in axes_dim}}
  %c, %s = kiln.rope_frequencies %ids {axes_dim = array<i64>} : (tensor<24x3xf32>) -> (tensor<24x0xf32>, tensor<24x0xf32>)
  return
}

// -----

func.func @rope_frequencies_columns(%ids: tensor<24x2xf32>) {
  // expected-error @+1 {{expects 3 id columns (one per axes_dim entry), got 2}}
  %c, %s = kiln.rope_frequencies %ids {axes_dim = array<i64: 4, 6, 6>} : (tensor<24x2xf32>) -> (tensor<24x16xf32>, tensor<24x16xf32>)
  return
}

// -----

func.func @rope_frequencies_odd_axis(%ids: tensor<24x3xf32>) {
  // expected-error @+1 {{expects every axes_dim entry to be positive and even, got 5}}
  %c, %s = kiln.rope_frequencies %ids {axes_dim = array<i64: 4, 5, 6>} : (tensor<24x3xf32>) -> (tensor<24x15xf32>, tensor<24x15xf32>)
  return
}

// -----

func.func @rope_frequencies_theta(%ids: tensor<24x3xf32>) {
  // expected-error @+1 {{expects a positive theta}}
  %c, %s = kiln.rope_frequencies %ids {axes_dim = array<i64: 4, 6, 6>, theta = 0.0 : f64} : (tensor<24x3xf32>) -> (tensor<24x16xf32>, tensor<24x16xf32>)
  return
}

// -----

func.func @rope_rank(%x: tensor<1x24x16xf32>, %c: tensor<24x16xf32>) {
  // expected-error @+1 {{expects an input of rank 4 ([batch, seq, heads, head_dim]), got rank 3}}
  %0 = kiln.rope %x, %c, %c : (tensor<1x24x16xf32>, tensor<24x16xf32>, tensor<24x16xf32>) -> tensor<1x24x16xf32>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<1x24x2x15xf32>, %c: tensor<24x15xf32>) {
  // expected-error @+1 {{expects an even head_dim, got 15}}
  %0 = kiln.rope %x, %c, %c : (tensor<1x24x2x15xf32>, tensor<24x15xf32>, tensor<24x15xf32>) -> tensor<1x24x2x15xf32>
  return
}

// -----

func.func @rope_table_shape(%x: tensor<1x24x2x16xf32>, %c: tensor<24x16xf32>, %s: tensor<12x16xf32>) {
  // expected-error @+1 {{expects sin of shape [24, 16] (seq, head_dim), got 'tensor<12x16xf32>'}}
  %0 = kiln.rope %x, %c, %s : (tensor<1x24x2x16xf32>, tensor<24x16xf32>, tensor<12x16xf32>) -> tensor<1x24x2x16xf32>
  return
}

// -----

func.func @timestep_embedding_rank(%t: tensor<2x1xf32>) {
  // expected-error @+1 {{expects timesteps of rank 1 ([batch]), got rank 2}}
  %0 = kiln.timestep_embedding %t {dim = 256 : i64} : (tensor<2x1xf32>) -> tensor<2x256xf32>
  return
}

// -----

func.func @timestep_embedding_odd_dim(%t: tensor<2xf32>) {
  // expected-error @+1 {{expects an even dim >= 2, got 7}}
  %0 = kiln.timestep_embedding %t {dim = 7 : i64} : (tensor<2xf32>) -> tensor<2x7xf32>
  return
}

// -----

func.func @timestep_embedding_shift(%t: tensor<2xf32>) {
  // expected-error @+1 {{expects downscale_freq_shift != dim/2}}
  %0 = kiln.timestep_embedding %t {dim = 8 : i64, downscale_freq_shift = 4.0 : f64} : (tensor<2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @timestep_embedding_period(%t: tensor<2xf32>) {
  // expected-error @+1 {{expects a positive max_period}}
  %0 = kiln.timestep_embedding %t {dim = 8 : i64, max_period = -1.0 : f64} : (tensor<2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @embedding_table_rank(%t: tensor<1000xf32>, %ids: tensor<1x7xi64>) {
  // expected-error @+1 {{expects a table of rank 2 ([vocab, dim]), got rank 1}}
  %0 = kiln.embedding %t, %ids : (tensor<1000xf32>, tensor<1x7xi64>) -> tensor<1x7xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<1000x8xf32>, %ids: tensor<1x7xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer values}}
  %0 = kiln.embedding %t, %ids : (tensor<1000x8xf32>, tensor<1x7xf32>) -> tensor<1x7x8xf32>
  return
}

// -----

func.func @layer_norm_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{expects an input of rank >= 1}}
  %0 = kiln.layer_norm %x : (tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @layer_norm_scale_rank(%x: tensor<2x8xf32>, %g: tensor<1x8xf32>) {
  // expected-error @+1 {{expects scale of rank 1, got rank 2}}
  %0 = kiln.layer_norm %x scale %g : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_bias_length(%x: tensor<2x8xf32>, %b: tensor<7xf32>) {
  // expected-error @+1 {{expects bias length (7) to equal the last input dimension (8)}}
  %0 = kiln.layer_norm %x bias %b : (tensor<2x8xf32>, tensor<7xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_element_type(%x: tensor<2x8xf32>, %g: tensor<8xbf16>) {
  // expected-error @+1 {{expects scale element type 'bf16' to match input element type 'f32'}}
  %0 = kiln.layer_norm %x scale %g : (tensor<2x8xf32>, tensor<8xbf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{expects a non-negative epsilon}}
  %0 = kiln.layer_norm %x {epsilon = -1.0 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_norm_scale_length(%x: tensor<1x4x2x16xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.rms_norm' op expects scale length (8) to equal the last input dimension (16)}}
  %0 = kiln.rms_norm %x scale %g : (tensor<1x4x2x16xf32>, tensor<8xf32>) -> tensor<1x4x2x16xf32>
  return
}

// -----

func.func @group_norm_rank(%x: tensor<16xf32>) {
  // expected-error @+1 {{expects an input of rank >= 2 ([N, C, ...]), got rank 1}}
  %0 = kiln.group_norm %x {num_groups = 4 : i64} : (tensor<16xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @group_norm_zero_groups(%x: tensor<1x16x4x4xf32>) {
  // expected-error @+1 {{expects a positive num_groups, got 0}}
  %0 = kiln.group_norm %x {num_groups = 0 : i64} : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  return
}

// -----

func.func @group_norm_divides(%x: tensor<1x16x4x4xf32>) {
  // expected-error @+1 {{expects num_groups (5) to divide the channels (16)}}
  %0 = kiln.group_norm %x {num_groups = 5 : i64} : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  return
}

// -----

func.func @group_norm_scale_length(%x: tensor<1x16x4x4xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{expects scale length (8) to equal the input channels (16)}}
  %0 = kiln.group_norm %x scale %g {num_groups = 4 : i64} : (tensor<1x16x4x4xf32>, tensor<8xf32>) -> tensor<1x16x4x4xf32>
  return
}

// -----

func.func @group_norm_epsilon(%x: tensor<1x16x4x4xf32>) {
  // expected-error @+1 {{'kiln.group_norm' op expects a non-negative epsilon}}
  %0 = kiln.group_norm %x {num_groups = 4 : i64, epsilon = -1.0 : f32} : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  return
}

// -----

func.func @modulate_rank(%x: tensor<8xf32>, %s: tensor<1x8xf32>) {
  // expected-error @+1 {{expects an input of rank >= 2 ([batch, ..., channels]), got rank 1}}
  %0 = kiln.modulate %x, %s, %s : (tensor<8xf32>, tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @modulate_shift_rank(%x: tensor<1x4x8xf32>, %s: tensor<8xf32>, %c: tensor<1x8xf32>) {
  // expected-error @+1 {{expects shift of rank 2 ([batch, channels]), got rank 1}}
  %0 = kiln.modulate %x, %s, %c : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<1x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @modulate_scale_shape(%x: tensor<1x4x8xf32>, %s: tensor<1x8xf32>, %c: tensor<2x8xf32>) {
  // expected-error @+1 {{expects scale shape [2, 8] to match the input's batch and channels [1, 8]}}
  %0 = kiln.modulate %x, %s, %c : (tensor<1x4x8xf32>, tensor<1x8xf32>, tensor<2x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @modulate_element_type(%x: tensor<1x4x8xf32>, %s: tensor<1x8xf16>) {
  // expected-error @+1 {{expects shift element type 'f16' to match input element type 'f32'}}
  %0 = kiln.modulate %x, %s, %s : (tensor<1x4x8xf32>, tensor<1x8xf16>, tensor<1x8xf16>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @conv2d_rank(%x: tensor<3x16x16xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op expects an input of rank 4 ([N, C, H, W]), got rank 3}}
  %0 = kiln.conv2d %x, %w : (tensor<3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<8x14x14xf32>
  return
}

// -----

func.func @conv2d_weight(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x9xf32>) {
  // expected-error @+1 {{expects a static weight of rank 4 ([Cout, Cin, KH, KW]), got 'tensor<8x3x9xf32>'}}
  %0 = kiln.conv2d %x, %w : (tensor<1x3x16x16xf32>, tensor<8x3x9xf32>) -> tensor<1x8x16x16xf32>
  return
}

// -----

func.func @conv2d_channels(%x: tensor<1x4x16x16xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects weight Cin (3) to equal input channels (4)}}
  %0 = kiln.conv2d %x, %w : (tensor<1x4x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x14x14xf32>
  return
}

// -----

func.func @conv2d_strides(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects strides to be two positive integers}}
  %0 = kiln.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x14x14xf32>
  return
}

// -----

func.func @conv2d_padding(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects padding to be four non-negative integers [top, left, bottom, right]}}
  %0 = kiln.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x16x16xf32>
  return
}

// -----

func.func @conv2d_bias(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{expects bias length (3) to equal Cout (8)}}
  %0 = kiln.conv2d %x, %w, %b : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>, tensor<3xf32>) -> tensor<1x8x14x14xf32>
  return
}

// -----

func.func @conv2d_too_small(%x: tensor<1x3x2x2xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects the padded input to be at least as large as the kernel}}
  %0 = kiln.conv2d %x, %w : (tensor<1x3x2x2xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x1x1xf32>
  return
}

// -----

func.func @upsample_rank(%x: tensor<8x4x4xf32>) {
  // expected-error @+1 {{'kiln.upsample' op expects an input of rank 4 ([N, C, H, W]), got rank 3}}
  %0 = kiln.upsample %x : (tensor<8x4x4xf32>) -> tensor<8x8x8xf32>
  return
}

// -----

func.func @upsample_factor(%x: tensor<1x8x4x4xf32>) {
  // expected-error @+1 {{expects a scale_factor >= 1, got 0}}
  %0 = kiln.upsample %x {scale_factor = 0 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x8x0x0xf32>
  return
}

// -----

func.func @patchify_rank(%x: tensor<16x8x8xf32>) {
  // expected-error @+1 {{'kiln.patchify' op expects an input of rank 4 ([N, C, H, W]), got rank 3}}
  %0 = kiln.patchify %x : (tensor<16x8x8xf32>) -> tensor<1x16x64xf32>
  return
}

// -----

func.func @patchify_patch_size(%x: tensor<1x16x8x8xf32>) {
  // expected-error @+1 {{'kiln.patchify' op expects a patch_size >= 1, got 0}}
  %0 = kiln.patchify %x {patch_size = 0 : i64} : (tensor<1x16x8x8xf32>) -> tensor<1x16x64xf32>
  return
}

// -----

func.func @patchify_divisible(%x: tensor<1x16x7x8xf32>) {
  // expected-error @+1 {{expects height and width (7x8) to be multiples of the patch size 2}}
  %0 = kiln.patchify %x : (tensor<1x16x7x8xf32>) -> tensor<1x12x64xf32>
  return
}

// -----

func.func @unpatchify_patch_size(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{'kiln.unpatchify' op expects a patch_size >= 1, got 0}}
  %0 = kiln.unpatchify %x, %h, %h {patch_size = 0 : i64} : tensor<1x16x64xf32> -> tensor<1x16x?x?xf32>
  return
}

// -----

func.func @unpatchify_input_rank(%x: tensor<16x64xf32>, %h: index) {
  // expected-error @+1 {{expects an input of rank 3 ([batch, seq, channels*patch^2]), got rank 2}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<16x64xf32> -> tensor<1x16x?x?xf32>
  return
}

// -----

func.func @unpatchify_result_rank(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{expects a result of rank 4 ([N, C, H, W]), got rank 3}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x64xf32> -> tensor<16x?x?xf32>
  return
}

// -----

func.func @unpatchify_element_type(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{expects the result element type to match the input}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x64xf32> -> tensor<1x16x?x?xf16>
  return
}

// -----

func.func @unpatchify_batch(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{expects the result batch to equal the input batch}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x64xf32> -> tensor<2x16x?x?xf32>
  return
}

// -----

func.func @unpatchify_token_width(%x: tensor<1x16x63xf32>, %h: index) {
  // expected-error @+1 {{expects the token width (63) to be a multiple of patch_size^2 (4)}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x63xf32> -> tensor<1x16x?x?xf32>
  return
}

// -----

func.func @unpatchify_channels(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{expects 16 result channels, got 8}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x64xf32> -> tensor<1x8x?x?xf32>
  return
}

// -----

func.func @unpatchify_height_operand(%x: tensor<1x16x64xf32>, %w: index) {
  %h = arith.constant 6 : index
  // expected-error @+1 {{expects the result height (8) to equal the height operand (6)}}
  %0 = kiln.unpatchify %x, %h, %w : tensor<1x16x64xf32> -> tensor<1x16x8x?xf32>
  return
}

// -----

func.func @unpatchify_odd_width(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{expects a positive width that is a multiple of the patch size, got 7}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x64xf32> -> tensor<1x16x?x7xf32>
  return
}

// -----

func.func @unpatchify_tokens(%x: tensor<1x16x64xf32>, %h: index) {
  // expected-error @+1 {{expects 12 tokens for a 6x8 latent, got 16}}
  %0 = kiln.unpatchify %x, %h, %h : tensor<1x16x64xf32> -> tensor<1x16x6x8xf32>
  return
}

// -----

func.func @gelu_result_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{use of value '%x' expects different type than prior uses: 'tensor<2x9xf32>' vs 'tensor<2x8xf32>'}}
  %0 = kiln.gelu %x : tensor<2x9xf32>
  return
}

// -----

func.func @silu_integer(%x: tensor<2x8xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %0 = kiln.silu %x : tensor<2x8xi32>
  return
}

// -----

func.func @add_not_broadcastable(%x: tensor<2x8xf32>, %y: tensor<3x8xf32>) {
  // expected-error @+1 {{'kiln.add' op expects broadcastable shapes, got 'tensor<2x8xf32>' and 'tensor<3x8xf32>'}}
  %0 = kiln.add %x, %y : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @mul_element_type(%x: tensor<2x8xf32>, %y: tensor<8xbf16>) {
  // expected-error @+1 {{'kiln.mul' op expects rhs element type 'bf16' to match lhs element type 'f32'}}
  %0 = kiln.mul %x, %y : (tensor<2x8xf32>, tensor<8xbf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'kiln.reshape' op expects the result element type to match the input}}
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf16>
  return
}

// -----

func.func @reshape_two_dynamic(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{expects at most one dynamic result dimension, got 'tensor<?x?x4xf32>'}}
  %0 = kiln.reshape %x : tensor<?x8xf32> -> tensor<?x?x4xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{expects 16 elements in the result, got 15}}
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<3x5xf32>
  return
}

// -----

func.func @reshape_not_divisible(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{cannot reshape 16 elements into 'tensor<?x3xf32>'}}
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<?x3xf32>
  return
}

// -----

func.func @transpose_permutation(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{expects a permutation of [0, 3), got [0, 0, 1]}}
  %0 = kiln.transpose %x {permutation = array<i64: 0, 0, 1>} : (tensor<2x8x4xf32>) -> tensor<2x2x8xf32>
  return
}

// -----

func.func @buckets_odd_bidirectional(%n: index) {
  // expected-error @+1 {{expects num_buckets >= 2 per direction (and even when bidirectional), got 31}}
  %b = kiln.relative_position_buckets %n, %n {num_buckets = 31 : i64, max_distance = 128 : i64, bidirectional} : tensor<?x?xi64>
  return
}

// -----

func.func @buckets_max_distance(%n: index) {
  // expected-error @+1 {{expects max_distance > 8 (the exact buckets), got 8}}
  %b = kiln.relative_position_buckets %n, %n {num_buckets = 32 : i64, max_distance = 8 : i64, bidirectional} : tensor<?x?xi64>
  return
}

// -----

func.func @buckets_rank(%n: index) {
  // expected-error @+1 {{expects a rank-2 result ([query_len, key_len]), got 'tensor<?xi64>'}}
  %b = kiln.relative_position_buckets %n, %n {num_buckets = 32 : i64, max_distance = 128 : i64} : tensor<?xi64>
  return
}

// -----

func.func @argmax_scalar(%x: tensor<i64>) {
  // expected-error @+1 {{'kiln.argmax' op expects an input of rank >= 1}}
  %i = kiln.argmax %x : (tensor<i64>) -> tensor<i64>
  return
}

// -----

func.func @gather_tokens_rank(%h: tensor<2x32xf32>, %p: tensor<2xi64>) {
  // expected-error @+1 {{expects an input of rank 3 ([batch, seq, dim]), got rank 2}}
  %0 = kiln.gather_tokens %h, %p : (tensor<2x32xf32>, tensor<2xi64>) -> tensor<2x32xf32>
  return
}

// -----

func.func @gather_tokens_positions(%h: tensor<2x7x32xf32>, %p: tensor<3xi64>) {
  // expected-error @+1 {{expects positions of shape [2] (one per batch row), got 'tensor<3xi64>'}}
  %0 = kiln.gather_tokens %h, %p : (tensor<2x7x32xf32>, tensor<3xi64>) -> tensor<2x32xf32>
  return
}

// -----

func.func @flash_attention_rank(%q: tensor<1x4x2xf32>, %k: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'kiln.flash_attention' op expects query to be a rank-4 f32 shaped value, got 'tensor<1x4x2xf32>'}}
  %0 = kiln.flash_attention ins(%q, %k, %k : tensor<1x4x2xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) outs(%k : tensor<1x4x2x8xf32>) {scale = 1.0 : f64} -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @flash_attention_heads(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x3x8xf32>) {
  // expected-error @+1 {{'kiln.flash_attention' op expects the heads of key (dim 2, 3) to equal that of query (dim 2, 2)}}
  %0 = kiln.flash_attention ins(%q, %k, %k : tensor<1x4x2x8xf32>, tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>) outs(%q : tensor<1x4x2x8xf32>) {scale = 1.0 : f64} -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @flash_attention_mask(%q: tensor<1x4x2x8xf32>, %m: tensor<1x1x4x5xf32>) {
  // expected-error @+1 {{'kiln.flash_attention' op expects the key length of mask (dim 3, 5) to equal that of key (dim 1, 4)}}
  %0 = kiln.flash_attention ins(%q, %q, %q : tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) mask(%m : tensor<1x1x4x5xf32>) outs(%q : tensor<1x4x2x8xf32>) {scale = 1.0 : f64} -> tensor<1x4x2x8xf32>
  return
}

// -----

func.func @flash_attention_mixed(%q: tensor<1x4x2x8xf32>, %o: memref<1x4x2x8xf32>) {
  // expected-error @+1 {{'kiln.flash_attention' op expects query to be a memref like init}}
  kiln.flash_attention ins(%q, %q, %q : tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) outs(%o : memref<1x4x2x8xf32>) {scale = 1.0 : f64}
  return
}

// -----

func.func @flash_attention_scale(%q: memref<1x4x2x8xf32>) {
  // expected-error @+1 {{'kiln.flash_attention' op expects a positive scale}}
  kiln.flash_attention ins(%q, %q, %q : memref<1x4x2x8xf32>, memref<1x4x2x8xf32>, memref<1x4x2x8xf32>) outs(%q : memref<1x4x2x8xf32>) {scale = 0.0 : f64}
  return
}

// -----

func.func @dequantize_scales(%q: tensor<8x4xf8E4M3FN>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.dequantize' op expects one scale per output channel: data has 8, scale 4}}
  %0 = kiln.dequantize %q, %s : (tensor<8x4xf8E4M3FN>, tensor<4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @dequantize_scale_rank(%q: tensor<8x4xf8E4M3FN>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{'kiln.dequantize' op expects a rank-1 scale (one per output channel), got 'tensor<8x1xf32>'}}
  %0 = kiln.dequantize %q, %s : (tensor<8x4xf8E4M3FN>, tensor<8x1xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @dequantize_result(%q: tensor<8x4xf8E4M3FN>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.dequantize' op expects the result shape of data, got 'tensor<4x8xf32>'}}
  %0 = kiln.dequantize %q, %s : (tensor<8x4xf8E4M3FN>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_data_type(%q: tensor<8x4xbf16>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.dequantize' op operand #0 must be ranked tensor of f8E4M3FN type values}}
  %0 = kiln.dequantize %q, %s : (tensor<8x4xbf16>, tensor<8xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @flash_attention_two_results(%q: tensor<1x4x2x8xf32>) {
  // expected-error @+1 {{'kiln.flash_attention' op expects one result on tensors}}
  %0:2 = kiln.flash_attention ins(%q, %q, %q : tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) outs(%q : tensor<1x4x2x8xf32>) {scale = 1.0 : f64} -> tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>
  return
}
