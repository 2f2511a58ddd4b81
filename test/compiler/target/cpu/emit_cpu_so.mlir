// Tests that kiln-compile turns a whole component into one x86-64 shared
// object exporting every kernel with the runtime's ABI, and that the flags
// fail clearly.
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder_2 --emit=dispatches | grep -c "call @t5_text_encoder__dispatch_" > %t.count
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder_2 --emit=cpu-so --target=cpu-x86_64 -o %t.so
// RUN: llvm-readelf -h %t.so | FileCheck %s --check-prefix=ELF
// RUN: llvm-nm -D --defined-only %t.so | grep -c " T kiln_kernel_t5_text_encoder__dispatch_" | diff - %t.count
// RUN: llvm-nm -D --undefined-only %t.so | FileCheck %s --check-prefix=UNDEF
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --emit=cpu-so 2>&1 | FileCheck %s --check-prefix=NOOUT
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cpu-arm 2>&1 | FileCheck %s --check-prefix=TARGET

// ELF: Type: DYN (Shared object file)
// ELF: Machine: Advanced Micro Devices X86-64

// Only libc/libm symbols may stay undefined (the runtime loads with RTLD_NOW).
// UNDEF-NOT: {{ U (_mlir|kiln|mlir)}}

// NOOUT: --emit=cpu-so writes a binary file: give -o FILE
// TARGET: bad --target 'cpu-arm' (expected cpu or one of cpu-x86_64, cpu-x86_64-avx2, cpu-x86_64-avx512, cpu-x86_64-avx512bf16, cpu-x86_64-amx, each CPU level at most once, and/or one cuda:sm_<NN>[a])
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --target=cpu,cpu-x86_64-avx2 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: bad --target 'cpu-x86_64-avx2' (expected cpu or one of
