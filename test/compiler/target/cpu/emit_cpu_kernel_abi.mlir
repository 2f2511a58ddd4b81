// RUN: kiln-opt --convert-func-to-llvm --reconcile-unrealized-casts --kiln-emit-cpu-kernel-abi %s | FileCheck %s

// Tests that each C-interface kernel gets an exported wrapper with the
// runtime's ABI (runtime/hal/kernel_abi.h): descriptor pointers loaded from
// the bindings array in order, then the workgroup id and count.

// CHECK-LABEL: llvm.func @kiln_kernel_f__dispatch_0(
// CHECK-SAME: %[[BINDINGS:.+]]: !llvm.ptr, %[[ID:.+]]: i64, %[[COUNT:.+]]: i64)
// CHECK: %[[P0:.+]] = llvm.getelementptr %[[BINDINGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[D0:.+]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.+]] = llvm.getelementptr %[[BINDINGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[D1:.+]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @_mlir_ciface_f__dispatch_0(%[[D0]], %[[D1]], %[[ID]], %[[COUNT]])
// CHECK: llvm.return
// CHECK-NOT: llvm.func @kiln_kernel_host
func.func private @f__dispatch_0(%a: memref<?xf32>, %b: memref<4x?xf32>, %id: index, %count: index) attributes {kiln.dispatch, llvm.emit_c_interface} {
  return
}
func.func @host() attributes {llvm.emit_c_interface} {
  return
}
