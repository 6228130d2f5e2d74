// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// One image, one group: im2col into [C*kh*kw, oh*ow], then W[M, C*kh*kw]
// times it with linalg.matmul, accumulating onto the bias.
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d3 * 2 + d1, d4 * 2 + d2)>
// CHECK-LABEL: func.func @conv_im2col
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: %[[COL5:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[P]] : tensor<1x3x9x9xf32>) outs(%{{.*}} : tensor<3x3x3x4x4xf32>)
// CHECK: %[[COL:.*]] = tensor.collapse_shape %[[COL5]] {{\[}}[0, 1, 2], [3, 4]] : tensor<3x3x3x4x4xf32> into tensor<27x16xf32>
// CHECK: %[[W2:.*]] = tensor.collapse_shape %[[W]] {{.*}} into tensor<108xf32>
// CHECK: %[[WM:.*]] = tensor.expand_shape %[[W2]] {{.*}} into tensor<4x27xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4x1xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul ins(%[[WM]], %[[COL]] : tensor<4x27xf32>, tensor<27x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>)
// CHECK: tensor.expand_shape {{.*}} into tensor<1x4x4x4xf32>
func.func @conv_im2col(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %y = onnx.Conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

// A 1x1 stride-1 conv reads the input as the matrix directly: no im2col.
// CHECK-LABEL: func.func @conv_pointwise
// CHECK-NOT: linalg.generic {{.*}}ins(%{{.*}} : tensor<1x8x5x5xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x25xf32>)
func.func @conv_pointwise(%x: tensor<1x8x5x5xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<1x16x5x5xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none : (tensor<1x8x5x5xf32>, tensor<16x8x1x1xf32>, none) -> tensor<1x16x5x5xf32>
  return %y : tensor<1x16x5x5xf32>
}

// -----

// A batch is one product with N times the columns: im2col into
// [C*kh*kw, N*oh*ow] (images outside the output pixels), then the
// [M, N, oh*ow] product is transposed back to [N, M, oh*ow].
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
// CHECK-LABEL: func.func @conv_batch
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8x8xf32>
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: %[[COL6:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], {{.*}}]{{.*}} ins(%[[P]] : tensor<2x3x9x9xf32>) outs(%{{.*}} : tensor<3x3x3x2x4x4xf32>)
// CHECK: %[[COL:.*]] = tensor.collapse_shape %[[COL6]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<3x3x3x2x4x4xf32> into tensor<27x32xf32>
// CHECK: %[[Y:.*]] = linalg.matmul ins(%{{.*}}, %[[COL]] : tensor<4x27xf32>, tensor<27x32xf32>) outs(%{{.*}} : tensor<4x32xf32>)
// CHECK: %[[Y3:.*]] = tensor.expand_shape %[[Y]] {{\[}}[0], [1, 2]] output_shape [4, 2, 16] : tensor<4x32xf32> into tensor<4x2x16xf32>
// CHECK: linalg.transpose ins(%[[Y3]] : tensor<4x2x16xf32>) outs(%{{.*}} : tensor<2x4x16xf32>) permutation = [1, 0, 2]
// CHECK: tensor.expand_shape {{.*}} into tensor<2x4x4x4xf32>
func.func @conv_batch(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x4x4xf32> {
  %y = onnx.Conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  return %y : tensor<2x4x4x4xf32>
}

// -----

// A 1x1 conv of a batch still needs the copy that puts the channels first.
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d1 + d4, d2 + d5)>
// CHECK-LABEL: func.func @conv_pointwise_batch
// CHECK: %[[COL6:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], {{.*}}]{{.*}} ins(%{{.*}} : tensor<3x8x5x5xf32>) outs(%{{.*}} : tensor<8x1x1x3x5x5xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x75xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<16x3x25xf32>) outs(%{{.*}} : tensor<3x16x25xf32>) permutation = [1, 0, 2]
func.func @conv_pointwise_batch(%x: tensor<3x8x5x5xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<3x16x5x5xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none : (tensor<3x8x5x5xf32>, tensor<16x8x1x1xf32>, none) -> tensor<3x16x5x5xf32>
  return %y : tensor<3x16x5x5xf32>
}
