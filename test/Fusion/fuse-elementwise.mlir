// RUN: kiln-opt %s --kiln-fuse-elementwise | FileCheck %s

// Elementwise producers fuse into their consumer ...
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @chain(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %r = arith.addf %x, %y : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %m = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e2 : tensor<4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// ... but the expand_shape of a grouped convolution's padded input stays
// after the pad, so the pad still takes the producer's own result (which
// kiln-decompose-pads can then have written into the padded buffer).
// CHECK-LABEL: func.func @pad_then_expand
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: %[[P:.*]] = tensor.pad %[[G]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.expand_shape %[[P]] {{\[}}[0], [1, 2], [3], [4]]
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @pad_then_expand(%a: tensor<1x4x6x6xf32>) -> tensor<1x4x1x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x6x6xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<1x4x6x6xf32>) outs(%e : tensor<1x4x6x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x6xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6x6xf32> to tensor<1x4x8x8xf32>
  %x = tensor.expand_shape %p [[0], [1, 2], [3], [4]] output_shape [1, 4, 1, 8, 8] : tensor<1x4x8x8xf32> into tensor<1x4x1x8x8xf32>
  return %x : tensor<1x4x1x8x8xf32>
}

// ... but not into a consumer that reads them through a broadcast: the
// sigmoid of 8 channel scales stays one op on 8 elements instead of running
// for each of the 8 x 4 x 16 elements of the product. A producer read
// through constant 0s on unit dims (each element once) still fuses.
// CHECK-LABEL: func.func @no_fusion_through_broadcast
// CHECK: %[[SIG:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: -> tensor<1x8x1x1xf32>
// CHECK: linalg.generic {{.*}} ins(%[[SIG]], %{{.*}} : tensor<1x8x1x1xf32>, tensor<1x8x4x16xf32>)
// CHECK: arith.negf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
func.func @no_fusion_through_broadcast(%s: tensor<1x8x1x1xf32>, %x: tensor<1x8x4x16xf32>) -> tensor<1x8x4x16xf32> {
  %one = arith.constant 1.0 : f32
  %se = tensor.empty() : tensor<1x8x1x1xf32>
  %sig = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x8x1x1xf32>) outs(%se : tensor<1x8x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    %d = arith.addf %e, %one : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x8x1x1xf32>
  %xe = tensor.empty() : tensor<1x8x4x16xf32>
  %neg = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x8x4x16xf32>) outs(%xe : tensor<1x8x4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<1x8x4x16xf32>
  %prod = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sig, %neg : tensor<1x8x1x1xf32>, tensor<1x8x4x16xf32>) outs(%xe : tensor<1x8x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<1x8x4x16xf32>
  return %prod : tensor<1x8x4x16xf32>
}
