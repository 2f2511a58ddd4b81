// Tests that kiln-compile --target=cpu,cuda:sm_90a writes one artifact with
// both executables, every dispatch naming its CPU kernel with the CUDA one
// as its variant; that kiln inspect shows each entry's executables per
// target; that its CPU path still matches the golden cases; and that
// --device cuda without a driver, or on a CPU-only artifact, fails clearly.
// REQUIRES: cuda-toolkit
// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder --target=cpu,cuda:sm_90a -o %t/clip.kiln
// RUN: kiln inspect %t/clip.kiln | FileCheck %s
// RUN: kiln inspect %t/clip.kiln --dispatches | FileCheck %s --check-prefix=LIST
// RUN: kiln-artifact-check --device=cpu %t/clip.kiln %kiln_src_root/test/goldens/cases/text_encoder/*.safetensors | FileCheck %s --check-prefix=GOLDEN
// RUN: env KILN_LIBCUDA=%t/no-libcuda.so.1 not kiln-artifact-check --device=cuda %t/clip.kiln %kiln_src_root/test/goldens/cases/text_encoder/*.safetensors 2>&1 | FileCheck %s --check-prefix=NODRIVER
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder -o %t/cpu.kiln
// RUN: not kiln-artifact-check --device=cuda %t/cpu.kiln %kiln_src_root/test/goldens/cases/text_encoder/*.safetensors 2>&1 | FileCheck %s --check-prefix=NOCUDA

// CHECK: format    1.4
// CHECK: clip_text_encoder
// CHECK: targets     cpu-x86_64-avx2 (executable 0, [[N:[0-9]+]] of [[N]] dispatches), cpu-x86_64-avx512 (executable 1, [[N]] of [[N]] dispatches), cuda-sm_90a (executable 2, [[N]] of [[N]] dispatches)
// CHECK: executables (3)
// CHECK-NEXT: 0  cpu-x86_64-avx2, elf-shared-object
// CHECK-NEXT: 1  cpu-x86_64-avx512, elf-shared-object, features: {{.*}}avx512f
// CHECK-NEXT: 2  cuda-sm_90a, ptx, features: none, [[K:[0-9]+]] kernels, {{.*}} for CUDA GPUs (kiln run/generate --device cuda), 256 threads per block, {{[1-9][0-9]*}} kernels on tensor cores

// LIST: 0  kiln_kernel_clip_text_encoder__dispatch_{{[0-9]+}} (executable 0; variant kiln_kernel_clip_text_encoder__dispatch_{{[0-9]+}} in executable 1; variant kiln_kernel_clip_text_encoder__dispatch_{{[0-9]+}} in executable 2)

// GOLDEN: device: cpu
// GOLDEN-NOT: FAIL
// GOLDEN: {{[1-9][0-9]*}} passed, 0 failed

// NODRIVER: --device cuda: cannot load the CUDA driver ({{.*}}no-libcuda.so.1)
// NODRIVER-SAME: is the NVIDIA driver installed? Use --device cpu to run on the CPU

// NOCUDA: has no CUDA kernels; compile it with kiln-compile --target=cpu,cuda:sm_90a
