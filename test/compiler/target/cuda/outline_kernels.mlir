// RUN: kiln-opt --kiln-cuda-outline-kernels=block-size=128 %s | FileCheck %s
// RUN: not kiln-opt --kiln-cuda-outline-kernels=block-size=2048 %s 2>&1 | FileCheck %s --check-prefix=BAD

// Tests that dispatch kernels move into one gpu.module as kernels named like
// the CPU target's symbols, with the block size they are launched with,
// their body and arguments kept, and that other functions are dropped.
// CHECK: module attributes {gpu.container_module}
// CHECK-NOT: func.func @host
// CHECK: gpu.module @kiln_cuda_kernels
// CHECK: gpu.func @kiln_kernel_f__dispatch_0(%[[A:.+]]: memref<?xf32>, %[[C:.+]]: memref<?xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK:   %[[T:.+]] = gpu.thread_id x
// CHECK:   memref.load %[[A]][%[[T]]]
// CHECK:   gpu.return
// BAD: block-size must be in [1, 1024], got 2048
func.func @f__dispatch_0(%a: memref<?xf32>, %c: memref<?xf32>) attributes {kiln.dispatch} {
  %t = gpu.thread_id x
  %x = memref.load %a[%t] : memref<?xf32>
  memref.store %x, %c[%t] : memref<?xf32>
  return
}

func.func @host(%a: memref<4xf32>, %c: memref<4xf32>) {
  return
}
