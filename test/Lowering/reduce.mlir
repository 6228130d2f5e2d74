// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// Reductions are a linalg.generic over the input dims in order, reduction
// iterators on the reduced axes, writing the keepdims=0 shape; keepdims then
// re-inserts the size-1 dims with one expand_shape.

// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @reduce_sum_keepdims
// CHECK-SAME: (%[[X:.*]]: tensor<3x4x5xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<3x5xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<3x5xf32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[OUT]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<3x4x5xf32>) outs(%[[INIT]] : tensor<3x5xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ACC]], %[[IN]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: %[[K:.*]] = tensor.expand_shape %[[R]] {{\[}}[0], [1, 2]] output_shape [3, 1, 5] : tensor<3x5xf32> into tensor<3x1x5xf32>
// CHECK: return %[[K]]
func.func @reduce_sum_keepdims(%x: tensor<3x4x5xf32>) -> tensor<3x1x5xf32> {
  %none = onnx.NoValue
  %y = onnx.ReduceSum %x, %none {axes = array<i64: 1>} : (tensor<3x4x5xf32>, none) -> tensor<3x1x5xf32>
  return %y : tensor<3x1x5xf32>
}

// -----

// Axes from a constant input (negative axes normalized); the mean divides by
// the number of reduced elements.
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @reduce_mean_axes_input
// CHECK: %[[COUNT:.*]] = arith.constant 1.500000e+01 : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[OUT]]], iterator_types = ["reduction", "parallel", "reduction"]}
// CHECK: arith.addf
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[S]], %[[COUNT]] : f32
// CHECK: return %[[MEAN]] : tensor<4xf32>
func.func @reduce_mean_axes_input(%x: tensor<3x4x5xf32>) -> tensor<4xf32> {
  %axes = onnx.Constant(dense<[0, -1]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.ReduceMean %x, %axes {keepdims = 0 : i64} : (tensor<3x4x5xf32>, tensor<2xi64>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// No axes: reduce everything into a 0-d tensor; integer max starts from the
// smallest integer.
// CHECK: #[[ALL:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @reduce_max_all_int
// CHECK: %[[LOW:.*]] = arith.constant -2147483648 : i32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[LOW]] : i32) outs(%{{.*}} : tensor<i32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[ALL]]], iterator_types = ["reduction", "reduction"]} {{.*}} outs(%[[INIT]] : tensor<i32>)
// CHECK: arith.maxsi
// CHECK: return %[[R]] : tensor<i32>
func.func @reduce_max_all_int(%x: tensor<3x4xi32>) -> tensor<i32> {
  %none = onnx.NoValue
  %y = onnx.ReduceMax %x, %none {keepdims = 0 : i64} : (tensor<3x4xi32>, none) -> tensor<i32>
  return %y : tensor<i32>
}

// -----

// noop_with_empty_axes with no axes: elementwise, ReduceL1 of one element is
// its absolute value.
// CHECK-LABEL: func.func @reduce_l1_noop
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[A:.*]] = math.absf %[[IN]] : f32
// CHECK-NEXT: linalg.yield %[[A]] : f32
func.func @reduce_l1_noop(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %none = onnx.NoValue
  %y = onnx.ReduceL1 %x, %none {noop_with_empty_axes = 1 : i64} : (tensor<3x4xf32>, none) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// ReduceL2: sum of squares, then a sqrt epilogue.
// CHECK-LABEL: func.func @reduce_l2
// CHECK: %[[SS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[SS]] : tensor<3xf32>)
// CHECK: math.sqrt
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1]] output_shape [3, 1]
func.func @reduce_l2(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %none = onnx.NoValue
  %y = onnx.ReduceL2 %x, %none {axes = array<i64: 1>} : (tensor<3x4xf32>, none) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// ReduceLogSumExp subtracts the max (0 where it is not finite), then adds it
// back after the log.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @reduce_log_sum_exp
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<3x4xf32>)
// CHECK: arith.maximumf
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<3xf32>)
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[M]] : tensor<3x4xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[MI:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[IN]], %[[MI]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[E]] : f32
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[M]] : tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0(%[[SI:.*]]: f32, %[[MJ:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[L:.*]] = math.log %[[SI]] : f32
// CHECK-NEXT: arith.addf %[[L]], %[[MJ]] : f32
// CHECK: return %[[R]] : tensor<3xf32>
func.func @reduce_log_sum_exp(%x: tensor<3x4xf32>) -> tensor<3xf32> {
  %none = onnx.NoValue
  %y = onnx.ReduceLogSumExp %x, %none {axes = array<i64: 1>, keepdims = 0 : i64} : (tensor<3x4xf32>, none) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// ArgMax keeps the best value and its index; select_last_index takes ties
// (oge), and the first element always counts.
// CHECK-LABEL: func.func @argmax_last
// CHECK: %[[Z:.*]] = arith.constant 0 : i64
// CHECK: %[[LOW:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[V0:.*]] = linalg.fill ins(%[[LOW]] : f32) outs(%{{.*}} : tensor<3xf32>)
// CHECK: %[[I0:.*]] = linalg.fill ins(%[[Z]] : i64) outs(%{{.*}} : tensor<3xi64>)
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} {{.*}} outs(%[[V0]], %[[I0]] : tensor<3xf32>, tensor<3xi64>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[BEST:.*]]: f32, %[[BI:.*]]: i64):
// CHECK-NEXT: %[[IDX:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[IDX]] : index to i64
// CHECK-NEXT: %[[GE:.*]] = arith.cmpf oge, %[[IN]], %[[BEST]] : f32
// CHECK-NEXT: %[[FIRST:.*]] = arith.cmpi eq, %[[I]], %[[Z]] : i64
// CHECK-NEXT: %[[TAKE:.*]] = arith.ori %[[GE]], %[[FIRST]] : i1
// CHECK-NEXT: %[[NV:.*]] = arith.select %[[TAKE]], %[[IN]], %[[BEST]] : f32
// CHECK-NEXT: %[[NI:.*]] = arith.select %[[TAKE]], %[[I]], %[[BI]] : i64
// CHECK-NEXT: linalg.yield %[[NV]], %[[NI]] : f32, i64
// CHECK: %[[K:.*]] = tensor.expand_shape %[[R]]#1 {{\[}}[0, 1]] output_shape [3, 1] : tensor<3xi64> into tensor<3x1xi64>
// CHECK: return %[[K]]
func.func @argmax_last(%x: tensor<3x4xf32>) -> tensor<3x1xi64> {
  %y = onnx.ArgMax %x {axis = 1 : i64, select_last_index = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x1xi64>
  return %y : tensor<3x1xi64>
}

// -----

// ArgMin on integers: strict slt keeps the first of equal values.
// CHECK: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @argmin_int
// CHECK: %[[HIGH:.*]] = arith.constant 2147483647 : i32
// CHECK: linalg.fill ins(%[[HIGH]] : i32)
// CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#{{.*}}, #[[COL]], #[[COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK: linalg.index 0 : index
// CHECK: arith.cmpi slt
// CHECK: return %[[R]]#1 : tensor<4xi64>
func.func @argmin_int(%x: tensor<3x4xi32>) -> tensor<4xi64> {
  %y = onnx.ArgMin %x {axis = 0 : i64, keepdims = 0 : i64} : (tensor<3x4xi32>) -> tensor<4xi64>
  return %y : tensor<4xi64>
}

// -----

// Softmax (opset >= 13) normalizes along the single axis: max, sum of
// exp(x - max), then exp(x - max) / sum.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK: #[[RED:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[M:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: arith.maximumf
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]], %[[M]] : tensor<2x3x4xf32>, tensor<2x4xf32>)
// CHECK: math.exp
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]], #[[RED]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[M]], %[[S]] : tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[MI:.*]]: f32, %[[SI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[IN]], %[[MI]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[Q:.*]] = arith.divf %[[E]], %[[SI]] : f32
// CHECK-NEXT: linalg.yield %[[Q]] : f32
// CHECK: return %[[Y]]
func.func @softmax(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %y = onnx.Softmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Before opset 13 the input is coerced to 2-D at `axis`: normalize over all
// dims from axis on.
// CHECK: #[[RED:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @softmax_coerced
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[RED]]], iterator_types = ["parallel", "reduction", "reduction"]} {{.*}} outs(%{{.*}} : tensor<2xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: arith.divf
module attributes {onnx.opset = 11 : i64} {
  func.func @softmax_coerced(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
    %y = onnx.Softmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    return %y : tensor<2x3x4xf32>
  }
}

// -----

// LogSoftmax: x - max - log(sum(exp(x - max))); the default axis is -1.
// CHECK: #[[RED:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @log_softmax
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.exp
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[RED]], #[[RED]], #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[MI:.*]]: f32, %[[SI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[IN]], %[[MI]] : f32
// CHECK-NEXT: %[[L:.*]] = math.log %[[SI]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.subf %[[D]], %[[L]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK: return %[[Y]]
func.func @log_softmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = onnx.LogSoftmax %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
