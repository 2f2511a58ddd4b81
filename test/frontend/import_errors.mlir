// Bad checkpoints give one clear error naming the file and what is wrong.
// RUN: rm -rf %t && mkdir -p %t && cp -r %kiln_src_root/test/goldens/tiny-flux %t/ok

// A config value Kiln does not support names the key and the value.
// RUN: cp -r %t/ok %t/patch && sed -i 's/"patch_size": 1/"patch_size": 2/' %t/patch/transformer/config.json
// RUN: not kiln-compile %t/patch --component=transformer 2>&1 | FileCheck %s --check-prefix=PATCH
// PATCH: transformer/config.json: unsupported patch_size 2 (FLUX models use 1)

// A missing config key is named.
// RUN: cp -r %t/ok %t/nokey && sed -i '/"num_layers"/d' %t/nokey/transformer/config.json
// RUN: not kiln-compile %t/nokey --component=transformer 2>&1 | FileCheck %s --check-prefix=NOKEY
// NOKEY: config.json{{.*}}num_layers

// RoPE axes that do not add up to the head dimension.
// RUN: cp -r %t/ok %t/axes && sed -i 's/^    4,$/    6,/' %t/axes/transformer/config.json
// RUN: not kiln-compile %t/axes --component=transformer 2>&1 | FileCheck %s --check-prefix=AXES
// AXES: axes_dims_rope must sum to attention_head_dim (16), got 18

// A truncated weight file is reported by the safetensors reader.
// RUN: cp -r %t/ok %t/trunc && truncate -s 1000 %t/trunc/transformer/diffusion_pytorch_model.safetensors
// RUN: not kiln-compile %t/trunc --component=transformer 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: diffusion_pytorch_model.safetensors: header length {{[0-9]+}} ends past the end of the file

// A component that is not in model_index.json.
// RUN: not kiln-compile %t/ok --component=unet 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: model_index.json: no model component 'unet'

// A folder that is not a diffusers model.
// RUN: not kiln-compile %t 2>&1 | FileCheck %s --check-prefix=NOTMODEL
// NOTMODEL: model_index.json: cannot open: No such file or directory
