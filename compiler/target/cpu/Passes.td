//===- Passes.td - The CPU target --------------------------*- tablegen -*-===//

#ifndef KILN_COMPILER_TARGET_CPU_PASSES_TD
#define KILN_COMPILER_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def EmitCpuKernelAbiPass : Pass<"kiln-emit-cpu-kernel-abi", "mlir::ModuleOp"> {
  let summary = "Exports each kernel with the runtime's CPU kernel ABI";
  let description = [{
    Runs on LLVM-dialect IR whose `kiln.dispatch` functions were lowered
    with `llvm.emit_c_interface`. For each, adds the exported function
    `kiln_kernel_<name>(ptr bindings, i64 workgroup_id, i64 workgroup_count)`
    (runtime/hal/kernel_abi.h): it loads the i-th descriptor pointer from
    `bindings[i]` and calls `_mlir_ciface_<name>` with them and the two
    workgroup values. Those wrappers are the symbols the artifact names.

    ```mlir
    llvm.func @kiln_kernel_f__dispatch_0(%bindings: !llvm.ptr, %id: i64, %count: i64) {
      %p0 = llvm.getelementptr %bindings[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %d0 = llvm.load %p0 : !llvm.ptr -> !llvm.ptr
      llvm.call @_mlir_ciface_f__dispatch_0(%d0, %id, %count) : (!llvm.ptr, i64, i64) -> ()
      llvm.return
    }
    ```
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // KILN_COMPILER_TARGET_CPU_PASSES_TD
