// One FLUX.1 double-stream transformer block (diffusers'
// FluxTransformerBlock) in the kiln dialect, at FLUX.1's real sizes: hidden
// 3072, 24 heads of 128, MLP 12288. Image and text sequence lengths are
// dynamic. Written by hand the way a naive frontend emits it (separate bias
// adds after the MLP linears) so `kiln-opt --kiln-optimize` has work to do.
// The README's first command runs that pipeline on this file.

func.func @flux_double_stream_block(
    %img: tensor<1x?x3072xf32>, %txt: tensor<1x?x3072xf32>,
    %temb: tensor<1x3072xf32>,
    %cos: tensor<?x128xf32>, %sin: tensor<?x128xf32>)
    -> (tensor<1x?x3072xf32>, tensor<1x?x3072xf32>) {
  %c1 = arith.constant 1 : index
  %n_img = tensor.dim %img, %c1 : tensor<1x?x3072xf32>
  %n_txt = tensor.dim %txt, %c1 : tensor<1x?x3072xf32>

  // AdaLayerNormZero: six modulation vectors per stream from the timestep embedding.
  %temb_act = kiln.silu %temb : tensor<1x3072xf32>
  %w_mod_i = kiln.weight "transformer_blocks.0.norm1.linear.weight" : tensor<18432x3072xf32>
  %b_mod_i = kiln.weight "transformer_blocks.0.norm1.linear.bias" : tensor<18432xf32>
  %mod_i = kiln.linear %temb_act, %w_mod_i, %b_mod_i : (tensor<1x3072xf32>, tensor<18432x3072xf32>, tensor<18432xf32>) -> tensor<1x18432xf32>
  %shift_msa_i = tensor.extract_slice %mod_i[0, 0] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %scale_msa_i = tensor.extract_slice %mod_i[0, 3072] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %gate_msa_i = tensor.extract_slice %mod_i[0, 6144] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %shift_mlp_i = tensor.extract_slice %mod_i[0, 9216] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %scale_mlp_i = tensor.extract_slice %mod_i[0, 12288] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %gate_mlp_i = tensor.extract_slice %mod_i[0, 15360] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %w_mod_t = kiln.weight "transformer_blocks.0.norm1_context.linear.weight" : tensor<18432x3072xf32>
  %b_mod_t = kiln.weight "transformer_blocks.0.norm1_context.linear.bias" : tensor<18432xf32>
  %mod_t = kiln.linear %temb_act, %w_mod_t, %b_mod_t : (tensor<1x3072xf32>, tensor<18432x3072xf32>, tensor<18432xf32>) -> tensor<1x18432xf32>
  %shift_msa_t = tensor.extract_slice %mod_t[0, 0] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %scale_msa_t = tensor.extract_slice %mod_t[0, 3072] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>
  %gate_msa_t = tensor.extract_slice %mod_t[0, 6144] [1, 3072] [1, 1] : tensor<1x18432xf32> to tensor<1x3072xf32>

  // Normalize and modulate both streams.
  %norm_i = kiln.layer_norm %img : (tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>
  %x_i = kiln.modulate %norm_i, %shift_msa_i, %scale_msa_i : (tensor<1x?x3072xf32>, tensor<1x3072xf32>, tensor<1x3072xf32>) -> tensor<1x?x3072xf32>
  %norm_t = kiln.layer_norm %txt : (tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>
  %x_t = kiln.modulate %norm_t, %shift_msa_t, %scale_msa_t : (tensor<1x?x3072xf32>, tensor<1x3072xf32>, tensor<1x3072xf32>) -> tensor<1x?x3072xf32>

  // Image-stream projections, split into heads, QK RMS norm.
  %wq = kiln.weight "transformer_blocks.0.attn.to_q.weight" : tensor<3072x3072xf32>
  %bq = kiln.weight "transformer_blocks.0.attn.to_q.bias" : tensor<3072xf32>
  %wk = kiln.weight "transformer_blocks.0.attn.to_k.weight" : tensor<3072x3072xf32>
  %bk = kiln.weight "transformer_blocks.0.attn.to_k.bias" : tensor<3072xf32>
  %wv = kiln.weight "transformer_blocks.0.attn.to_v.weight" : tensor<3072x3072xf32>
  %bv = kiln.weight "transformer_blocks.0.attn.to_v.bias" : tensor<3072xf32>
  %gq = kiln.weight "transformer_blocks.0.attn.norm_q.weight" : tensor<128xf32>
  %gk = kiln.weight "transformer_blocks.0.attn.norm_k.weight" : tensor<128xf32>
  %q_i = kiln.linear %x_i, %wq, %bq : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %k_i = kiln.linear %x_i, %wk, %bk : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %v_i = kiln.linear %x_i, %wv, %bv : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %qh_i = kiln.reshape %q_i : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
  %kh_i = kiln.reshape %k_i : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
  %vh_i = kiln.reshape %v_i : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
  %qn_i = kiln.rms_norm %qh_i scale %gq : (tensor<1x?x24x128xf32>, tensor<128xf32>) -> tensor<1x?x24x128xf32>
  %kn_i = kiln.rms_norm %kh_i scale %gk : (tensor<1x?x24x128xf32>, tensor<128xf32>) -> tensor<1x?x24x128xf32>

  // Text-stream projections.
  %wq_t = kiln.weight "transformer_blocks.0.attn.add_q_proj.weight" : tensor<3072x3072xf32>
  %bq_t = kiln.weight "transformer_blocks.0.attn.add_q_proj.bias" : tensor<3072xf32>
  %wk_t = kiln.weight "transformer_blocks.0.attn.add_k_proj.weight" : tensor<3072x3072xf32>
  %bk_t = kiln.weight "transformer_blocks.0.attn.add_k_proj.bias" : tensor<3072xf32>
  %wv_t = kiln.weight "transformer_blocks.0.attn.add_v_proj.weight" : tensor<3072x3072xf32>
  %bv_t = kiln.weight "transformer_blocks.0.attn.add_v_proj.bias" : tensor<3072xf32>
  %gq_t = kiln.weight "transformer_blocks.0.attn.norm_added_q.weight" : tensor<128xf32>
  %gk_t = kiln.weight "transformer_blocks.0.attn.norm_added_k.weight" : tensor<128xf32>
  %q_t = kiln.linear %x_t, %wq_t, %bq_t : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %k_t = kiln.linear %x_t, %wk_t, %bk_t : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %v_t = kiln.linear %x_t, %wv_t, %bv_t : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %qh_t = kiln.reshape %q_t : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
  %kh_t = kiln.reshape %k_t : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
  %vh_t = kiln.reshape %v_t : tensor<1x?x3072xf32> -> tensor<1x?x24x128xf32>
  %qn_t = kiln.rms_norm %qh_t scale %gq_t : (tensor<1x?x24x128xf32>, tensor<128xf32>) -> tensor<1x?x24x128xf32>
  %kn_t = kiln.rms_norm %kh_t scale %gk_t : (tensor<1x?x24x128xf32>, tensor<128xf32>) -> tensor<1x?x24x128xf32>

  // Joint attention over [text; image] with RoPE.
  %q = tensor.concat dim(1) %qn_t, %qn_i : (tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>) -> tensor<1x?x24x128xf32>
  %k = tensor.concat dim(1) %kn_t, %kn_i : (tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>) -> tensor<1x?x24x128xf32>
  %v = tensor.concat dim(1) %vh_t, %vh_i : (tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>) -> tensor<1x?x24x128xf32>
  %q_r = kiln.rope %q, %cos, %sin : (tensor<1x?x24x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<1x?x24x128xf32>
  %k_r = kiln.rope %k, %cos, %sin : (tensor<1x?x24x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<1x?x24x128xf32>
  %o = kiln.attention %q_r, %k_r, %v : (tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>, tensor<1x?x24x128xf32>) -> tensor<1x?x24x128xf32>
  %o_flat = kiln.reshape %o : tensor<1x?x24x128xf32> -> tensor<1x?x3072xf32>
  %o_t = tensor.extract_slice %o_flat[0, 0, 0] [1, %n_txt, 3072] [1, 1, 1] : tensor<1x?x3072xf32> to tensor<1x?x3072xf32>
  %o_i = tensor.extract_slice %o_flat[0, %n_txt, 0] [1, %n_img, 3072] [1, 1, 1] : tensor<1x?x3072xf32> to tensor<1x?x3072xf32>

  // Image stream: gated residual of attention, then the modulated MLP.
  %w_out = kiln.weight "transformer_blocks.0.attn.to_out.0.weight" : tensor<3072x3072xf32>
  %b_out = kiln.weight "transformer_blocks.0.attn.to_out.0.bias" : tensor<3072xf32>
  %proj_i = kiln.linear %o_i, %w_out, %b_out : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %gate_a = kiln.reshape %gate_msa_i : tensor<1x3072xf32> -> tensor<1x1x3072xf32>
  %gated_a = kiln.mul %proj_i, %gate_a : (tensor<1x?x3072xf32>, tensor<1x1x3072xf32>) -> tensor<1x?x3072xf32>
  %img1 = kiln.add %img, %gated_a : (tensor<1x?x3072xf32>, tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>
  %norm2_i = kiln.layer_norm %img1 : (tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>
  %m_i = kiln.modulate %norm2_i, %shift_mlp_i, %scale_mlp_i : (tensor<1x?x3072xf32>, tensor<1x3072xf32>, tensor<1x3072xf32>) -> tensor<1x?x3072xf32>
  %w_ff1 = kiln.weight "transformer_blocks.0.ff.net.0.proj.weight" : tensor<12288x3072xf32>
  %b_ff1 = kiln.weight "transformer_blocks.0.ff.net.0.proj.bias" : tensor<12288xf32>
  %w_ff2 = kiln.weight "transformer_blocks.0.ff.net.2.weight" : tensor<3072x12288xf32>
  %b_ff2 = kiln.weight "transformer_blocks.0.ff.net.2.bias" : tensor<3072xf32>
  %h1 = kiln.linear %m_i, %w_ff1 : (tensor<1x?x3072xf32>, tensor<12288x3072xf32>) -> tensor<1x?x12288xf32>
  %h1b = kiln.add %h1, %b_ff1 : (tensor<1x?x12288xf32>, tensor<12288xf32>) -> tensor<1x?x12288xf32>
  %h1g = kiln.gelu %h1b {approximation = #kiln.gelu_approximation<tanh>} : tensor<1x?x12288xf32>
  %h2 = kiln.linear %h1g, %w_ff2 : (tensor<1x?x12288xf32>, tensor<3072x12288xf32>) -> tensor<1x?x3072xf32>
  %h2b = kiln.add %h2, %b_ff2 : (tensor<1x?x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %gate_m = kiln.reshape %gate_mlp_i : tensor<1x3072xf32> -> tensor<1x1x3072xf32>
  %gated_m = kiln.mul %h2b, %gate_m : (tensor<1x?x3072xf32>, tensor<1x1x3072xf32>) -> tensor<1x?x3072xf32>
  %img2 = kiln.add %img1, %gated_m : (tensor<1x?x3072xf32>, tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>

  // Text stream: gated residual of attention (its MLP mirrors the image one
  // and is left out to keep the example short).
  %w_out_t = kiln.weight "transformer_blocks.0.attn.to_add_out.weight" : tensor<3072x3072xf32>
  %b_out_t = kiln.weight "transformer_blocks.0.attn.to_add_out.bias" : tensor<3072xf32>
  %proj_t = kiln.linear %o_t, %w_out_t, %b_out_t : (tensor<1x?x3072xf32>, tensor<3072x3072xf32>, tensor<3072xf32>) -> tensor<1x?x3072xf32>
  %gate_t = kiln.reshape %gate_msa_t : tensor<1x3072xf32> -> tensor<1x1x3072xf32>
  %gated_t = kiln.mul %proj_t, %gate_t : (tensor<1x?x3072xf32>, tensor<1x1x3072xf32>) -> tensor<1x?x3072xf32>
  %txt1 = kiln.add %txt, %gated_t : (tensor<1x?x3072xf32>, tensor<1x?x3072xf32>) -> tensor<1x?x3072xf32>

  return %img2, %txt1 : tensor<1x?x3072xf32>, tensor<1x?x3072xf32>
}
