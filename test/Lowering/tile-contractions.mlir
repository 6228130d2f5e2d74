// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-tile-contractions{mr=4 nr=16}))' -split-input-file | FileCheck %s

// 64x3136x576: cache tiles that divide the problem (64 x 224 x 192), the
// 14 column tiles as an scf.forall (for the threads), a 4x16 register tile,
// and the accumulator carried as a vector through the k loop.
// CHECK-LABEL: func.func @matmul
// CHECK: scf.forall (%{{.*}}) = (0) to (3136) step (224) shared_outs
// CHECK: scf.for {{.*}} step %c192
// CHECK: scf.for {{.*}} step %c4
// CHECK: scf.for {{.*}} step %c16
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<4x16xf32>, vector<4x16xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[V:.*]] = %[[ACC]]) -> (tensor<4x16xf32>, vector<4x16xf32>)
// CHECK-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.yield
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: tensor<64x576xf32>, %b: tensor<576x3136xf32>, %c: tensor<64x3136xf32>) -> tensor<64x3136xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x576xf32>, tensor<576x3136xf32>) outs(%c : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  return %r : tensor<64x3136xf32>
}

// -----

// 64x256x64 fits one cache tile; it is still split, into 4 column tiles of
// 64, so that threads have work to share.
// CHECK-LABEL: func.func @matmul_split
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (64) shared_outs
func.func @matmul_split(%a: tensor<64x64xf32>, %b: tensor<64x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

// N = 49 is padded to 64 and the result sliced back.
// CHECK-LABEL: func.func @matmul_pad
// CHECK: tensor.pad {{.*}} high[0, 15]
// CHECK: vector.fma
// CHECK: tensor.extract_slice {{.*}}[0, 0] [8, 49] [1, 1] : tensor<8x64xf32> to tensor<8x49xf32>
func.func @matmul_pad(%a: tensor<8x32xf32>, %b: tensor<32x49xf32>, %c: tensor<8x49xf32>) -> tensor<8x49xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<8x32xf32>, tensor<32x49xf32>) outs(%c : tensor<8x49xf32>) -> tensor<8x49xf32>
  return %r : tensor<8x49xf32>
}
