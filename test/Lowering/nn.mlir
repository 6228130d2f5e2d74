// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// LayerNormalization over the last dim: a sum, the mean, the sum of squared
// deviations from it (two passes, accumulated in f64), 1 / sqrt(var + eps),
// then one elementwise generic; Mean comes back with its size-1 dim.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK: #[[LEAD:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK: #[[LAST:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x8xf32>, %[[S:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG: %[[EPS:.*]] = arith.constant 0.0010000000474974513 : f64
// CHECK-DAG: %[[N:.*]] = arith.constant 8.000000e+00 : f64
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[LEAD]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x4xf64>)
// CHECK: arith.extf
// CHECK: %[[MEAN:.*]] = linalg.generic
// CHECK: arith.divf %{{.*}}, %[[N]] : f64
// CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[LEAD]], #[[LEAD]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]] : tensor<2x4x8xf32>, tensor<2x4xf64>)
// CHECK: %[[D:.*]] = arith.subf %{{.*}}, %{{.*}} : f64
// CHECK: %[[D2:.*]] = arith.mulf %[[D]], %[[D]] : f64
// CHECK: %[[INV:.*]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<2x4xf64>)
// CHECK: %[[VAR:.*]] = arith.divf %{{.*}}, %[[N]] : f64
// CHECK: %[[VE:.*]] = arith.addf %[[VAR]], %[[EPS]] : f64
// CHECK: %[[SD:.*]] = math.sqrt %[[VE]] : f64
// CHECK: arith.divf %[[ONE]], %[[SD]] : f64
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[LEAD]], #[[LEAD]], #[[LAST]], #[[LAST]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[MEAN]], %[[INV]], %[[S]], %[[B]] :
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: %[[M32:.*]] = linalg.generic {{.*}} ins(%[[MEAN]] : tensor<2x4xf64>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[MF:.*]] = tensor.collapse_shape %[[M32]]
// CHECK: %[[M:.*]] = tensor.expand_shape %[[MF]] {{.*}} into tensor<2x4x1xf32>
// CHECK: return %[[Y]], %[[M]]
func.func @layer_norm(%x: tensor<2x4x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x1xf32>) {
  %y:3 = onnx.LayerNormalization %x, %s, %b {epsilon = 1.0e-3 : f32} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x1xf32>, tensor<2x4x1xf32>)
  return %y#0, %y#1 : tensor<2x4x8xf32>, tensor<2x4x1xf32>
}

// -----

// axis = 0 reduces everything into rank-0 statistics; without B the last
// generic has no bias operand.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[NONE:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @layer_norm_axis0
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[S:.*]]: tensor<3x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[NONE]]], iterator_types = ["reduction", "reduction"]} ins(%[[X]] : tensor<3x4xf32>) outs(%{{.*}} : tensor<f64>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[NONE]], #[[NONE]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %{{.*}}, %{{.*}}, %[[S]] : tensor<3x4xf32>, tensor<f64>, tensor<f64>, tensor<3x4xf32>)
// CHECK-NOT: arith.addf
// CHECK: return %[[Y]]
func.func @layer_norm_axis0(%x: tensor<3x4xf32>, %s: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %none = onnx.NoValue
  %y:3 = onnx.LayerNormalization %x, %s, %none {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>, none) -> (tensor<3x4xf32>, tensor<1x1xf32>, tensor<1x1xf32>)
  return %y#0 : tensor<3x4xf32>
}

// -----

// InstanceNormalization: statistics per (n, c) over the spatial dims; scale
// and bias are read per channel.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK: #[[NC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @instance_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x5xf32>, %[[S:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[NC]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[X]] : tensor<2x3x4x5xf32>) outs(%{{.*}} : tensor<2x3xf64>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[NC]], #[[NC]], #[[C]], #[[C]], #[[ID]]], {{.*}} ins(%[[X]], %{{.*}}, %{{.*}}, %[[S]], %[[B]] :
// CHECK: return %[[Y]]
func.func @instance_norm(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  %y = onnx.InstanceNormalization %x, %s, %b : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
  return %y : tensor<2x3x4x5xf32>
}

// -----

// GroupNormalization: channels split into [groups, channels / group], the
// statistics per (n, group); opset-18 scale and bias are per group.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK: #[[NG:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK: #[[G:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @group_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x6x5xf32>, %[[S:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[XG:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2], [3]] output_shape [2, 3, 2, 5]
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[NG]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[XG]] : tensor<2x3x2x5xf32>) outs(%{{.*}} : tensor<2x3xf64>)
// CHECK: %[[YG:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[NG]], #[[NG]], #[[G]], #[[G]], #[[ID]]], {{.*}} ins(%[[XG]], %{{.*}}, %{{.*}}, %[[S]], %[[B]] :
// CHECK: %[[Y:.*]] = tensor.collapse_shape %[[YG]] {{\[}}[0], [1, 2], [3]] : tensor<2x3x2x5xf32> into tensor<2x6x5xf32>
// CHECK: return %[[Y]]
func.func @group_norm(%x: tensor<2x6x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x6x5xf32> {
  %y = onnx.GroupNormalization %x, %s, %b {num_groups = 3 : i64} : (tensor<2x6x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x6x5xf32>
  return %y : tensor<2x6x5xf32>
}

// -----

// ConvTranspose with kernel 2, stride 2: each of the four output phases
// (outputs two apart) gets one tap of the flipped, channel-swapped kernel,
// a 1x1 convolution (here a matmul), inserted with strides 2.
// CHECK: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, -d3 + 1, -d4 + 1)>
// CHECK-LABEL: func.func @conv_transpose_k2s2
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x4x4xf32>, %[[W:.*]]: tensor<8x4x2x2xf32>)
// CHECK: %[[WG:.*]] = tensor.expand_shape %[[W]] {{.*}} into tensor<1x8x4x2x2xf32>
// CHECK: %[[F:.*]] = linalg.generic {indexing_maps = [#[[FLIP]], #{{.*}}], {{.*}} ins(%[[WG]] : tensor<1x8x4x2x2xf32>) outs(%{{.*}} : tensor<1x4x8x2x2xf32>)
// CHECK: %[[FW:.*]] = tensor.collapse_shape %[[F]] {{.*}} into tensor<4x8x2x2xf32>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x4x8x8xf32>
// CHECK: tensor.extract_slice %[[FW]][0, 0, 1, 1] [4, 8, 1, 1] [1, 1, 2, 2]
// CHECK: %[[P0:.*]] = linalg.matmul
// CHECK: %[[Y0:.*]] = tensor.expand_shape %{{.*}} into tensor<1x4x4x4xf32>
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[Y0]] into %[[INIT]][0, 0, 0, 0] [1, 4, 4, 4] [1, 1, 2, 2]
// CHECK: tensor.extract_slice %[[FW]][0, 0, 1, 0] [4, 8, 1, 1] [1, 1, 2, 2]
// CHECK: linalg.matmul
// CHECK: %[[R1:.*]] = tensor.insert_slice %{{.*}} into %[[R0]][0, 0, 0, 1] [1, 4, 4, 4] [1, 1, 2, 2]
// CHECK: tensor.extract_slice %[[FW]][0, 0, 0, 1] [4, 8, 1, 1] [1, 1, 2, 2]
// CHECK: linalg.matmul
// CHECK: %[[R2:.*]] = tensor.insert_slice %{{.*}} into %[[R1]][0, 0, 1, 0] [1, 4, 4, 4] [1, 1, 2, 2]
// CHECK: tensor.extract_slice %[[FW]][0, 0, 0, 0] [4, 8, 1, 1] [1, 1, 2, 2]
// CHECK: linalg.matmul
// CHECK: %[[R3:.*]] = tensor.insert_slice %{{.*}} into %[[R2]][0, 0, 1, 1] [1, 4, 4, 4] [1, 1, 2, 2]
// CHECK: return %[[R3]]
func.func @conv_transpose_k2s2(%x: tensor<1x8x4x4xf32>, %w: tensor<8x4x2x2xf32>) -> tensor<1x4x8x8xf32> {
  %none = onnx.NoValue
  %y = onnx.ConvTranspose %x, %w, %none {strides = array<i64: 2, 2>} : (tensor<1x8x4x4xf32>, tensor<8x4x2x2xf32>, none) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

// PyTorch's ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1):
// even outputs take the centre tap from the input as is; odd ones take the
// outer taps from the input padded by one at the end.
// CHECK-LABEL: func.func @conv_transpose_k3s2
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x3xf32>, %[[W:.*]]: tensor<2x2x3x3xf32>, %[[B:.*]]: tensor<2xf32>)
// CHECK: %[[FW:.*]] = tensor.collapse_shape %{{.*}} into tensor<2x2x3x3xf32>
// CHECK: tensor.extract_slice %[[FW]][0, 0, 1, 1] [2, 2, 1, 1] [1, 1, 2, 2]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [1, 2, 3, 3] [1, 1, 2, 2]
// CHECK: tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 0, 1]
// CHECK: tensor.extract_slice %[[FW]][0, 0, 1, 0] [2, 2, 1, 2] [1, 1, 2, 2]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 1] [1, 2, 3, 3] [1, 1, 2, 2]
// CHECK: tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 1, 0]
// CHECK: tensor.extract_slice %[[FW]][0, 0, 0, 1] [2, 2, 2, 1] [1, 1, 2, 2]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 1, 0] [1, 2, 3, 3] [1, 1, 2, 2]
// CHECK: tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.extract_slice %[[FW]][0, 0, 0, 0] [2, 2, 2, 2] [1, 1, 2, 2]
// CHECK: %[[Y:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 1, 1] [1, 2, 3, 3] [1, 1, 2, 2]
// CHECK: return %[[Y]]
func.func @conv_transpose_k3s2(%x: tensor<1x2x3x3xf32>, %w: tensor<2x2x3x3xf32>, %b: tensor<2xf32>) -> tensor<1x2x6x6xf32> {
  %y = onnx.ConvTranspose %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 1>} : (tensor<1x2x3x3xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x6x6xf32>
  return %y : tensor<1x2x6x6xf32>
}

// -----

// Stride 1, groups: one phase, the input padded by kernel - 1 on each side,
// a grouped convolution with the bias.
// CHECK: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, -d3 + 2)>
// CHECK-LABEL: func.func @conv_transpose_1d_groups
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x5xf32>, %[[W:.*]]: tensor<4x1x3xf32>, %[[B:.*]]: tensor<2xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[FLIP]], #{{.*}}], {{.*}} outs(%{{.*}} : tensor<2x1x2x3xf32>)
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 2] high[0, 0, 2]
// CHECK: tensor.expand_shape %[[P]] {{.*}} into tensor<2x2x2x9xf32>
// CHECK: tensor.expand_shape %[[B]]
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[Y]] {{.*}} into tensor<2x2x7xf32>
// CHECK: return %[[R]]
func.func @conv_transpose_1d_groups(%x: tensor<2x4x5xf32>, %w: tensor<4x1x3xf32>, %b: tensor<2xf32>) -> tensor<2x2x7xf32> {
  %y = onnx.ConvTranspose %x, %w, %b {group = 2 : i64} : (tensor<2x4x5xf32>, tensor<4x1x3xf32>, tensor<2xf32>) -> tensor<2x2x7xf32>
  return %y : tensor<2x2x7xf32>
}

// -----

// Nearest by integer factors needs no tables: a copy through floordiv maps.
// CHECK: #[[DOWN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 2, d3 floordiv 2)>
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @resize_nearest_2x
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x4x4xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[DOWN]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<1x3x4x4xf32>) outs(%{{.*}} : tensor<1x3x8x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: return %[[Y]]
func.func @resize_nearest_2x(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32> {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>) : tensor<4xf32>
  %y = onnx.Resize %x, %none, %s, %none {coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"} : (tensor<1x3x4x4xf32>, none, tensor<4xf32>, none) -> tensor<1x3x8x8xf32>
  return %y : tensor<1x3x8x8xf32>
}

// -----

// Upsample (opset 7, scales as an attribute) by 2 and 3.
// CHECK: #[[DOWN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 2, d3 floordiv 3)>
// CHECK-LABEL: func.func @upsample_attr
// CHECK: linalg.generic {indexing_maps = [#[[DOWN]], #{{.*}}]
func.func @upsample_attr(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x6x9xf32> {
  %none = onnx.NoValue
  %y = onnx.Upsample %x, %none {scales = array<f32: 1.0, 1.0, 2.0, 3.0>} : (tensor<1x2x3x3xf32>, none) -> tensor<1x2x6x9xf32>
  return %y : tensor<1x2x6x9xf32>
}

// -----

// Nearest to sizes 6 x 2 (half_pixel, round_prefer_floor): one index table
// per resized dim, read through (d2) and (d3); the input through
// tensor.extract. Integer tensors are fine.
// CHECK: #[[H:.*]] = affine_map<(d0, d1, d2, d3) -> (d2)>
// CHECK: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @resize_nearest_sizes
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xi32>)
// CHECK-DAG: %[[IW:.*]] = arith.constant dense<[0, 2]> : tensor<2xi64>
// CHECK-DAG: %[[IH:.*]] = arith.constant dense<[0, 0, 1, 2, 2, 3]> : tensor<6xi64>
// CHECK: linalg.generic {indexing_maps = [#[[H]], #[[W]], #{{.*}}], {{.*}} ins(%[[IH]], %[[IW]] : tensor<6xi64>, tensor<2xi64>) outs(%{{.*}} : tensor<1x1x6x2xi32>)
// CHECK-NEXT: ^bb0(%[[H0:.*]]: i64, %[[W0:.*]]: i64, %{{.*}}: i32):
// CHECK-DAG: %[[N:.*]] = linalg.index 0 : index
// CHECK-DAG: %[[C:.*]] = linalg.index 1 : index
// CHECK-DAG: %[[HI:.*]] = arith.index_cast %[[H0]] : i64 to index
// CHECK-DAG: %[[WI:.*]] = arith.index_cast %[[W0]] : i64 to index
// CHECK: %[[V:.*]] = tensor.extract %[[X]][%[[N]], %[[C]], %[[HI]], %[[WI]]] : tensor<1x1x4x4xi32>
// CHECK: linalg.yield %[[V]] : i32
func.func @resize_nearest_sizes(%x: tensor<1x1x4x4xi32>) -> tensor<1x1x6x2xi32> {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[1, 1, 6, 2]> : tensor<4xi64>) : tensor<4xi64>
  %y = onnx.Resize %x, %none, %none, %s : (tensor<1x1x4x4xi32>, none, none, tensor<4xi64>) -> tensor<1x1x6x2xi32>
  return %y : tensor<1x1x6x2xi32>
}

// -----

// Bilinear 2x (pytorch_half_pixel): two taps per resized dim, each an index
// and a weight table; the last dim is interpolated first, then the one
// before. Past the border both taps read the edge.
// CHECK: #[[H:.*]] = affine_map<(d0, d1, d2, d3) -> (d2)>
// CHECK: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @resize_linear
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x3xf32>)
// CHECK-DAG: %[[WW1:.*]] = arith.constant dense<[0.000000e+00, 2.500000e-01, 7.500000e-01, 2.500000e-01, 7.500000e-01, 0.000000e+00]> : tensor<6xf32>
// CHECK-DAG: %[[WI1:.*]] = arith.constant dense<[0, 1, 1, 2, 2, 2]> : tensor<6xi64>
// CHECK-DAG: %[[WW0:.*]] = arith.constant dense<[1.000000e+00, 7.500000e-01, 2.500000e-01, 7.500000e-01, 2.500000e-01, 1.000000e+00]> : tensor<6xf32>
// CHECK-DAG: %[[WI0:.*]] = arith.constant dense<[0, 0, 0, 1, 1, 2]> : tensor<6xi64>
// CHECK-DAG: %[[HW1:.*]] = arith.constant dense<[0.000000e+00, 2.500000e-01, 7.500000e-01, 0.000000e+00]> : tensor<4xf32>
// CHECK-DAG: %[[HI1:.*]] = arith.constant dense<[0, 1, 1, 1]> : tensor<4xi64>
// CHECK-DAG: %[[HW0:.*]] = arith.constant dense<[1.000000e+00, 7.500000e-01, 2.500000e-01, 1.000000e+00]> : tensor<4xf32>
// CHECK-DAG: %[[HI0:.*]] = arith.constant dense<[0, 0, 0, 1]> : tensor<4xi64>
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[H]], #[[H]], #[[H]], #[[H]], #[[W]], #[[W]], #[[W]], #[[W]], #{{.*}}], {{.*}} ins(%[[HI0]], %[[HW0]], %[[HI1]], %[[HW1]], %[[WI0]], %[[WW0]], %[[WI1]], %[[WW1]] :
// CHECK-NEXT: ^bb0(%{{.*}}: i64, %[[A0:.*]]: f32, %{{.*}}: i64, %[[A1:.*]]: f32, %{{.*}}: i64, %[[B0:.*]]: f32, %{{.*}}: i64, %[[B1:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[E00:.*]] = tensor.extract %[[X]]
// CHECK: %[[T00:.*]] = arith.mulf %[[B0]], %[[E00]] : f32
// CHECK: %[[E01:.*]] = tensor.extract %[[X]]
// CHECK: %[[T01:.*]] = arith.mulf %[[B1]], %[[E01]] : f32
// CHECK: %[[R0:.*]] = arith.addf %[[T00]], %[[T01]] : f32
// CHECK: %[[S0:.*]] = arith.mulf %[[A0]], %[[R0]] : f32
// CHECK: tensor.extract %[[X]]
// CHECK: tensor.extract %[[X]]
// CHECK: %[[S1:.*]] = arith.mulf %[[A1]], %{{.*}} : f32
// CHECK: %[[V:.*]] = arith.addf %[[S0]], %[[S1]] : f32
// CHECK: linalg.yield %[[V]] : f32
// CHECK: return %[[Y]]
func.func @resize_linear(%x: tensor<1x1x2x3xf32>) -> tensor<1x1x4x6xf32> {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>) : tensor<4xf32>
  %y = onnx.Resize %x, %none, %s, %none {mode = "linear", coordinate_transformation_mode = "pytorch_half_pixel"} : (tensor<1x1x2x3xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x6xf32>
  return %y : tensor<1x1x4x6xf32>
}

// -----

// NonMaxSuppression: the boxes put in order of score (ranks, then the box
// of each rank), then one loop per batch and class over them, a box kept
// (three inserts into the rows, one into the kept list) unless one kept
// before overlaps it too much; the result is the rows written.
// CHECK-LABEL: func.func @nms
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: %[[LOOP:.*]]:2 = scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %c0) -> (tensor<12x3xi64>, index)
// CHECK: scf.for {{.*}} -> (tensor<12x3xi64>, index, tensor<6xindex>, index)
// CHECK: scf.if
// CHECK: scf.for {{.*}} -> (i1)
// CHECK: arith.divf
// CHECK: arith.cmpf ogt
// CHECK: tensor.insert
// CHECK: %[[N:.*]] = arith.minsi %[[LOOP]]#1, %c12
// CHECK: tensor.extract_slice %[[LOOP]]#0[0, 0] [%[[N]], 3] [1, 1]
func.func @nms(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>, %t: tensor<1xf32>) -> tensor<?x3xi64> {
  %none = onnx.NoValue
  %y = onnx.NonMaxSuppression %b, %s, %m, %t, %none : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<1xi64>, tensor<1xf32>, none) -> tensor<?x3xi64>
  return %y : tensor<?x3xi64>
}

// -----

// NegativeLogLikelihoodLoss, mean: one generic over the target picks each
// row's class (clamped into [0, C)), its weight, and zeros both where the
// target is ignore_index; the mean is the sum of the losses over the sum of
// the weights taken.
// CHECK-LABEL: func.func @nll_mean
// CHECK-SAME: (%[[X:[^:]*]]: tensor<3x5xf32>, %[[T:[^:]*]]: tensor<3xi64>, %[[W:[^:]*]]: tensor<5xf32>)
// CHECK: %[[P:.*]]:2 = linalg.generic {{.*}} ins(%[[T]] : tensor<3xi64>)
// CHECK: %[[C:.*]] = arith.maxsi %{{.*}}, %{{.*}} : index
// CHECK: %[[XV:.*]] = tensor.extract %[[X]][%{{.*}}, %[[C]]]
// CHECK: %[[WV:.*]] = tensor.extract %[[W]][%[[C]]]
// CHECK: %[[KEPT:.*]] = arith.cmpi ne, %{{.*}}, %c2_i64
// CHECK: linalg.yield
// CHECK: %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[P]]#0 : tensor<3xf32>)
// CHECK: %[[SW:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[P]]#1 : tensor<3xf32>)
// CHECK: arith.divf
func.func @nll_mean(%x: tensor<3x5xf32>, %t: tensor<3xi64>, %w: tensor<5xf32>) -> tensor<f32> {
  %y = onnx.NegativeLogLikelihoodLoss %x, %t, %w {ignore_index = 2 : i64} : (tensor<3x5xf32>, tensor<3xi64>, tensor<5xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// SoftmaxCrossEntropyLoss: the log-softmax over dim 1 (a max and a sum of
// exponentials reducing it, then x - max - log(sum)), returned as log_prob,
// then the loss as above (reduction none: no sum).
// CHECK-LABEL: func.func @sce_none
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: math.exp
// CHECK: %[[LP:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: math.log
// CHECK: %[[L:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4xi64>)
// CHECK: tensor.extract %[[LP]]
// CHECK-NOT: iterator_types = ["reduction"
// CHECK: return %[[L]]#0, %[[LP]]
func.func @sce_none(%x: tensor<2x3x4xf32>, %t: tensor<2x4xi64>) -> (tensor<2x4xf32>, tensor<2x3x4xf32>) {
  %none = onnx.NoValue
  %y:2 = onnx.SoftmaxCrossEntropyLoss %x, %t, %none {reduction = "none"} : (tensor<2x3x4xf32>, tensor<2x4xi64>, none) -> (tensor<2x4xf32>, tensor<2x3x4xf32>)
  return %y#0, %y#1 : tensor<2x4xf32>, tensor<2x3x4xf32>
}
