// RUN: kiln-opt %s --kiln-tile-dynamic-rows="rows=32 cols=64 depth=64 tail-rows=8" | FileCheck %s

// Dynamic rows, static K and N: a parallel loop over the whole blocks of 32
// rows (they write disjoint rows; nothing padded), then one over the rows
// left in blocks of 8 (tail-rows), the last one zero-padded; B is used
// whole: the matmuls left are 32 x 256 x 768 and 8 x 256 x 768.
// CHECK-LABEL: func.func @rows
// CHECK: scf.forall (%{{.*}}) = (0) to (%{{.*}}) step (32) shared_outs
// CHECK-NOT: tensor.pad
// CHECK: linalg.matmul {kiln.row_block} ins(%{{.*}}, %{{.*}} : tensor<32x256xf32>, tensor<256x768xf32>) outs(%{{.*}} : tensor<32x768xf32>)
// CHECK: tensor.parallel_insert_slice
// CHECK: scf.forall (%{{.*}}) = (0) to (%{{.*}}) step (8) shared_outs
// CHECK: tensor.pad
// CHECK: linalg.matmul {kiln.row_block} ins(%{{.*}}, %{{.*}} : tensor<8x256xf32>, tensor<256x768xf32>) outs(%{{.*}} : tensor<8x768xf32>)
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.matmul
func.func @rows(%a: tensor<?x256xf32>, %b: tensor<256x768xf32>, %c: tensor<?x768xf32>) -> tensor<?x768xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x256xf32>, tensor<256x768xf32>) outs(%c : tensor<?x768xf32>) -> tensor<?x768xf32>
  return %r : tensor<?x768xf32>
}

// Attention's second product: dynamic rows and K. Loops over row blocks and
// K blocks, the accumulator carried through the K loop.
// CHECK-LABEL: func.func @rows_and_depth
// CHECK: scf.forall
// CHECK: scf.for {{.*}} iter_args
// CHECK: linalg.matmul {kiln.row_block} ins(%{{.*}}, %{{.*}} : tensor<32x64xf32>, tensor<64x64xf32>) outs(%{{.*}} : tensor<32x64xf32>)
func.func @rows_and_depth(%a: tensor<?x?xf32>, %b: tensor<?x64xf32>, %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x64xf32>) outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// Static matmuls are left alone.
// CHECK-LABEL: func.func @static
// CHECK-NOT: scf.for
// CHECK: linalg.matmul
func.func @static(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%c : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}
