// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-tile-contractions{vector-width=16}),canonicalize)' -split-input-file | FileCheck %s

// A 3x3 depthwise convolution of 8 channels of 14x14 (padded to 16x16) with
// a per-channel bias and a clip: one task per (image, channel) (the unit batch
// dim folded away), the nine
// taps broadcast once per channel, rows of 14 computed as one masked vector
// of 16 (nine FMAs), the bias as the start value, the clip applied before
// the store; no linalg op is left.
// CHECK-LABEL: func.func @depthwise
// CHECK-NOT: linalg.
// CHECK: scf.forall (%[[C:.*]]) in (8)
// CHECK-COUNT-9: vector.broadcast
// CHECK: tensor.extract %arg2[%[[C]]] : tensor<8xf32>
// CHECK: scf.for
// CHECK-COUNT-9: vector.fma {{.*}} : vector<16xf32>
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: arith.minimumf {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<14x14xf32>
// CHECK-NOT: linalg.
func.func @depthwise(%x: tensor<1x8x16x16xf32>, %w: tensor<8x3x3xf32>, %bias: tensor<8xf32>) -> tensor<1x8x14x14xf32> {
  %lo = arith.constant 0.0 : f32
  %hi = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x8x14x14xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (c)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : tensor<8xf32>) outs(%e : tensor<1x8x14x14xf32>) {
  ^bb0(%b: f32, %o: f32):
    linalg.yield %b : f32
  } -> tensor<1x8x14x14xf32>
  %y = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x8x16x16xf32>, tensor<8x3x3xf32>) outs(%init : tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<1x8x14x14xf32>) outs(%e : tensor<1x8x14x14xf32>) {
  ^bb0(%in: f32, %o: f32):
    %0 = arith.maximumf %in, %lo : f32
    %1 = arith.minimumf %0, %hi : f32
    linalg.yield %1 : f32
  } -> tensor<1x8x14x14xf32>
  return %z : tensor<1x8x14x14xf32>
}

// -----

// Stride 2: each tap reads 2 x 8 inputs and keeps the even lanes (rows of 7
// outputs: vectors of 8).
// CHECK-LABEL: func.func @depthwise_stride2
// CHECK: vector.transfer_read {{.*}} : tensor<1x4x15x15xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xf32>, vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
func.func @depthwise_stride2(%x: tensor<1x4x15x15xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x7x7xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x7x7xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x7x7xf32>) -> tensor<1x4x7x7xf32>
  %y = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x4x15x15xf32>, tensor<4x3x3xf32>) outs(%init : tensor<1x4x7x7xf32>) -> tensor<1x4x7x7xf32>
  return %y : tensor<1x4x7x7xf32>
}

// -----

// A zero-padded input is read from its source: the first vector of each row
// reads the row's first 16 pixels and shifts them one lane right for the
// left tap (the padding's zero comes in); the first and last output rows,
// whose taps reach past the top and bottom, are peeled off the row loop
// (1 to 31), where no tap needs a check; the padded copy is gone.
// CHECK-LABEL: func.func @depthwise_unpadded
// CHECK-NOT: tensor.pad
// CHECK-NOT: vector.gather
// CHECK: scf.forall
// CHECK: %[[ROW:.*]] = vector.transfer_read %arg0[{{.*}}, %c0]{{.*}} : tensor<1x4x32x32xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[ROW]], %{{.*}} [16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] : vector<16xf32>, vector<16xf32>
// CHECK: scf.for %{{.*}} = %c1 to %c31 step %c1
// CHECK-NOT: tensor.pad
func.func @depthwise_unpadded(%x: tensor<1x4x32x32xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x32x32xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x32x32xf32> to tensor<1x4x34x34xf32>
  %e = tensor.empty() : tensor<1x4x32x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x32x32xf32>) -> tensor<1x4x32x32xf32>
  %y = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%p, %w : tensor<1x4x34x34xf32>, tensor<4x3x3xf32>) outs(%init : tensor<1x4x32x32xf32>) -> tensor<1x4x32x32xf32>
  return %y : tensor<1x4x32x32xf32>
}

// -----

// A depthwise convolution whose result is also summed per channel (a
// GlobalAveragePool's reduction, as in a squeeze-and-excitation block): each
// task sums the plane it wrote (vectors of its rows, the last masked) into a
// second shared output; the reduction generic is gone.
// CHECK-LABEL: func.func @depthwise_squeeze
// CHECK-NOT: linalg.generic
// CHECK: %[[R:.*]]:2 = scf.forall (%[[C:.*]]) in (4) shared_outs(%{{.*}} = %{{.*}}, %[[S:.*]] = %{{.*}}) -> (tensor<1x4x14x14xf32>, tensor<1x4xf32>)
// CHECK: vector.fma
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %{{.*}} : vector<16xf32> into f32
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[S]][0, %[[C]]] [1, 1] [1, 1] : tensor<1x1xf32> into tensor<1x4xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @depthwise_squeeze(%x: tensor<1x4x16x16xf32>, %w: tensor<4x3x3xf32>) -> (tensor<1x4x14x14xf32>, tensor<1x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x14x14xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x14x14xf32>) -> tensor<1x4x14x14xf32>
  %y = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x4x16x16xf32>, tensor<4x3x3xf32>) outs(%init : tensor<1x4x14x14xf32>) -> tensor<1x4x14x14xf32>
  %c = tensor.collapse_shape %y [[0], [1], [2, 3]] : tensor<1x4x14x14xf32> into tensor<1x4x196xf32>
  %se = tensor.empty() : tensor<1x4xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%se : tensor<1x4xf32>) -> tensor<1x4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(n, c, p) -> (n, c, p)>, affine_map<(n, c, p) -> (n, c)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%c : tensor<1x4x196xf32>) outs(%sinit : tensor<1x4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  } -> tensor<1x4xf32>
  return %y, %s : tensor<1x4x14x14xf32>, tensor<1x4xf32>
}
