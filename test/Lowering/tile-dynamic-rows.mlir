// RUN: kiln-opt %s --kiln-tile-dynamic-rows="rows=32 cols=64 depth=64 tail-rows=8" | FileCheck %s

// Dynamic rows, static K and N: whole blocks of 32 rows (nothing padded)
// and the rows left in blocks of 8 (tail-rows, the last one zero-padded),
// in one parallel loop (the blocks write disjoint rows) whose iterations
// alternate the two kinds while both last; B is used whole: the matmuls
// left are 8 x 256 x 768 and 32 x 256 x 768.
// CHECK-LABEL: func.func @rows
// CHECK: %[[M:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[FULL:.*]] = arith.muli %{{.*}}, %c64
// CHECK: %[[REST:.*]] = arith.remui %[[M]], %c64
// CHECK: %[[NW:.*]] = arith.divui %[[FULL]], %c32
// CHECK: %[[NT:.*]] = arith.ceildivui %[[REST]], %c8
// CHECK: %[[BOTH:.*]] = arith.minui %[[NW]], %[[NT]]
// CHECK: %[[TOTAL:.*]] = arith.addi %[[NW]], %[[NT]]
// CHECK: scf.forall (%[[T:.*]]) in (%[[TOTAL]]) shared_outs(%[[C:.*]] = %{{.*}})
// CHECK: %[[TAIL:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : i1
// CHECK: %[[ROW:.*]] = arith.select %[[TAIL]], %{{.*}}, %{{.*}} : index
// CHECK: %[[N:.*]] = arith.select %[[TAIL]], %{{.*}}, %c32 : index
// CHECK: %[[ROWS:.*]] = tensor.extract_slice %[[C]][%[[ROW]], 0] [%[[N]], 768]
// CHECK: %[[OUT:.*]] = scf.if %[[TAIL]] -> (tensor<?x768xf32>) {
// CHECK: tensor.pad
// CHECK: linalg.matmul {kiln.row_block} ins(%{{.*}}, %{{.*}} : tensor<8x256xf32>, tensor<256x768xf32>) outs(%{{.*}} : tensor<8x768xf32>)
// CHECK: } else {
// CHECK-NOT: tensor.pad
// CHECK: linalg.matmul {kiln.row_block} ins(%{{.*}}, %{{.*}} : tensor<32x256xf32>, tensor<256x768xf32>) outs(%{{.*}} : tensor<32x768xf32>)
// CHECK: tensor.parallel_insert_slice %[[OUT]] into %[[C]][%[[ROW]], 0] [%[[N]], 768]
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

// In a loop (an RNN's time steps) whose carried buffer is the product's
// destination: the rows are read from the loop's initial value, and the
// block counts computed before the loop (kiln-plan-arena sizes the padded
// blocks' buffers by the parallel loop's trip count).
// CHECK-LABEL: func.func @in_loop
// CHECK-SAME: (%[[H:[^:]*]]: tensor<?x16xf32>, %{{[^:]*}}: tensor<16x16xf32>, %[[S:[^:]*]]: tensor<?x16xf32>, %[[T:[^:]*]]: index)
// CHECK: %[[M:.*]] = tensor.dim %[[S]], %c0
// CHECK: %[[TOTAL:.*]] = arith.addi
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[S]])
// CHECK-NOT: tensor.dim
// CHECK: scf.forall (%{{.*}}) in (%[[TOTAL]]) shared_outs(%{{.*}} = %[[ACC]])
func.func @in_loop(%h: tensor<?x16xf32>, %r: tensor<16x16xf32>, %s: tensor<?x16xf32>, %t: index) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %out = scf.for %i = %c0 to %t step %c1 iter_args(%acc = %s) -> tensor<?x16xf32> {
    %f = linalg.fill ins(%zero : f32) outs(%acc : tensor<?x16xf32>) -> tensor<?x16xf32>
    %p = linalg.matmul ins(%h, %r : tensor<?x16xf32>, tensor<16x16xf32>) outs(%f : tensor<?x16xf32>) -> tensor<?x16xf32>
    scf.yield %p : tensor<?x16xf32>
  }
  return %out : tensor<?x16xf32>
}
