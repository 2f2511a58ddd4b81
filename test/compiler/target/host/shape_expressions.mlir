// RUN: kiln-opt --split-input-file --kiln-test-shape-expressions --verify-diagnostics %s | FileCheck %s

// Tests that buffer sizes of a host program become artifact expressions over
// the dynamic sizes of its arguments, through index arithmetic and views.
// CHECK-LABEL: func.func @sizes
func.func @sizes(%x: memref<?x?x32xf32>, %t: memref<?x?x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %x, %c0 : memref<?x?x32xf32>
  %s = memref.dim %x, %c1 : memref<?x?x32xf32>
  %n = memref.dim %t, %c1 : memref<?x?x32xf32>
  // CHECK: kiln.test.sizes = ["arg0.d0", "(arg0.d1 + arg1.d1)", "32"]
  %joint = arith.addi %s, %n : index
  %a = memref.alloc(%b, %joint) : memref<?x?x32xf32>
  // CHECK: kiln.test.sizes = ["ceildiv((arg0.d1 * 2), 3)"]
  %c = affine.apply affine_map<()[s0] -> ((s0 * 2) ceildiv 3)>()[%s]
  %d = memref.alloc(%c) : memref<?xf32>
  // A view's sizes: a head split, then a collapse back into a new buffer.
  %h = memref.expand_shape %a [[0], [1], [2, 3]] output_shape [%b, %joint, 2, 16] : memref<?x?x32xf32> into memref<?x?x2x16xf32>
  %flat = memref.collapse_shape %h [[0, 1], [2, 3]] : memref<?x?x2x16xf32> into memref<?x32xf32>
  %c0b = arith.constant 0 : index
  %rows = memref.dim %flat, %c0b : memref<?x32xf32>
  // CHECK: kiln.test.sizes = ["((1 * arg0.d0) * (arg0.d1 + arg1.d1))", "32"]
  %e = memref.alloc(%rows) : memref<?x32xf32>
  // A remainder is expressed with a floor division.
  %r = arith.remui %s, %n : index
  // CHECK: kiln.test.sizes = ["(arg0.d1 - (floordiv(arg0.d1, arg1.d1) * arg1.d1))"]
  %f = memref.alloc(%r) : memref<?xf32>
  return
}

// -----

// Tests that an index argument cannot be a symbol: only tensor sizes are.
// expected-error @+1 {{an index argument of the host program (only tensor sizes can be symbols)}}
func.func @index_argument(%k: index) {
  %a = memref.alloc(%k) : memref<?xf32>
  return
}
