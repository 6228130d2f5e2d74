// RUN: kiln-opt %s --convert-onnx-to-linalg=conv-as-matmul=false -split-input-file | FileCheck %s

// Conv becomes one linalg.generic over a zero-padded input, the input read at
// o * stride + k * dilation, X / W / Y viewed with a group dim. Each output
// here sums 3 x 3 x 3 = 27 products (at most 64): iteration dims
// (n, g, m, o..., c, k...), the sums innermost.

// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK: #[[YMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @conv_pads
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : f32
// CHECK: %[[XG:.*]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 1, 3, 10, 10] : tensor<1x3x10x10xf32> into tensor<1x1x3x10x10xf32>
// CHECK: %[[WG:.*]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [1, 4, 3, 3, 3] : tensor<4x3x3x3xf32> into tensor<1x4x3x3x3xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x1x4x8x8xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<1x1x4x8x8xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[YMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[XG]], %[[WG]] : tensor<1x1x3x10x10xf32>, tensor<1x4x3x3x3xf32>) outs(%[[INIT]] : tensor<1x1x4x8x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[WT:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[MUL:.*]] = arith.mulf %[[IN]], %[[WT]] : f32
// CHECK-NEXT: %[[ADD:.*]] = arith.addf %[[ACC]], %[[MUL]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]] : f32
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x4x8x8xf32> into tensor<1x4x8x8xf32>
// CHECK: return %[[R]]
func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

// Groups split the channels; the bias, viewed as [G, M/G, 1, 1], initializes
// the accumulator. Stride 2 over 6 leaves the last input row unread, so no
// padding is needed.
// CHECK: #[[BMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, 0, 0)>
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 * 2 + d7)>
// CHECK-LABEL: func.func @conv_bias_group
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x6x6xf32>, %[[W:.*]]: tensor<6x2x3x3xf32>, %[[B:.*]]: tensor<6xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[XG:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 2, 6, 6]
// CHECK: %[[WG:.*]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
// CHECK: %[[BG:.*]] = tensor.expand_shape %[[B]] {{\[}}[0, 1, 2, 3]] output_shape [2, 3, 1, 1]
// CHECK: %[[BE:.*]] = tensor.empty() : tensor<2x2x3x2x2xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[BMAP]], #[[ID]]], {{.*}} ins(%[[BG]] : tensor<2x3x1x1xf32>) outs(%[[BE]] : tensor<2x2x3x2x2xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], {{.*}} ins(%[[XG]], %[[WG]] : tensor<2x2x2x6x6xf32>, tensor<2x3x2x3x3xf32>) outs(%[[INIT]] : tensor<2x2x3x2x2xf32>)
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2], [3], [4]] : tensor<2x2x3x2x2xf32> into tensor<2x6x2x2xf32>
// CHECK: return %[[R]]
func.func @conv_bias_group(%x: tensor<2x4x6x6xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<2x6x2x2xf32> {
  %y = onnx.Conv %x, %w, %b {group = 2 : i64, strides = array<i64: 2, 2>} : (tensor<2x4x6x6xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x2x2xf32>
  return %y : tensor<2x6x2x2xf32>
}

// -----

// 1-D with dilation 2: the input is read at o + 2 * k.
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 + d5 * 2)>
// CHECK: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d4, d5)>
// CHECK: #[[YMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @conv_1d_dilated
// CHECK: linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[YMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: tensor<1x1x2x10xf32>, tensor<1x3x2x3xf32>
// CHECK-SAME: outs(%{{.*}} : tensor<1x1x3x6xf32>)
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x1x3x6xf32> into tensor<1x3x6xf32>
func.func @conv_1d_dilated(%x: tensor<1x2x10xf32>, %w: tensor<3x2x3xf32>) -> tensor<1x3x6xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none {dilations = array<i64: 2>} : (tensor<1x2x10xf32>, tensor<3x2x3xf32>, none) -> tensor<1x3x6xf32>
  return %y : tensor<1x3x6xf32>
}

// -----

// 3-D SAME_UPPER: the pads come from computeWindowGeometry, the extra cell at
// the end of an odd total goes high.
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d6, d3 * 2 + d7, d4 * 2 + d8, d5 * 2 + d9)>
// CHECK-LABEL: func.func @conv_3d_same_upper
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x5x6xf32>
// CHECK: tensor.pad %[[X]] low[0, 0, 0, 0, 0] high[0, 0, 0, 1, 0]
// CHECK: : tensor<1x1x4x5x6xf32> to tensor<1x1x4x6x6xf32>
// CHECK: linalg.generic {indexing_maps = [#[[XMAP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]}
// CHECK: tensor.collapse_shape {{.*}} into tensor<1x2x2x3x3xf32>
func.func @conv_3d_same_upper(%x: tensor<1x1x4x5x6xf32>, %w: tensor<2x1x2x2x2xf32>) -> tensor<1x2x2x3x3xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2, 2>} : (tensor<1x1x4x5x6xf32>, tensor<2x1x2x2x2xf32>, none) -> tensor<1x2x2x3x3xf32>
  return %y : tensor<1x2x2x3x3xf32>
}

// -----

// Each output sums 8 x 3 x 3 = 72 products (more than 64): iteration dims
// (n, g, m, c, k..., o...), the output pixels innermost.
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d3, d4 + d6, d5 + d7)>
// CHECK-LABEL: func.func @conv_long_sums
// CHECK: linalg.generic {indexing_maps = [#[[XMAP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
func.func @conv_long_sums(%x: tensor<1x8x6x6xf32>, %w: tensor<4x8x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none : (tensor<1x8x6x6xf32>, tensor<4x8x3x3xf32>, none) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}
