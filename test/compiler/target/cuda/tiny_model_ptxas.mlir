// Tests that ptxas assembles every kernel the CUDA target emits for the tiny
// FLUX model, for sm_90a (the H100/H200), and reports no spills to local
// memory in them.
// REQUIRES: cuda-toolkit
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cuda:sm_90a --emit=ptx -o %t.ptx
// RUN: %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s
// RUN: test -s %t.cubin

// CHECK: Compiling entry function 'kiln_kernel_
// CHECK-NOT: {{error|[1-9][0-9]* bytes spill stores}}

// The same with FP8 (e4m3) and bf16 weights (kiln-compile --weights=fp8-e4m3):
// the kernels widen them per element (kiln-expand-fp8's integer operations).
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=transformer --weights=fp8-e4m3 --target=cuda:sm_90a --emit=ptx -o %t.fp8.ptx
// RUN: %ptxas -arch=sm_90a -v %t.fp8.ptx -o %t.fp8.cubin 2>&1 | FileCheck %s
