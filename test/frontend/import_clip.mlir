// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder | FileCheck %s
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder | grep -c "kiln.attention .*{causal}" | FileCheck %s --check-prefix=CAUSAL
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder --emit=linalg | FileCheck %s --check-prefix=LINALG

// Checkpoints saved by older transformers (FLUX's) prefix every tensor with
// `text_model.`; both spellings import.
// RUN: rm -rf %t && mkdir -p %t && cp -r %kiln_src_root/test/goldens/tiny-flux %t/prefixed
// RUN: %python %S/Inputs/prefix_tensor_names.py %kiln_src_root/test/goldens/tiny-flux/text_encoder/model.safetensors %t/prefixed/text_encoder/model.safetensors text_model.
// RUN: kiln-compile %t/prefixed --component=text_encoder | FileCheck %s --check-prefix=PREFIXED

// Config values the importer cannot honour name the key and the value.
// RUN: cp -r %kiln_src_root/test/goldens/tiny-flux %t/act && sed -i 's/"hidden_act": "quick_gelu"/"hidden_act": "relu"/' %t/act/text_encoder/config.json
// RUN: not kiln-compile %t/act --component=text_encoder 2>&1 | FileCheck %s --check-prefix=ACT
// RUN: cp -r %kiln_src_root/test/goldens/tiny-flux %t/eos && sed -i 's/"eos_token_id": 2/"eos_token_id": 49407/' %t/eos/text_encoder/config.json
// RUN: not kiln-compile %t/eos --component=text_encoder 2>&1 | FileCheck %s --check-prefix=EOSID

// The tiny CLIP text encoder (2 layers, 2 heads of 16, quick_gelu) imports
// as `clip_text_encoder` with dynamic batch and sequence length.

// CHECK-LABEL: func.func @clip_text_encoder(
// CHECK-SAME: %[[IDS:.+]]: tensor<?x?xi64> {kiln.input = "input_ids"}
// CHECK-SAME: -> (tensor<?x?x32xf32> {kiln.output = "last_hidden_state"}, tensor<?x32xf32> {kiln.output = "pooler_output"})

// Token embedding plus the first L rows of the position table.
// CHECK: %[[TOKTABLE:.+]] = kiln.weight "text_encoder.embeddings.token_embedding.weight" : tensor<1000x32xf32>
// CHECK: %[[TOK:.+]] = kiln.embedding %[[TOKTABLE]], %[[IDS]]
// CHECK: %[[POSTABLE:.+]] = kiln.weight "text_encoder.embeddings.position_embedding.weight" : tensor<77x32xf32>
// CHECK: %[[L:.+]] = tensor.dim %[[IDS]], %c1
// CHECK: %[[POS:.+]] = tensor.extract_slice %[[POSTABLE]][0, 0] [%[[L]], 32] [1, 1]
// CHECK: kiln.add %[[TOK]], %[[POS]]

// Layer 0: pre-LN causal self-attention (default scale head_dim^-0.5), then
// the quick_gelu MLP, each with a residual.
// CHECK: "text_encoder.encoder.layers.0.layer_norm1.bias"
// CHECK: kiln.layer_norm {{.*}}{epsilon = 9.99999974E-6 : f32}
// CHECK: "text_encoder.encoder.layers.0.self_attn.q_proj.bias"
// CHECK: "text_encoder.encoder.layers.0.self_attn.k_proj.bias"
// CHECK: "text_encoder.encoder.layers.0.self_attn.v_proj.bias"
// CHECK: kiln.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {causal} : {{.*}} -> tensor<?x?x2x16xf32>
// CHECK: "text_encoder.encoder.layers.0.self_attn.out_proj.bias"
// CHECK: kiln.add
// CHECK: "text_encoder.encoder.layers.0.layer_norm2.bias"
// CHECK: "text_encoder.encoder.layers.0.mlp.fc1.bias"
// CHECK: kiln.gelu {{.*}}#kiln.gelu_approximation<quick>
// CHECK: "text_encoder.encoder.layers.0.mlp.fc2.bias"
// CHECK: kiln.add
// CHECK: "text_encoder.encoder.layers.1.layer_norm1.weight"
// CHECK-NOT: "text_encoder.encoder.layers.2.

// Final LayerNorm, then pooling at argmax(input_ids) (eos_token_id == 2).
// CHECK: "text_encoder.final_layer_norm.bias"
// CHECK-NEXT: %[[LAST:.+]] = kiln.layer_norm %{{.+}} scale %{{.+}} bias %{{.+}} {epsilon = 9.99999974E-6 : f32}
// CHECK: %[[EOS:.+]] = kiln.argmax %[[IDS]] : (tensor<?x?xi64>) -> tensor<?xi64>
// CHECK: %[[POOLED:.+]] = kiln.gather_tokens %[[LAST]], %[[EOS]]
// CHECK: return %[[LAST]], %[[POOLED]]

// Every attention is causal, one per layer.
// CAUSAL: {{^}}2{{$}}

// The whole function lowers (attention to the kernel op
// kiln.flash_attention, written `kiln.flash_attention ins(`); weights become
// tagged arguments.
// LINALG: func.func @clip_text_encoder({{.*}}{kiln.weight = "text_encoder.embeddings.token_embedding.weight"}
// LINALG-NOT: = kiln.{{[a-z_0-9]+}} %

// PREFIXED: kiln.weight "text_encoder.text_model.embeddings.token_embedding.weight"
// PREFIXED: kiln.weight "text_encoder.text_model.final_layer_norm.weight"

// ACT: text_encoder/config.json: key 'hidden_act' has unsupported value "relu"
// EOSID: text_encoder/config.json: key 'eos_token_id' has unsupported value 49407 (a number), only the legacy 2 is supported
