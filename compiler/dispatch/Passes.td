//===- Passes.td - Dispatch formation ----------------------*- tablegen -*-===//

#ifndef KILN_COMPILER_DISPATCH_PASSES_TD
#define KILN_COMPILER_DISPATCH_PASSES_TD

include "mlir/Pass/PassBase.td"

def OutlineDispatchesPass : Pass<"kiln-outline-dispatches", "mlir::ModuleOp"> {
  let summary = "Outlines each compute op of a bufferized entry into a kernel";
  let description = [{
    Runs on memref-level IR (after one-shot bufferization). Every linalg op
    and memref.copy at the top level of an entry function becomes a private
    function `@<entry>__dispatch_<n>` marked `kiln.dispatch`, taking the
    memrefs the op touches; the entry keeps only a host program: buffer
    allocations, views, index arithmetic, and calls to the kernels in order.
    That host program is what the artifact's dispatch list records, and each
    kernel becomes one entry point of the target's executable.

    Index values and scalars the op uses from the host are recomputed inside
    the kernel when they derive from constants and the sizes of the kernel's
    own memrefs (the usual case: loop bounds, vocabulary sizes); anything
    else is an error naming the value.

    Before:
    ```mlir
    func.func @f(%x: memref<?x8xf32>) -> memref<?x8xf32> {
      %c0 = arith.constant 0 : index
      %n = memref.dim %x, %c0 : memref<?x8xf32>
      %y = memref.alloc(%n) : memref<?x8xf32>
      linalg.generic {...} ins(%x : memref<?x8xf32>) outs(%y : memref<?x8xf32>) {...}
      return %y : memref<?x8xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(%x: memref<?x8xf32>) -> memref<?x8xf32> {
      ...
      %y = memref.alloc(%n) : memref<?x8xf32>
      call @f__dispatch_0(%x, %y) : (memref<?x8xf32>, memref<?x8xf32>) -> ()
      return %y : memref<?x8xf32>
    }
    func.func private @f__dispatch_0(%arg0: memref<?x8xf32>, %arg1: memref<?x8xf32>) attributes {kiln.dispatch} {
      linalg.generic {...} ins(%arg0 : memref<?x8xf32>) outs(%arg1 : memref<?x8xf32>) {...}
      return
    }
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

#endif // KILN_COMPILER_DISPATCH_PASSES_TD
