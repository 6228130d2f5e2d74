// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-tile-contractions{mr=4 nr=16}),canonicalize)' -split-input-file | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-tile-contractions{mr=4 nr=16 allow-padding=false}))' -split-input-file | FileCheck %s --check-prefix=UNPADDED
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-tile-contractions{mr=4 nr=32 prefetch-weights=true}),canonicalize)' -split-input-file | FileCheck %s --check-prefix=PREFETCH

// 64x576 x 576x3136: cache tiles that divide the problem (64 x 224, and K
// in blocks of 192), the 14 column tiles as an scf.forall (for the threads);
// in a cache tile, column panels outer and 4x16 register tiles inner. The
// accumulators are four vector<16xf32> carried through the k loop, read
// from and written to C once per K block. One row of cache tiles, 16 row
// tiles: each task copies the panel of B it is about to use (192 x 16) into
// a buffer of its own, which the row tiles then read.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%{{.*}}) in (14) shared_outs
// CHECK: %[[BUF:.*]] = tensor.empty() : tensor<192x16xf32>
// CHECK: scf.for {{.*}} step %c192 iter_args({{.*}}, %{{.*}} = %[[BUF]])
// CHECK: scf.for {{.*}} step %c16
// CHECK: %[[PANEL:.*]] = scf.for
// CHECK: vector.transfer_read %arg1{{.*}} : tensor<576x3136xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<192x16xf32>
// CHECK: scf.for {{.*}} step %c4
// CHECK-COUNT-4: vector.transfer_read {{.*}} : tensor<64x224xf32>, vector<16xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.transfer_read %[[PANEL]]{{.*}} : tensor<192x16xf32>, vector<16xf32>
// CHECK-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.yield
// CHECK-COUNT-4: vector.transfer_write {{.*}} : vector<16xf32>, tensor<64x224xf32>
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: tensor<64x576xf32>, %b: tensor<576x3136xf32>, %c: tensor<64x3136xf32>) -> tensor<64x3136xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x576xf32>, tensor<576x3136xf32>) outs(%c : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  return %r : tensor<64x3136xf32>
}


// -----

// 64x256x64 fits one cache tile; it is still split, into 4 column tiles of
// 64, so that threads have work to share.
// CHECK-LABEL: func.func @matmul_split
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs
func.func @matmul_split(%a: tensor<64x64xf32>, %b: tensor<64x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}


// -----

// N = 49, one row of cache tiles: B is read where it is, not copied to pad
// it. The column tiles' panels of 16 read B whole, but the last column
// tile stops them one short (a select) and ends with its last panel (an
// scf.if), which reads B with a mask, past N zeros, and as N ends in its
// first half, with register tiles 8 wide. C is computed 8 x 64 and sliced
// back.
// CHECK-LABEL: func.func @matmul_pad
// CHECK-NOT: -> (tensor<4x32x16xf32>)
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<8x64xf32>)
// CHECK: %[[LAST:.*]] = arith.cmpi eq, %{{.*}}, %c48 : index
// CHECK: %[[END:.*]] = arith.select %[[LAST]], %c0, %c16 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[END]] step %c16
// CHECK: vector.transfer_read %arg1[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<32x49xf32>, vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.if %[[LAST]]
// CHECK: vector.transfer_read %arg1[%{{.*}}, %{{.*}}], %{{.*}} : tensor<32x49xf32>, vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
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

// A zero fill as C's init: the first K block starts its accumulators at
// zero, the later ones read C; C is never filled. B, a constant, is packed
// into panels at compile time (6x4 x 4x20: two panels of 4 x 16, zero
// padded); A is padded to 8 rows.
// CHECK-LABEL: func.func @const_b_zero_fill
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<packed_weights> : tensor<128xf32>
// CHECK: %[[B:.*]] = tensor.expand_shape %[[W]] {{.*}} into tensor<2x4x16xf32>
// CHECK: tensor.pad %arg0 low[0, 0] high[2, 0]
// CHECK-NOT: linalg.fill
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]])
// CHECK: vector.transfer_read %[[B]]
// CHECK: tensor.extract_slice {{.*}} [6, 20] [1, 1] : tensor<8x32xf32> to tensor<6x20xf32>
func.func @const_b_zero_fill(%a: tensor<6x4xf32>) -> tensor<6x20xf32> {
  %b = arith.constant dense<1.0> : tensor<4x20xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x20xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<6x20xf32>) -> tensor<6x20xf32>
  %r = linalg.matmul ins(%a, %b : tensor<6x4xf32>, tensor<4x20xf32>) outs(%c : tensor<6x20xf32>) -> tensor<6x20xf32>
  return %r : tensor<6x20xf32>
}

// -----

// A bias broadcast along the rows (a convolution's): with three K blocks,
// the first starts each accumulator at its row's bias (scf.if), the later
// ones read C. The broadcast is never materialized.
// CHECK-LABEL: func.func @row_bias
// CHECK-NOT: linalg.generic
// CHECK: scf.forall
// CHECK: %[[FIRST:.*]] = arith.cmpi eq
// CHECK: scf.if %[[FIRST]]
// CHECK: tensor.extract %arg2[{{.*}}] : tensor<64xf32>
// CHECK: vector.broadcast
// CHECK: } else {
// CHECK: vector.transfer_read {{.*}} : tensor<64x224xf32>, vector<16xf32>
func.func @row_bias(%a: tensor<64x576xf32>, %b: tensor<576x3136xf32>, %bias: tensor<64xf32>) -> tensor<64x3136xf32> {
  %e = tensor.empty() : tensor<64x3136xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%bias : tensor<64xf32>) outs(%e : tensor<64x3136xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<64x3136xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x576xf32>, tensor<576x3136xf32>) outs(%c : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  return %r : tensor<64x3136xf32>
}

// -----

// A bias along the columns (Gemm's C), one K block: each accumulator starts
// as a vector read of the bias.
// CHECK-LABEL: func.func @column_bias
// CHECK-NOT: linalg.generic
// CHECK-COUNT-4: vector.transfer_read %arg2[{{.*}} : tensor<64xf32>, vector<16xf32>
// CHECK-NEXT: scf.for
func.func @column_bias(%a: tensor<8x32xf32>, %b: tensor<32x64xf32>, %bias: tensor<64xf32>) -> tensor<8x64xf32> {
  %e = tensor.empty() : tensor<8x64xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%bias : tensor<64xf32>) outs(%e : tensor<8x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<8x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<8x32xf32>, tensor<32x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}

// -----

// 512x512 x 512x512: eight rows of cache tiles read B, so it is copied into
// column panels first (the copy is an scf.forall too: groups of 8 panels by
// chunks of 256 rows, each row of a group read along B's row).
// CHECK-LABEL: func.func @packed_b
// CHECK: %[[P:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (4, 2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<32x512x16xf32>)
// CHECK: scf.for {{.*}} to %c256
// CHECK-COUNT-8: vector.transfer_write {{.*}} : vector<16xf32>, tensor<8x256x16xf32>
// CHECK: scf.forall
// CHECK: vector.transfer_read %[[P]]
func.func @packed_b(%a: tensor<512x512xf32>, %b: tensor<512x512xf32>, %c: tensor<512x512xf32>) -> tensor<512x512xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<512x512xf32>, tensor<512x512xf32>) outs(%c : tensor<512x512xf32>) -> tensor<512x512xf32>
  return %r : tensor<512x512xf32>
}

// -----

// Without padding (the upstream tiling): a zero-filled accumulator's fill moves into the tiles. With K split
// into k tiles (576 = 3 x 192) it is made per cache tile, before the k loop;
// the whole-matrix fill is gone.
// UNPADDED-LABEL: func.func @matmul_fill_per_cache_tile
// UNPADDED: %[[E:.*]] = tensor.empty() : tensor<64x3136xf32>
// UNPADDED-NOT: linalg.fill {{.*}} tensor<64x3136xf32>
// UNPADDED: scf.forall (%{{.*}}) = (0) to (3136) step (224) shared_outs(%{{.*}} = %[[E]])
// UNPADDED: linalg.fill {{.*}} -> tensor<64x224xf32>
// UNPADDED: scf.for {{.*}} step %c192
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
// UNPADDED-LABEL: func.func @matmul_fill_per_register_tile
// UNPADDED-NOT: linalg.fill {{.*}} tensor<64x256xf32>
// UNPADDED: scf.for {{.*}} step %c4
// UNPADDED: scf.for {{.*}} step %c16
// UNPADDED: linalg.fill {{.*}} -> tensor<4x16xf32>
// UNPADDED: vector.transfer_read {{.*}} : tensor<4x16xf32>, vector<4x16xf32>
func.func @matmul_fill_per_register_tile(%a: tensor<64x64xf32>, %b: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

// B is an im2col matrix (a 3x3 convolution of a 4-channel 10x10 image, pixels
// flattened): its 16-pixel panels are gathered from the image directly,
// offsets computed once per panel, one vector.gather per row and panel; the
// im2col copy goes. (Four panels: one task, whose loop folds away.)
// CHECK-LABEL: func.func @im2col
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg1 {{.*}} into tensor<400xf32>
// CHECK-COUNT-4: arith.divui
// CHECK: %[[P:.*]] = scf.for {{.*}} -> (tensor<4x36x16xf32>)
// CHECK-COUNT-4: vector.gather %[[X]][%{{.*}}] [%{{.*}}], %{{.*}}, %{{.*}} : tensor<400xf32>, vector<16xi32>
// CHECK: scf.forall
// CHECK: vector.transfer_read %[[P]]
// CHECK-NOT: linalg.generic
func.func @im2col(%w: tensor<8x36xf32>, %x: tensor<4x10x10xf32>, %c: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %e = tensor.empty() : tensor<4x3x3x8x8xf32>
  %col = linalg.generic {indexing_maps = [affine_map<(c, kh, kw, oh, ow) -> (c, oh + kh, ow + kw)>, affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<4x10x10xf32>) outs(%e : tensor<4x3x3x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x3x3x8x8xf32>
  %b = tensor.collapse_shape %col [[0, 1, 2], [3, 4]] : tensor<4x3x3x8x8xf32> into tensor<36x64xf32>
  %r = linalg.matmul ins(%w, %b : tensor<8x36xf32>, tensor<36x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}

// -----

// Elementwise ops on the product (reshaped to NCHW, as a convolution's
// output is), a residual add of a full tensor and a clip to [0, 6], run on
// the accumulators of the last K block before they are stored: the
// generics are gone, the residual is read as vectors of its m x n view.
// CHECK-LABEL: func.func @epilogue
// CHECK-NOT: linalg.generic
// CHECK: %[[RES:.*]] = tensor.collapse_shape %arg3 {{.*}} into tensor<64x256xf32>
// CHECK: scf.forall
// CHECK: vector.fma
// CHECK: scf.yield
// CHECK: vector.transfer_read %[[RES]]
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: arith.minimumf {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write
// CHECK: tensor.expand_shape {{.*}} into tensor<1x64x16x16xf32>
func.func @epilogue(%a: tensor<64x32xf32>, %b: tensor<32x256xf32>, %c: tensor<64x256xf32>, %res: tensor<1x64x16x16xf32>) -> tensor<1x64x16x16xf32> {
  %lo = arith.constant 0.0 : f32
  %hi = arith.constant 6.0 : f32
  %r = linalg.matmul ins(%a, %b : tensor<64x32xf32>, tensor<32x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  %x = tensor.expand_shape %r [[0, 1], [2, 3]] output_shape [1, 64, 16, 16] : tensor<64x256xf32> into tensor<1x64x16x16xf32>
  %e = tensor.empty() : tensor<1x64x16x16xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (0, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %res : tensor<1x64x16x16xf32>, tensor<1x64x16x16xf32>) outs(%e : tensor<1x64x16x16xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %0 = arith.addf %in, %in2 : f32
    linalg.yield %0 : f32
  } -> tensor<1x64x16x16xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x64x16x16xf32>) outs(%e : tensor<1x64x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %lo : f32
    %1 = arith.minimumf %0, %hi : f32
    linalg.yield %1 : f32
  } -> tensor<1x64x16x16xf32>
  return %y : tensor<1x64x16x16xf32>
}

// -----

// Constant weights as B (activations as A): with prefetch-weights, each row
// tile's k loop prefetches one cache line per k of the next B panel into L2
// (16 floats of a 32-wide panel row: row tiles 0 and 2 the first line, 1 and
// 3 the second); the last panel prefetches itself. Without the option,
// nothing is prefetched.
// CHECK-LABEL: func.func @prefetch_weights
// CHECK-NOT: memref.prefetch
// PREFETCH-LABEL: func.func @prefetch_weights
// PREFETCH-DAG: %[[W:.*]] = arith.constant dense_resource<packed_weights> : tensor<6144xf32>
// PREFETCH: %[[B:.*]] = tensor.expand_shape %[[W]] {{.*}} into tensor<3x64x32xf32>
// PREFETCH: %[[BUF:.*]] = bufferization.to_buffer %[[B]] read_only : tensor<3x64x32xf32> to memref<3x64x32xf32>
// PREFETCH: scf.forall
// PREFETCH: %[[NEXT:.*]] = affine.min #{{.*}}(%{{.*}})
// PREFETCH: %[[COL:.*]] = affine.apply #{{.*}}(%{{.*}})
// PREFETCH: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// PREFETCH: memref.prefetch %[[BUF]][%[[NEXT]], %[[K]], %[[COL]]], read, locality<2>, data : memref<3x64x32xf32>
// PREFETCH: vector.fma
func.func @prefetch_weights(%a: tensor<16x64xf32>) -> tensor<16x96xf32> {
  %b = arith.constant dense<1.0> : tensor<64x96xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x96xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x96xf32>) -> tensor<16x96xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x96xf32>) outs(%c : tensor<16x96xf32>) -> tensor<16x96xf32>
  return %r : tensor<16x96xf32>
}

// -----

// Constant weights as A (a convolution: activations as B): with
// prefetch-weights, each row tile's k loop prefetches the k row of the next
// row tile's A panel (16 rows: 4 row tiles of 4; the last prefetches itself).
// CHECK-LABEL: func.func @prefetch_conv_weights
// CHECK-NOT: memref.prefetch
// PREFETCH-LABEL: func.func @prefetch_conv_weights
// PREFETCH-DAG: %[[W:.*]] = arith.constant dense_resource<packed_weights> : tensor<1024xf32>
// PREFETCH: %[[A:.*]] = tensor.expand_shape %[[W]] {{.*}} into tensor<4x64x4xf32>
// PREFETCH: %[[BUF:.*]] = bufferization.to_buffer %[[A]] read_only : tensor<4x64x4xf32> to memref<4x64x4xf32>
// PREFETCH: scf.forall
// PREFETCH: %[[NEXT:.*]] = affine.min #{{.*}}(%{{.*}})
// PREFETCH: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// PREFETCH: memref.prefetch %[[BUF]][%[[NEXT]], %[[K]], %c0], read, locality<2>, data : memref<4x64x4xf32>
// PREFETCH: vector.fma
func.func @prefetch_conv_weights(%b: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %a = arith.constant dense<1.0> : tensor<16x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x32xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x32xf32>) -> tensor<16x32xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}

// -----

// B is X scaled per row (a squeeze-and-excitation block's channel scales,
// broadcast over the pixels, before a 1x1 convolution): the copy of B into
// panels multiplies each row by its scale, and the product of X and the
// scales is never made.
// CHECK-LABEL: func.func @row_scaled_b
// CHECK-NOT: linalg.generic
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2, 3]] : tensor<1x8x4x16xf32> into tensor<8x64xf32>
// CHECK: scf.for %[[ROW:[a-z0-9]+]] =
// CHECK: %[[V:.*]] = vector.transfer_read %[[X]][%[[ROW]], %{{.*}}]
// CHECK: %[[S:.*]] = tensor.extract %arg0[%c0, %{{.*}}, %c0, %c0] : tensor<1x8x1x1xf32>
// CHECK: %[[SV:.*]] = vector.broadcast %[[S]]
// CHECK: arith.mulf %[[V]], %[[SV]] : vector<16xf32>
// CHECK: scf.forall
// CHECK: vector.fma
func.func @row_scaled_b(%s: tensor<1x8x1x1xf32>, %x: tensor<1x8x4x16xf32>) -> tensor<16x64xf32> {
  %a = arith.constant dense<1.0> : tensor<16x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x4x16xf32>
  %xs = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %x : tensor<1x8x1x1xf32>, tensor<1x8x4x16xf32>) outs(%e : tensor<1x8x4x16xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %0 = arith.mulf %in, %in2 : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x4x16xf32>
  %b = tensor.collapse_shape %xs [[0, 1], [2, 3]] : tensor<1x8x4x16xf32> into tensor<8x64xf32>
  %ce = tensor.empty() : tensor<16x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%ce : tensor<16x64xf32>) -> tensor<16x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

// A batch of products with constant, many-rowed A and few columns (a
// Winograd convolution's 36 products on a few tiles): computed the other way
// round, C^T = B^T x A^T per batch (A^T transposed and packed at compile
// time; the 4 columns become 4 rows, no 16-wide panel padding), then
// transposed back. The transposes gather 8 (vector-width) rows of their
// input per vector of output (TransposeKernel.cpp), the last 4 lanes of
// C's masked off.
// CHECK-LABEL: func.func @batch_swapped
// CHECK-SAME: (%[[B:.*]]: tensor<2x8x4xf32>)
// CHECK-DAG: %[[AT:.*]] = arith.constant dense_resource<packed_weights> : tensor<1024xf32>
// CHECK: %[[BF:.*]] = tensor.collapse_shape %[[B]] {{.*}} into tensor<64xf32>
// CHECK: %[[BT:.*]] = scf.forall ({{.*}}) in (2) shared_outs({{.*}}) -> (tensor<2x4x8xf32>)
// CHECK: vector.gather %[[BF]]
// CHECK-NOT: linalg.generic
// CHECK: %[[CT:.*]] = scf.forall ({{.*}}) in (2, 2) shared_outs({{.*}}) -> (tensor<2x4x64xf32>)
// CHECK: vector.fma
// CHECK: %[[CF:.*]] = tensor.collapse_shape %[[CT]] {{.*}} into tensor<512xf32>
// CHECK: %[[C:.*]] = scf.forall ({{.*}}) in (2) shared_outs({{.*}}) -> (tensor<2x64x4xf32>)
// CHECK: %[[MASK:.*]] = vector.constant_mask [4] : vector<8xi1>
// CHECK: vector.gather %[[CF]][%{{.*}}] [%{{.*}}], %[[MASK]]
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<64x4xf32>
// CHECK: return %[[C]]
func.func @batch_swapped(%b: tensor<2x8x4xf32>) -> tensor<2x64x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x64x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x64x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2x64x4xf32>) -> tensor<2x64x4xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x64x8xf32>, tensor<2x8x4xf32>) outs(%c : tensor<2x64x4xf32>) -> tensor<2x64x4xf32>
  return %r : tensor<2x64x4xf32>
}

// -----

// A narrow product with constant, many-rowed A (a convolution's last layers)
// runs swapped, C^T = B^T x A^T; its bias, one value per row of C ([512, 1]),
// is one per column of C^T: read as a [512] vector straight into the
// accumulators (no broadcast copy of C^T), the result transposed back.
// CHECK-LABEL: func.func @swapped_bias
// CHECK-SAME: (%[[B:.*]]: tensor<8x4xf32>, %[[BIAS:.*]]: tensor<512x1xf32>)
// CHECK-NOT: linalg.generic
// (Each transpose is one task here: no forall.)
// CHECK: %[[V:.*]] = tensor.collapse_shape %[[BIAS]] {{\[}}[0, 1]] : tensor<512x1xf32> into tensor<512xf32>
// CHECK: %[[BF:.*]] = tensor.collapse_shape %[[B]] {{\[}}[0, 1]] : tensor<8x4xf32> into tensor<32xf32>
// CHECK: vector.gather %[[BF]]
// CHECK: %[[CT:.*]] = scf.forall {{.*}} -> (tensor<4x512xf32>)
// CHECK: vector.transfer_read %[[V]][%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<512xf32>, vector<16xf32>
// CHECK: vector.fma
// CHECK: %[[CF:.*]] = tensor.collapse_shape %[[CT]]
// CHECK: vector.gather %[[CF]]
// CHECK-NOT: linalg.generic
func.func @swapped_bias(%b: tensor<8x4xf32>, %bias: tensor<512x1xf32>) -> tensor<512x4xf32> {
  %a = arith.constant dense<1.0> : tensor<512x8xf32>
  %e = tensor.empty() : tensor<512x4xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, 0)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%bias : tensor<512x1xf32>) outs(%e : tensor<512x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<512x4xf32>
  %r = linalg.matmul ins(%a, %b : tensor<512x8xf32>, tensor<8x4xf32>) outs(%c : tensor<512x4xf32>) -> tensor<512x4xf32>
  return %r : tensor<512x4xf32>
}

// -----

// The transpose back of a swapped product carries C's elementwise consumers
// (here a Relu): each gathered vector of C goes through them before its one
// store (TransposeKernel.cpp); no generic is left.
// CHECK-LABEL: func.func @swapped_relu
// CHECK: scf.forall {{.*}} -> (tensor<4x512xf32>)
// CHECK: vector.fma
// CHECK: %[[G:.*]] = vector.gather
// CHECK: %[[R:.*]] = arith.maximumf %[[G]], %{{.*}} : vector<8xf32>
// CHECK: vector.transfer_write %[[R]]
// CHECK-NOT: linalg.generic
func.func @swapped_relu(%b: tensor<8x4xf32>) -> tensor<512x4xf32> {
  %a = arith.constant dense<1.0> : tensor<512x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<512x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<512x4xf32>) -> tensor<512x4xf32>
  %r = linalg.matmul ins(%a, %b : tensor<512x8xf32>, tensor<8x4xf32>) outs(%c : tensor<512x4xf32>) -> tensor<512x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%r : tensor<512x4xf32>) outs(%e : tensor<512x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<512x4xf32>
  return %y : tensor<512x4xf32>
}
