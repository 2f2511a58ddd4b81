// Tests the PTX the CUDA target emits for every dispatch of the tiny FLUX
// model: one .entry per kernel, named as the CPU target names them, for
// sm_90a, each memref descriptor word a .u64 parameter, thread indices from
// the special registers, and the contraction and softmax kernels' math (FMA,
// exp via ex2); then that ptxas accepts all of it.
// REQUIRES: cuda-toolkit
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cuda:sm_90a --emit=ptx -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: grep -c "^.visible .entry kiln_kernel_" %t.ptx | FileCheck %s --check-prefix=COUNT
// The linears run on tensor cores (kiln-cuda-tile-contractions), eight
// mma.sync per k step, unless --cuda-matmul=f32 asks for exact f32.
// RUN: grep -c "mma.sync.aligned.m16n8k16" %t.ptx | FileCheck %s --check-prefix=MMAS
// Attention with heads of 16 (the transformer's, CLIP's) on tensor cores
// too (kiln-cuda-tile-attention): row maxima and sums by warp shuffles.
// RUN: grep -c "shfl.sync.bfly" %t.ptx | FileCheck %s --check-prefix=SHUFFLES
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer --target=cuda:sm_90a --cuda-matmul=f32 --emit=ptx -o %t.f32.ptx
// RUN: FileCheck %s --check-prefix=F32 < %t.f32.ptx
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cuda:sm_90a --cuda-matmul=tf32 --emit=ptx -o %t.bad 2>&1 | FileCheck %s --check-prefix=BADMATMUL
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cuda:sm_75 --emit=ptx -o %t.bad 2>&1 | FileCheck %s --check-prefix=OLD
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cpu --emit=ptx -o %t.bad 2>&1 | FileCheck %s --check-prefix=NOCUDA

// CHECK: .version
// CHECK: .target sm_90a
// CHECK: .address_size 64
// CHECK: .visible .entry kiln_kernel_
// CHECK-SAME: (
// CHECK-NEXT: .param .u64 {{.*}}_param_0,
// CHECK: mov.u32 %r{{[0-9]+}}, %tid.x;
// CHECK: mov.u32 %r{{[0-9]+}}, %ctaid.x;
// CHECK: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: fma.rn.f32
// CHECK: ex2.approx

// The tiny model's four components have hundreds of dispatches.
// COUNT: {{[1-9][0-9][0-9]+}}

// MMAS: {{[1-9][0-9][0-9]+}}
// SHUFFLES: {{[1-9][0-9]+}}
// F32: .entry kiln_kernel_
// F32-NOT: {{mma.sync|shfl.sync}}
// BADMATMUL: bad --cuda-matmul 'tf32': expected bf16 or f32

// OLD: bad --target 'cuda:sm_75': expected one cuda:sm_<NN>[a] with NN from 80 to 120
// NOCUDA: --emit=ptx needs a cuda target in --target
