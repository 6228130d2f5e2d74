// RUN: kiln-opt %s --split-input-file --kiln-tile-contractions="mr=4 nr=16 mc=8 nc=32 kc=16 min-tiles=1" | FileCheck %s

// The row blocks of a dynamic-shape product (kiln.row_block, inside the
// loops of kiln-tile-dynamic-rows) get the packed kernel when B is a
// constant: its panels are made once, at the function's entry, and shared
// by every block.
// CHECK-LABEL: func.func @row_blocks
// CHECK: arith.constant dense_resource<packed_weights> : tensor<512xf32>
// CHECK-NOT: dense_resource
// CHECK: scf.for
// CHECK: scf.forall
// CHECK: vector.fma
// CHECK: scf.forall
// CHECK: vector.fma
// CHECK-NOT: linalg.matmul
func.func @row_blocks(%a: tensor<8x16xf32>, %c: tensor<8x32xf32>, %n: index) -> tensor<8x32xf32> {
  %w = arith.constant dense<1.5> : tensor<16x32xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %c) -> tensor<8x32xf32> {
    %p = linalg.matmul {kiln.row_block} ins(%a, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%acc : tensor<8x32xf32>) -> tensor<8x32xf32>
    %q = linalg.matmul {kiln.row_block} ins(%a, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%p : tensor<8x32xf32>) -> tensor<8x32xf32>
    scf.yield %q : tensor<8x32xf32>
  }
  return %r : tensor<8x32xf32>
}

// -----

// Without the attribute a product inside a loop keeps the simple register
// tiling (B read where it is).
// CHECK-LABEL: func.func @plain_loop
// CHECK-NOT: packed_weights
// CHECK: return
func.func @plain_loop(%a: tensor<8x16xf32>, %c: tensor<8x32xf32>, %n: index) -> tensor<8x32xf32> {
  %w = arith.constant dense<1.5> : tensor<16x32xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %c) -> tensor<8x32xf32> {
    %p = linalg.matmul ins(%a, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%acc : tensor<8x32xf32>) -> tensor<8x32xf32>
    scf.yield %p : tensor<8x32xf32>
  }
  return %r : tensor<8x32xf32>
}
