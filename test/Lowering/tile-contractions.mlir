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

// -----

// Inside a loop (an RNN's time steps) a product of fewer rows than mr takes
// them all as its row tile: 1x16 register tiles, no padding.
// CHECK-LABEL: func.func @matmul_in_loop
// CHECK: scf.for
// CHECK-NOT: tensor.pad
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul_in_loop(%a: tensor<1x32xf32>, %b: tensor<32x64xf32>, %c: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %c) -> (tensor<1x64xf32>) {
    %m = linalg.matmul ins(%a, %b : tensor<1x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<1x64xf32>) -> tensor<1x64xf32>
    scf.yield %m : tensor<1x64xf32>
  }
  return %r : tensor<1x64xf32>
}

// -----

// Padding inside a loop would allocate at every iteration: a product that
// needs it (N = 20) is left as it is.
// CHECK-LABEL: func.func @matmul_in_loop_unpadded
// CHECK-NOT: tensor.pad
// CHECK: linalg.matmul
func.func @matmul_in_loop_unpadded(%a: tensor<1x32xf32>, %b: tensor<32x20xf32>, %c: tensor<1x20xf32>) -> tensor<1x20xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %c) -> (tensor<1x20xf32>) {
    %m = linalg.matmul ins(%a, %b : tensor<1x32xf32>, tensor<32x20xf32>) outs(%acc : tensor<1x20xf32>) -> tensor<1x20xf32>
    scf.yield %m : tensor<1x20xf32>
  }
  return %r : tensor<1x20xf32>
}

// -----

// A zero-filled accumulator: the fill moves into the tiles. With K split
// into k tiles (576 = 3 x 192) it is made per cache tile, before the k loop;
// the whole-matrix fill is gone.
// CHECK-LABEL: func.func @matmul_fill_per_cache_tile
// CHECK: %[[E:.*]] = tensor.empty() : tensor<64x3136xf32>
// CHECK-NOT: linalg.fill {{.*}} tensor<64x3136xf32>
// CHECK: scf.forall (%{{.*}}) = (0) to (3136) step (224) shared_outs(%{{.*}} = %[[E]])
// CHECK: linalg.fill {{.*}} -> tensor<64x224xf32>
// CHECK: scf.for {{.*}} step %c192
func.func @matmul_fill_per_cache_tile(%a: tensor<64x576xf32>, %b: tensor<576x3136xf32>) -> tensor<64x3136xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x3136xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x576xf32>, tensor<576x3136xf32>) outs(%c : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  return %r : tensor<64x3136xf32>
}

// -----

// When one k loop covers all of K, the fill is made per register tile, just
// before the loop that carries the accumulator.
// CHECK-LABEL: func.func @matmul_fill_per_register_tile
// CHECK-NOT: linalg.fill {{.*}} tensor<64x256xf32>
// CHECK: scf.for {{.*}} step %c4
// CHECK: scf.for {{.*}} step %c16
// CHECK: linalg.fill {{.*}} -> tensor<4x16xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<4x16xf32>, vector<4x16xf32>
func.func @matmul_fill_per_register_tile(%a: tensor<64x64xf32>, %b: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}
