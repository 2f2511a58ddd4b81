//===- Passes.td - Dispatch formation ----------------------*- tablegen -*-===//

#ifndef KILN_COMPILER_DISPATCH_PASSES_TD
#define KILN_COMPILER_DISPATCH_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseElementwisePass : Pass<"kiln-fuse-elementwise", "mlir::ModuleOp"> {
  let summary = "Fuses chains of elementwise linalg ops into one op (one dispatch)";
  let description = [{
    Runs on linalg on tensors, before bufferization. Every linalg op later
    becomes a dispatch that reads its inputs from memory and writes its
    output back, so a chain of elementwise ops (modulation, gates, residual
    adds, RoPE, GELU) costs one pass over its tensors per op. This pass
    merges an all-parallel `linalg.generic` into its all-parallel consumer
    (upstream `linalg` elementwise fusion) when

    - the producer's result has that one use (nothing is computed twice and
      no intermediate is kept alive for another consumer), and
    - the consumer reads it through a permutation map: a broadcast would
      recompute the producer (say a sine table) for every broadcast copy.

    Consumers with a reduction loop (contractions, norm statistics) are left
    alone, so the CPU target's contraction and reduction patterns still see
    their plain bodies.

    ```mlir
    // Before: two dispatches, %t written and read back.
    %t = linalg.generic {..parallel..} ins(%a, %b) outs(%e0) { addf }
    %r = linalg.generic {..parallel..} ins(%t, %c) outs(%e1) { mulf }
    // After: one dispatch.
    %r = linalg.generic {..parallel..} ins(%a, %b, %c) outs(%e1) { addf; mulf }
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def NarrowWeightsPass : Pass<"kiln-narrow-weights", "mlir::ModuleOp"> {
  let summary = "Stores the linears' weights as bf16, widened in the contractions";
  let description = [{
    Runs on linalg on tensors, after the weights became tagged arguments
    (kiln-promote-weights-to-arguments). A `kiln.weight` argument whose
    every use is the weight (second) input of a contraction becomes a bf16
    tensor; each of those contractions widens it with `arith.extf` before
    its product. Other weights (norm scales, biases, embeddings, convolution
    kernels) stay f32. `kiln-compile --weights=bf16` runs it, and the
    artifact then stores the narrowed weights as bf16.

    ```mlir
    // Before
    func.func @f(%x: tensor<?x64xf32>, %w: tensor<8x64xf32> {kiln.weight = "w"}) ...
      linalg.generic ins(%x, %w : tensor<?x64xf32>, tensor<8x64xf32>) ... {
      ^bb0(%a: f32, %b: f32, %c: f32):
        %p = arith.mulf %a, %b : f32
    // After
    func.func @f(%x: tensor<?x64xf32>, %w: tensor<8x64xbf16> {kiln.weight = "w"}) ...
      linalg.generic ins(%x, %w : tensor<?x64xf32>, tensor<8x64xbf16>) ... {
      ^bb0(%a: f32, %b: bf16, %c: f32):
        %wide = arith.extf %b : bf16 to f32
        %p = arith.mulf %a, %wide : f32
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"bf16\"",
           "The storage type of the narrowed weights (bf16)">
  ];
  let statistics = [
    Statistic<"narrowed", "narrowed", "Weights narrowed">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect"];
}

def FoldBiasInitPass : Pass<"kiln-fold-bias-init", "mlir::ModuleOp"> {
  let summary = "Contractions start from their bias instead of a broadcast output";
  let description = [{
    Runs on linalg on tensors, before bufferization, for targets whose
    kernels honour `kiln.bias_init` (compiler/dispatch/Attributes.h). A
    linalg contraction whose output is the broadcast of a bias along the
    rows (an all-parallel generic copying its one input into a
    tensor.empty, used only by the contraction; how a biased linear is
    lowered) takes the bias as a third input, which its body ignores, and
    the empty tensor as its output, and is marked `kiln.bias_init`; the
    broadcast is erased. The broadcast was a dispatch of its own writing
    the whole output (46 per step of the benchmark model, ~30 ms), which
    the contraction's first k block then read back; the CPU kernels load
    the bias once per tile instead. Only a bias indexed by one n loop (in
    the second input and the output, not the first) is folded.

    ```mlir
    // Before:
    %c0 = linalg.generic {..parallel..} ins(%bias : tensor<8xf32>) outs(%e : tensor<?x8xf32>) { yield %in }
    %y = linalg.generic {..contraction..} ins(%x, %w) outs(%c0)
    // After:
    %y = linalg.generic {..contraction..} ins(%x, %w, %bias) outs(%e) {kiln.bias_init}
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def FuseContractionEpiloguePass
    : Pass<"kiln-fuse-contraction-epilogue", "mlir::ModuleOp"> {
  let summary = "Elementwise consumers of contractions become their epilogue";
  let description = [{
    Runs on linalg on tensors after kiln-fold-zero-fill and
    kiln-fold-bias-init, for targets whose kernels honour `kiln.epilogue`
    (compiler/dispatch/Attributes.h). When the only user of a zero-init or
    bias-init contraction's result is an all-parallel generic that reads it
    with the identity map and writes a tensor.empty (GELU after the MLP's
    first linear, SiLU, the softmax's division after P V, the gate times
    the attention's output projection plus the residual), the two become
    one contraction: the
    epilogue's other inputs follow the contraction's, indexed through the
    contraction's output map, and its body's ops follow the accumulation.
    The elementwise op was a dispatch of its own reading and writing the
    whole output once more; the CPU kernels apply it in registers when they
    store the last k block.

    ```mlir
    // Before:
    %y = linalg.generic {..contraction..} ins(%x, %w) outs(%e0) {kiln.zero_init} { mulf; addf }
    %g = linalg.generic {..parallel..} ins(%y, %s) outs(%e1) { mulf }
    // After:
    %g = linalg.generic {..contraction..} ins(%x, %w, %s) outs(%e1) {kiln.zero_init, kiln.epilogue} { mulf; addf; mulf }
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def FoldZeroFillPass : Pass<"kiln-fold-zero-fill", "mlir::ModuleOp"> {
  let summary = "Contractions start from zero themselves instead of a filled output";
  let description = [{
    Runs on linalg on tensors, before bufferization, for targets whose
    kernels honour `kiln.zero_init` (compiler/dispatch/Attributes.h). A
    linalg contraction whose output is a `linalg.fill` of +0.0 used only by
    it takes the fill's destination (uninitialized) as its output instead
    and is marked `kiln.zero_init`; the fill is erased. The fill was a
    dispatch of its own, a pass writing the whole output, and the
    contraction's first k block then read those zeros back (the attention
    scores: 78 MB per block of the benchmark model, twice).

    ```mlir
    // Before:
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
    %c = linalg.generic {..contraction..} ins(%a, %b) outs(%z)
    // After:
    %c = linalg.generic {..contraction..} ins(%a, %b) outs(%e) {kiln.zero_init}
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def IsolateEntryResultsPass
    : Pass<"kiln-isolate-entry-results", "mlir::ModuleOp"> {
  let summary = "Gives every entry result a whole allocation of its own";
  let description = [{
    Runs on memref-level IR, before kiln-outline-dispatches. The runtime
    allocates one buffer per output and kernels write it, so each value an
    entry returns must be a whole `memref.alloc` returned once. A result
    that is a view (the VAE's latent mean is the first half of its moments),
    an argument, a constant or an allocation returned twice is copied into
    a fresh identity-layout allocation, and the function's result type
    follows.

    ```mlir
    // Before:
    %moments = memref.alloc(%b) : memref<?x32x8x8xf32>
    %mean = memref.subview %moments[0, 0, 0, 0] [%b, 16, 8, 8] [1, 1, 1, 1]
    return %mean : memref<?x16x8x8xf32, strided<[2048, 64, 8, 1]>>
    // After:
    %out = memref.alloc(%b) : memref<?x16x8x8xf32>
    memref.copy %mean, %out
    return %out : memref<?x16x8x8xf32>
    ```
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

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

def DistributeWorkgroupsPass
    : Pass<"kiln-distribute-workgroups", "mlir::ModuleOp"> {
  let summary = "Splits one parallel loop of each kernel over workgroups";
  let description = [{
    Gives every `kiln.dispatch` function two trailing index arguments,
    `workgroup_id` and `workgroup_count`, and cuts one parallel loop of its
    compute op into `workgroup_count` contiguous blocks; workgroup
    `workgroup_id` runs its block (the op on subviews of its operands). The
    loop is the parallel one with the largest static trip count (else the
    innermost dynamic one): the outermost is often the batch, 1 at run time,
    which would leave one thread working. Blocks along the output's
    innermost dimension are multiples of 16 elements. Any count works, so
    the runtime picks one for its threads. A kernel without a parallel
    dimension runs in workgroup 0 only. `memref.copy` becomes `linalg.copy`
    first. `kiln.flash_attention` splits its heads (every head is
    independent, and one keeps its keys and values in cache).

    With `lower-to-loops` (the default) the restricted op becomes `scf.for`
    loops, which plain upstream lowering takes (the JIT runner); without it
    the op stays a linalg op for the CPU target's tiling and vectorization
    (kiln-cpu-vectorize-contractions).

    Each kernel gets `kiln.workgroup_extent = [binding, dim]`: the
    kernel argument and dimension whose size is the distributed loop's trip
    count, so the host program can state a useful workgroup count (absent:
    a count of 1).

    Host calls run every workgroup in a loop, `host-workgroups` of them
    (default 1), so the module stays a runnable sequential program: the JIT
    tests run it with an awkward count to check the block split.
  }];
  let options = [
    Option<"hostWorkgroups", "host-workgroups", "int64_t", /*default=*/"1",
           "Workgroups each host call runs in sequence">,
    Option<"lowerToLoops", "lower-to-loops", "bool", /*default=*/"true",
           "Turn each kernel's restricted op into scf.for loops">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::math::MathDialect"];
}

#endif // KILN_COMPILER_DISPATCH_PASSES_TD
