// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=vae | FileCheck %s
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=vae | FileCheck %s --check-prefix=CONV --implicit-check-not=quant_conv
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=vae | FileCheck %s --check-prefix=NORM
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=vae --emit=linalg | FileCheck %s --check-prefix=LINALG

// The tiny FLUX VAE (AutoencoderKL: block_out_channels [8, 16, 16],
// layers_per_block 1, 4 groups, 16 latent channels, no quant convs) imports
// as `vae_encode` and `vae_decode` with dynamic batch, height and width.

// CHECK-LABEL: func.func @vae_encode(
// CHECK-SAME: %{{.+}}: tensor<?x3x?x?xf32> {kiln.input = "image"})
// CHECK-SAME: -> (tensor<?x16x?x?xf32> {kiln.output = "latent_mean"}, tensor<?x16x?x?xf32> {kiln.output = "latent_normalized"})

// A resnet: GroupNorm(4 groups, eps 1e-6: the default, so not printed),
// SiLU, 3x3 conv, twice, plus the input.
// CHECK: kiln.weight "vae.encoder.conv_in.weight" : tensor<8x3x3x3xf32>
// CHECK: %[[IN:.+]] = kiln.conv2d %{{.+}} {padding = array<i64: 1, 1, 1, 1>} : (tensor<?x3x?x?xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x?x?xf32>
// CHECK: kiln.group_norm %[[IN]] scale %{{.+}} bias %{{.+}} {num_groups = 4 : i64} :
// CHECK-NEXT: kiln.silu
// CHECK: kiln.weight "vae.encoder.down_blocks.0.resnets.0.conv2.weight" : tensor<8x8x3x3xf32>
// CHECK: %[[H0:.+]] = kiln.conv2d
// CHECK: %[[R0:.+]] = kiln.add %[[IN]], %[[H0]]

// The downsampler pads only the bottom and the right (F.pad (0, 1, 0, 1)),
// then convolves with stride 2.
// CHECK: kiln.weight "vae.encoder.down_blocks.0.downsamplers.0.conv.weight" : tensor<8x8x3x3xf32>
// CHECK: %[[D0:.+]] = kiln.conv2d %[[R0]], %{{.+}}, %{{.+}} {padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x8x?x?xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<?x8x?x?xf32>

// Down block 1 changes 8 -> 16 channels: a 1x1 conv_shortcut on its input.
// CHECK: kiln.weight "vae.encoder.down_blocks.1.resnets.0.conv1.weight" : tensor<16x8x3x3xf32>
// CHECK: kiln.weight "vae.encoder.down_blocks.1.resnets.0.conv2.weight" : tensor<16x16x3x3xf32>
// CHECK: %[[H1:.+]] = kiln.conv2d {{.+}} -> tensor<?x16x?x?xf32>
// CHECK: kiln.weight "vae.encoder.down_blocks.1.resnets.0.conv_shortcut.weight" : tensor<16x8x1x1xf32>
// CHECK: %[[S1:.+]] = kiln.conv2d %[[D0]], %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x8x?x?xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<?x16x?x?xf32>
// CHECK: kiln.add %[[S1]], %[[H1]]
// CHECK: "vae.encoder.down_blocks.1.downsamplers.0.conv.weight"
// CHECK: kiln.conv2d {{.+}}{padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>}

// The last down block has no downsampler.
// CHECK: "vae.encoder.down_blocks.2.resnets.0.conv2.weight"
// CHECK-NOT: strides
// CHECK: "vae.encoder.mid_block.resnets.0.norm1.weight"

// Mid-block attention: group_norm, [B, C, H, W] -> [B, H*W, C] tokens,
// single-head attention with the default 1/sqrt(C) scale, to_out.0, back to
// [B, C, H, W], residual.
// CHECK: kiln.weight "vae.encoder.mid_block.resnets.0.conv2.weight"
// CHECK: %[[M0:.+]] = kiln.add
// CHECK: kiln.weight "vae.encoder.mid_block.attentions.0.group_norm.weight" : tensor<16xf32>
// CHECK: %[[AN:.+]] = kiln.group_norm %[[M0]] {{.*}}num_groups = 4
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[AN]] {{\[}}[0], [1], [2, 3]] : tensor<?x16x?x?xf32> into tensor<?x16x?xf32>
// CHECK: %[[TOK:.+]] = kiln.transpose %[[FLAT]] {permutation = array<i64: 0, 2, 1>} : (tensor<?x16x?xf32>) -> tensor<?x?x16xf32>
// CHECK: kiln.weight "vae.encoder.mid_block.attentions.0.to_q.weight" : tensor<16x16xf32>
// CHECK: %[[Q:.+]] = kiln.linear %[[TOK]]
// CHECK: tensor.expand_shape %[[Q]] {{\[}}[0], [1], [2, 3]] {{.*}} into tensor<?x?x1x16xf32>
// CHECK: kiln.weight "vae.encoder.mid_block.attentions.0.to_k.weight" : tensor<16x16xf32>
// CHECK: kiln.linear %[[TOK]]
// CHECK: kiln.weight "vae.encoder.mid_block.attentions.0.to_v.weight" : tensor<16x16xf32>
// CHECK: kiln.linear %[[TOK]]
// CHECK: %[[O:.+]] = kiln.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x?x1x16xf32>, tensor<?x?x1x16xf32>, tensor<?x?x1x16xf32>) -> tensor<?x?x1x16xf32>
// CHECK: %[[OM:.+]] = tensor.collapse_shape %[[O]]
// CHECK: kiln.weight "vae.encoder.mid_block.attentions.0.to_out.0.weight" : tensor<16x16xf32>
// CHECK: %[[P:.+]] = kiln.linear %[[OM]]
// CHECK: %[[PT:.+]] = kiln.transpose %[[P]] {permutation = array<i64: 0, 2, 1>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
// CHECK: %[[IMG:.+]] = tensor.reshape %[[PT]]({{.+}}) : (tensor<?x16x?xf32>, tensor<4xindex>) -> tensor<?x16x?x?xf32>
// CHECK: kiln.add %[[IMG]], %[[M0]]
// CHECK: "vae.encoder.mid_block.resnets.1.norm1.weight"

// Output: norm, SiLU, conv_out to 2 x 16 moments; the mean is the first 16
// channels, normalized as (mean - 0.1159) * 0.3611.
// CHECK: kiln.weight "vae.encoder.conv_norm_out.weight" : tensor<16xf32>
// CHECK: kiln.weight "vae.encoder.conv_out.weight" : tensor<32x16x3x3xf32>
// CHECK: %[[MOM:.+]] = kiln.conv2d {{.+}} -> tensor<?x32x?x?xf32>
// CHECK: %[[MEAN:.+]] = tensor.extract_slice %[[MOM]][0, 0, 0, 0] [%{{.+}}, 16, %{{.+}}, %{{.+}}] [1, 1, 1, 1] : tensor<?x32x?x?xf32> to tensor<?x16x?x?xf32>
// CHECK: %[[SHIFT:.+]] = arith.constant dense<1.159000e-01> : tensor<f32>
// CHECK: %[[SUB:.+]] = kiln.sub %[[MEAN]], %[[SHIFT]]
// CHECK: %[[SCALE:.+]] = arith.constant dense<3.611000e-01> : tensor<f32>
// CHECK: %[[NORMALIZED:.+]] = kiln.mul %[[SUB]], %[[SCALE]]
// CHECK: return %[[MEAN]], %[[NORMALIZED]]

// CHECK-LABEL: func.func @vae_decode(
// CHECK-SAME: %[[Z:.+]]: tensor<?x16x?x?xf32> {kiln.input = "latent_normalized"})
// CHECK-SAME: -> (tensor<?x16x?x?xf32> {kiln.output = "latent_raw"}, tensor<?x3x?x?xf32> {kiln.output = "image"})

// The decoder input is z / 0.3611 + 0.1159, straight into conv_in.
// CHECK: %[[DSCALE:.+]] = arith.constant dense<3.611000e-01> : tensor<f32>
// CHECK: %[[DIV:.+]] = kiln.div %[[Z]], %[[DSCALE]]
// CHECK: %[[DSHIFT:.+]] = arith.constant dense<1.159000e-01> : tensor<f32>
// CHECK: %[[RAW:.+]] = kiln.add %[[DIV]], %[[DSHIFT]]
// CHECK: kiln.weight "vae.decoder.conv_in.weight" : tensor<16x16x3x3xf32>
// CHECK: kiln.conv2d %[[RAW]]
// CHECK: kiln.attention {{.+}} -> tensor<?x?x1x16xf32>

// Up blocks: nearest 2x, then a 3x3 conv; none after the last block, whose
// first resnet changes 16 -> 8 channels through a conv_shortcut.
// CHECK: kiln.weight "vae.decoder.up_blocks.0.resnets.1.conv2.weight"
// CHECK: %[[U0:.+]] = kiln.upsample %{{.+}} : (tensor<?x16x?x?xf32>) -> tensor<?x16x?x?xf32>
// CHECK: kiln.weight "vae.decoder.up_blocks.0.upsamplers.0.conv.weight" : tensor<16x16x3x3xf32>
// CHECK: kiln.conv2d %[[U0]], {{.+}} {padding = array<i64: 1, 1, 1, 1>}
// CHECK: kiln.weight "vae.decoder.up_blocks.1.resnets.1.conv2.weight"
// CHECK: kiln.upsample
// CHECK: kiln.weight "vae.decoder.up_blocks.1.upsamplers.0.conv.weight"
// CHECK: kiln.weight "vae.decoder.up_blocks.2.resnets.0.conv_shortcut.weight" : tensor<8x16x1x1xf32>
// CHECK-NOT: kiln.upsample
// CHECK: kiln.weight "vae.decoder.conv_norm_out.weight" : tensor<8xf32>
// CHECK: kiln.weight "vae.decoder.conv_out.weight" : tensor<3x8x3x3xf32>
// CHECK: %[[IMAGE:.+]] = kiln.conv2d {{.+}} -> tensor<?x3x?x?xf32>
// CHECK: return %[[RAW]], %[[IMAGE]]

// Convolutions per section: conv_in; down blocks (2 per resnet, a shortcut
// when the channels change, a downsampler but in the last); mid block; then
// conv_out. Decoder: conv_in; mid block; up blocks (layers_per_block + 1 = 2
// resnets, an upsampler but in the last); conv_out.
// CONV-LABEL: func.func @vae_encode(
// CONV: "vae.encoder.conv_in.weight"
// CONV-COUNT-1: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.encoder.down_blocks.0.resnets.0.norm1.weight"
// CONV-COUNT-3: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.encoder.down_blocks.1.resnets.0.norm1.weight"
// CONV-COUNT-4: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.encoder.down_blocks.2.resnets.0.norm1.weight"
// CONV-COUNT-2: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.encoder.mid_block.resnets.0.norm1.weight"
// CONV-COUNT-4: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.encoder.conv_norm_out.weight"
// CONV-COUNT-1: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV-LABEL: func.func @vae_decode(
// CONV: "vae.decoder.conv_in.weight"
// CONV-COUNT-1: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.decoder.mid_block.resnets.0.norm1.weight"
// CONV-COUNT-4: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.decoder.up_blocks.0.resnets.0.norm1.weight"
// CONV-COUNT-5: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.decoder.up_blocks.1.resnets.0.norm1.weight"
// CONV-COUNT-5: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.decoder.up_blocks.2.resnets.0.norm1.weight"
// CONV-COUNT-5: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: "vae.decoder.conv_norm_out.weight"
// CONV-COUNT-1: kiln.conv2d
// CONV-NOT: kiln.conv2d
// CONV: return

// Group norms per section: 2 per resnet, 1 in the attention, 1 at the output.
// NORM-LABEL: func.func @vae_encode(
// NORM-NOT: kiln.group_norm
// NORM: "vae.encoder.down_blocks.0.resnets.0.norm1.weight"
// NORM-COUNT-2: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.encoder.down_blocks.1.resnets.0.norm1.weight"
// NORM-COUNT-2: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.encoder.down_blocks.2.resnets.0.norm1.weight"
// NORM-COUNT-2: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.encoder.mid_block.resnets.0.norm1.weight"
// NORM-COUNT-5: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.encoder.conv_norm_out.weight"
// NORM-COUNT-1: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM-LABEL: func.func @vae_decode(
// NORM-NOT: kiln.group_norm
// NORM: "vae.decoder.mid_block.resnets.0.norm1.weight"
// NORM-COUNT-5: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.decoder.up_blocks.0.resnets.0.norm1.weight"
// NORM-COUNT-4: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.decoder.up_blocks.1.resnets.0.norm1.weight"
// NORM-COUNT-4: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.decoder.up_blocks.2.resnets.0.norm1.weight"
// NORM-COUNT-4: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: "vae.decoder.conv_norm_out.weight"
// NORM-COUNT-1: kiln.group_norm
// NORM-NOT: kiln.group_norm
// NORM: return

// Both functions lower completely (attention to the kernel op
// kiln.flash_attention, written `kiln.flash_attention ins(`); weights become
// tagged arguments.
// LINALG: func.func @vae_encode({{.*}}{kiln.input = "image"}, {{.*}}{kiln.weight = "vae.encoder.conv_in.weight"}
// LINALG-NOT: = kiln.{{[a-z_0-9]+}} %
// LINALG: func.func @vae_decode({{.*}}{kiln.input = "latent_normalized"}, {{.*}}{kiln.weight = "vae.decoder.conv_in.weight"}
// LINALG-NOT: = kiln.{{[a-z_0-9]+}} %

// Unsupported configurations name the key and the value.
// RUN: rm -rf %t && mkdir -p %t && cp -r %kiln_src_root/test/goldens/tiny-flux %t/ok
// RUN: cp -r %t/ok %t/blocks && sed -i '0,/"DownEncoderBlock2D",/s//"CrossAttnDownBlock2D",/' %t/blocks/vae/config.json
// RUN: not kiln-compile %t/blocks --component=vae 2>&1 | FileCheck %s --check-prefix=BLOCKS
// BLOCKS: vae/config.json: key 'down_block_types' has unsupported value {{.*}}, expected every entry to be "DownEncoderBlock2D" (entry 0 is "CrossAttnDownBlock2D")
// RUN: cp -r %t/ok %t/groups && sed -i 's/"norm_num_groups": 4/"norm_num_groups": 3/' %t/groups/vae/config.json
// RUN: not kiln-compile %t/groups --component=vae 2>&1 | FileCheck %s --check-prefix=GROUPS
// GROUPS: vae/config.json: key 'norm_num_groups' has unsupported value 3 {{.*}}, expected a divisor of every block_out_channels entry (8 is not a multiple)
// RUN: cp -r %t/ok %t/act && sed -i 's/"act_fn": "silu"/"act_fn": "gelu"/' %t/act/vae/config.json
// RUN: not kiln-compile %t/act --component=vae 2>&1 | FileCheck %s --check-prefix=ACT
// ACT: vae/config.json: key 'act_fn' has unsupported value "gelu" {{.*}}, expected "silu"

// use_quant_conv asks for quant_conv, which this checkpoint does not have.
// RUN: cp -r %t/ok %t/quant && sed -i 's/"use_quant_conv": false/"use_quant_conv": true/' %t/quant/vae/config.json
// RUN: not kiln-compile %t/quant --component=vae 2>&1 | FileCheck %s --check-prefix=QUANT
// QUANT: vae/diffusion_pytorch_model.safetensors: missing tensor 'quant_conv.weight'

// A checkpoint that disagrees with its config is caught before any op is built.
// RUN: cp -r %t/ok %t/latent && sed -i 's/"latent_channels": 16/"latent_channels": 8/' %t/latent/vae/config.json
// RUN: not kiln-compile %t/latent --component=vae 2>&1 | FileCheck %s --check-prefix=LATENT
// LATENT: vae/diffusion_pytorch_model.safetensors: tensor 'encoder.conv_out.weight' gives 32 output channels, config.json implies 16
