// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// Shape and data movement ops: constants, reshapes, slicing, gathering and
// broadcasting lowered to arith/tensor/linalg.

// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2xf32> {
  %c = onnx.Constant(dense<[1.0, 2.0]> : tensor<2xf32>) : tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

// Big weights stay dense_resource blobs.
// CHECK-LABEL: func.func @constant_resource
// CHECK: %[[C:.*]] = arith.constant dense_resource<weights> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @constant_resource() -> tensor<2xf32> {
  %c = onnx.Constant(dense_resource<weights> : tensor<2xf32>) : tensor<2xf32>
  return %c : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weights: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: onnx.
// CHECK: return %[[X]]
func.func @identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = onnx.Identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: onnx.
// CHECK: %[[MASK:.*]] = arith.constant dense<true> : tensor<2x3xi1>
// CHECK: return %[[X]], %[[MASK]]
func.func @dropout(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>) {
  %none = onnx.NoValue
  %y, %mask = onnx.Dropout %x, %none, %none : (tensor<2x3xf32>, none, none) -> (tensor<2x3xf32>, tensor<2x3xi1>)
  return %y, %mask : tensor<2x3xf32>, tensor<2x3xi1>
}

// -----

// Training mode with ratio 0 is still the identity.
// CHECK-LABEL: func.func @dropout_training_zero_ratio
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT: onnx.
// CHECK: return %[[X]]
func.func @dropout_training_zero_ratio(%x: tensor<4xf32>) -> tensor<4xf32> {
  %ratio = onnx.Constant(dense<0.0> : tensor<f32>) : tensor<f32>
  %training = onnx.Constant(dense<true> : tensor<i1>) : tensor<i1>
  %y, %mask = onnx.Dropout %x, %ratio, %training : (tensor<4xf32>, tensor<f32>, tensor<i1>) -> (tensor<4xf32>, tensor<4xi1>)
  return %y : tensor<4xf32>
}

// -----

// A reshape that splits and merges dimensions goes through 1-D.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: %[[R:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
// CHECK: return %[[R]]
func.func @reshape(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %s = onnx.Constant(dense<[3, -1]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.Reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_collapse
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2]] : tensor<2x3x4xf32> into tensor<2x12xf32>
// CHECK-NOT: tensor.expand_shape
// CHECK: return %[[R]]
func.func @reshape_collapse(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %s = onnx.Constant(dense<[0, 12]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return %y : tensor<2x12xf32>
}

// -----

// CHECK-LABEL: func.func @flatten
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK: return %[[R]]
func.func @flatten(%x: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  %y = onnx.Flatten %x {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x1xf32>)
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1, 2]] : tensor<1x3x1xf32> into tensor<3xf32>
// CHECK: return %[[R]]
func.func @squeeze(%x: tensor<1x3x1xf32>) -> tensor<3xf32> {
  %axes = onnx.Constant(dense<[0, 2]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.Squeeze %x, %axes : (tensor<1x3x1xf32>, tensor<2xi64>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze_to_scalar
// CHECK-SAME: (%[[X:.*]]: tensor<1x1xf32>)
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[X]] [] : tensor<1x1xf32> into tensor<f32>
// CHECK: return %[[R]]
func.func @squeeze_to_scalar(%x: tensor<1x1xf32>) -> tensor<f32> {
  %none = onnx.NoValue
  %y = onnx.Squeeze %x, %none : (tensor<1x1xf32>, none) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// CHECK-LABEL: func.func @unsqueeze
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// CHECK: %[[R:.*]] = tensor.expand_shape %[[X]] {{\[}}[0, 1], [2, 3]] output_shape [1, 3, 4, 1] : tensor<3x4xf32> into tensor<1x3x4x1xf32>
// CHECK: return %[[R]]
func.func @unsqueeze(%x: tensor<3x4xf32>) -> tensor<1x3x4x1xf32> {
  %none = onnx.NoValue
  %y = onnx.Unsqueeze %x, %none {axes = array<i64: 0, 3>} : (tensor<3x4xf32>, none) -> tensor<1x3x4x1xf32>
  return %y : tensor<1x3x4x1xf32>
}

// -----

// CHECK-LABEL: func.func @unsqueeze_scalar
// CHECK-SAME: (%[[X:.*]]: tensor<f32>)
// CHECK: %[[R:.*]] = tensor.expand_shape %[[X]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: return %[[R]]
func.func @unsqueeze_scalar(%x: tensor<f32>) -> tensor<1xf32> {
  %axes = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %y = onnx.Unsqueeze %x, %axes : (tensor<f32>, tensor<1xi64>) -> tensor<1xf32>
  return %y : tensor<1xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x2x3xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[X]] : tensor<2x3x4xf32>) outs(%[[INIT]] : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// CHECK: return %[[T]]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %y = onnx.Transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %y : tensor<4x2x3xf32>
}

// -----

// Without perm the dimensions are reversed.
// CHECK-LABEL: func.func @transpose_default
// CHECK: linalg.transpose
// CHECK-SAME: permutation = [1, 0]
func.func @transpose_default(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %y = onnx.Transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x1xf32>, %[[C:.*]]: tensor<2x2xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x6xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0] [2, 3] [1, 1]
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][0, 3] [2, 1] [1, 1]
// CHECK: %[[I2:.*]] = tensor.insert_slice %[[C]] into %[[I1]][0, 4] [2, 2] [1, 1]
// CHECK: return %[[I2]]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>, %c: tensor<2x2xf32>) -> tensor<2x6xf32> {
  %y = onnx.Concat %a, %b, %c {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.*]]: tensor<5x2xf32>)
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[X]][0, 0] [2, 2] [1, 1] : tensor<5x2xf32> to tensor<2x2xf32>
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[X]][2, 0] [3, 2] [1, 1] : tensor<5x2xf32> to tensor<3x2xf32>
// CHECK: return %[[S0]], %[[S1]]
func.func @split(%x: tensor<5x2xf32>) -> (tensor<2x2xf32>, tensor<3x2xf32>) {
  %sizes = onnx.Constant(dense<[2, 3]> : tensor<2xi64>) : tensor<2xi64>
  %a, %b = onnx.Split %x, %sizes {axis = 0 : i64} : (tensor<5x2xf32>, tensor<2xi64>) -> (tensor<2x2xf32>, tensor<3x2xf32>)
  return %a, %b : tensor<2x2xf32>, tensor<3x2xf32>
}

// -----

// Equal parts, the last one smaller.
// CHECK-LABEL: func.func @split_num_outputs
// CHECK-SAME: (%[[X:.*]]: tensor<2x7xf32>)
// CHECK-NOT: onnx.
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[X]][0, 0] [2, 3] [1, 1]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[X]][0, 3] [2, 3] [1, 1]
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[X]][0, 6] [2, 1] [1, 1]
// CHECK: return %[[S0]], %[[S1]], %[[S2]]
func.func @split_num_outputs(%x: tensor<2x7xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x1xf32>) {
  %none = onnx.NoValue
  %a, %b, %c = onnx.Split %x, %none {axis = 1 : i64, num_outputs = 3 : i64} : (tensor<2x7xf32>, none) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x1xf32>)
  return %a, %b, %c : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x1xf32>
}

// -----

// Positive steps: one strided extract_slice; out-of-range ends clamp.
// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:.*]]: tensor<4x10xf32>)
// CHECK-NOT: onnx.
// CHECK: %[[S:.*]] = tensor.extract_slice %[[X]][1, 2] [2, 3] [1, 3] : tensor<4x10xf32> to tensor<2x3xf32>
// CHECK: return %[[S]]
func.func @slice(%x: tensor<4x10xf32>) -> tensor<2x3xf32> {
  %starts = onnx.Constant(dense<[1, 2]> : tensor<2xi64>) : tensor<2xi64>
  %ends = onnx.Constant(dense<[3, 1000]> : tensor<2xi64>) : tensor<2xi64>
  %axes = onnx.Constant(dense<[0, 1]> : tensor<2xi64>) : tensor<2xi64>
  %steps = onnx.Constant(dense<[1, 3]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.Slice %x, %starts, %ends, %axes, %steps : (tensor<4x10xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A negative step reads input[start + i * step] in a generic.
// CHECK: #[[IN:.*]] = affine_map<(d0, d1) -> (d0, d1 * -2 + 9)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @slice_negative_step
// CHECK-SAME: (%[[X:.*]]: tensor<4x10xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<4x10xf32>) outs(%[[E]] : tensor<4x5xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK: return %[[G]]
func.func @slice_negative_step(%x: tensor<4x10xf32>) -> tensor<4x5xf32> {
  %starts = onnx.Constant(dense<[-1]> : tensor<1xi64>) : tensor<1xi64>
  %ends = onnx.Constant(dense<[-9223372036854775807]> : tensor<1xi64>) : tensor<1xi64>
  %axes = onnx.Constant(dense<[1]> : tensor<1xi64>) : tensor<1xi64>
  %steps = onnx.Constant(dense<[-2]> : tensor<1xi64>) : tensor<1xi64>
  %y = onnx.Slice %x, %starts, %ends, %axes, %steps : (tensor<4x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// A constant read by Slice while it is lowered and also used as data: both
// uses are lowered, whatever order the patterns run in.
// CHECK-LABEL: func.func @slice_shared_constant
// CHECK-SAME: (%[[X:.*]]: tensor<4xi64>)
// CHECK-NOT: onnx.
// CHECK-DAG: %[[C:.*]] = arith.constant dense<1> : tensor<1xi64>
// CHECK-DAG: %[[S:.*]] = tensor.extract_slice %[[X]][1] [3] [1] : tensor<4xi64> to tensor<3xi64>
// CHECK: return %[[S]], %[[C]]
func.func @slice_shared_constant(%x: tensor<4xi64>) -> (tensor<3xi64>, tensor<1xi64>) {
  %one = onnx.Constant(dense<1> : tensor<1xi64>) : tensor<1xi64>
  %end = onnx.Constant(dense<4> : tensor<1xi64>) : tensor<1xi64>
  %none = onnx.NoValue
  %y = onnx.Slice %x, %one, %end, %none, %none : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<3xi64>
  return %y, %one : tensor<3xi64>, tensor<1xi64>
}

// -----

// An empty result needs no loop.
// CHECK-LABEL: func.func @slice_empty
// CHECK-NOT: onnx.
// CHECK: %[[E:.*]] = tensor.empty() : tensor<0x10xf32>
// CHECK: return %[[E]]
func.func @slice_empty(%x: tensor<4x10xf32>) -> tensor<0x10xf32> {
  %starts = onnx.Constant(dense<[5]> : tensor<1xi64>) : tensor<1xi64>
  %ends = onnx.Constant(dense<[7]> : tensor<1xi64>) : tensor<1xi64>
  %axes = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %none = onnx.NoValue
  %y = onnx.Slice %x, %starts, %ends, %axes, %none : (tensor<4x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<0x10xf32>
  return %y : tensor<0x10xf32>
}

// -----

// Opset-1 Slice: bounds as attributes.
// CHECK-LABEL: func.func @slice_attrs
// CHECK-SAME: (%[[X:.*]]: tensor<4x10xf32>)
// CHECK: %[[S:.*]] = tensor.extract_slice %[[X]][0, 4] [4, 2] [1, 1]
// CHECK: return %[[S]]
func.func @slice_attrs(%x: tensor<4x10xf32>) -> tensor<4x2xf32> {
  %none = onnx.NoValue
  %y = onnx.Slice %x, %none, %none, %none, %none {starts_attr = array<i64: 4>, ends_attr = array<i64: 6>, axes = array<i64: 1>} : (tensor<4x10xf32>, none, none, none, none) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Gather along axis 1: the indices are a generic input, the data is read
// with tensor.extract at a wrapped and clamped index.
// CHECK: #[[IDX:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[DATA:.*]]: tensor<3x4x5xf32>, %[[IND:.*]]: tensor<2x2xi64>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[DIM:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[LAST:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[E:.*]] = tensor.empty() : tensor<3x2x2x5xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[IDX]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[IND]] : tensor<2x2xi64>) outs(%[[E]] : tensor<3x2x2x5xf32>)
// CHECK-NEXT: ^bb0(%[[I:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[I]], %[[ZERO]] : i64
// CHECK: %[[ADD:.*]] = arith.addi %[[I]], %[[DIM]] : i64
// CHECK: %[[WRAP:.*]] = arith.select %[[NEG]], %[[ADD]], %[[I]] : i64
// CHECK: %[[LO:.*]] = arith.maxsi %[[WRAP]], %[[ZERO]] : i64
// CHECK: %[[HI:.*]] = arith.minsi %[[LO]], %[[LAST]] : i64
// CHECK: %[[AT:.*]] = arith.index_cast %[[HI]] : i64 to index
// CHECK: %[[D0:.*]] = linalg.index 0 : index
// CHECK: %[[D3:.*]] = linalg.index 3 : index
// CHECK: %[[V:.*]] = tensor.extract %[[DATA]][%[[D0]], %[[AT]], %[[D3]]] : tensor<3x4x5xf32>
// CHECK: linalg.yield %[[V]] : f32
// CHECK: return %[[G]]
func.func @gather(%data: tensor<3x4x5xf32>, %ind: tensor<2x2xi64>) -> tensor<3x2x2x5xf32> {
  %y = onnx.Gather %data, %ind {axis = 1 : i64} : (tensor<3x4x5xf32>, tensor<2x2xi64>) -> tensor<3x2x2x5xf32>
  return %y : tensor<3x2x2x5xf32>
}

// -----

// A scalar index drops the axis.
// CHECK: #[[IDX:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @gather_scalar_index
// CHECK-SAME: (%[[DATA:.*]]: tensor<3x4xf32>, %[[IND:.*]]: tensor<i32>)
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.*}}]
// CHECK-SAME: ins(%[[IND]] : tensor<i32>)
// CHECK: %[[AT:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[D0:.*]] = linalg.index 0 : index
// CHECK: tensor.extract %[[DATA]][%[[AT]], %[[D0]]] : tensor<3x4xf32>
func.func @gather_scalar_index(%data: tensor<3x4xf32>, %ind: tensor<i32>) -> tensor<4xf32> {
  %y = onnx.Gather %data, %ind {axis = 0 : i64} : (tensor<3x4xf32>, tensor<i32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (0, d2)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @expand
// CHECK-SAME: (%[[X:.*]]: tensor<1x3xf32>)
// CHECK-NOT: onnx.
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4x3xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<1x3xf32>) outs(%[[E]] : tensor<2x4x3xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK: return %[[G]]
func.func @expand(%x: tensor<1x3xf32>) -> tensor<2x4x3xf32> {
  %s = onnx.Constant(dense<[2, 4, 1]> : tensor<3xi64>) : tensor<3xi64>
  %y = onnx.Expand %x, %s : (tensor<1x3xf32>, tensor<3xi64>) -> tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}

// -----

// CHECK: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, 0, d2 mod 3)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @tile
// CHECK-SAME: (%[[X:.*]]: tensor<2x1x3xf32>)
// CHECK-NOT: onnx.
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4x6xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<2x1x3xf32>) outs(%[[E]] : tensor<2x4x6xf32>)
// CHECK: return %[[G]]
func.func @tile(%x: tensor<2x1x3xf32>) -> tensor<2x4x6xf32> {
  %r = onnx.Constant(dense<[1, 4, 2]> : tensor<3xi64>) : tensor<3xi64>
  %y = onnx.Tile %x, %r : (tensor<2x1x3xf32>, tensor<3xi64>) -> tensor<2x4x6xf32>
  return %y : tensor<2x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @constant_of_shape
// CHECK-NOT: onnx.
// CHECK-DAG: %[[V:.*]] = arith.constant 7 : i32
// CHECK-DAG: %[[E:.*]] = tensor.empty() : tensor<2x3xi32>
// CHECK: %[[F:.*]] = linalg.fill ins(%[[V]] : i32) outs(%[[E]] : tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK: return %[[F]]
func.func @constant_of_shape() -> tensor<2x3xi32> {
  %s = onnx.Constant(dense<[2, 3]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.ConstantOfShape %s {value = dense<7> : tensor<1xi32>} : (tensor<2xi64>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

// -----

// Without a value attribute the fill is 0.0f.
// CHECK-LABEL: func.func @constant_of_shape_default
// CHECK-DAG: %[[V:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[E:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%[[V]] : f32) outs(%[[E]] : tensor<4xf32>) -> tensor<4xf32>
// CHECK: return %[[F]]
func.func @constant_of_shape_default() -> tensor<4xf32> {
  %s = onnx.Constant(dense<[4]> : tensor<1xi64>) : tensor<1xi64>
  %y = onnx.ConstantOfShape %s : (tensor<1xi64>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @range_int
// CHECK-NOT: onnx.
// CHECK: %[[C:.*]] = arith.constant dense<[10, 7, 4, 1]> : tensor<4xi32>
// CHECK: return %[[C]]
func.func @range_int() -> tensor<4xi32> {
  %start = onnx.Constant(dense<10> : tensor<i32>) : tensor<i32>
  %limit = onnx.Constant(dense<0> : tensor<i32>) : tensor<i32>
  %delta = onnx.Constant(dense<-3> : tensor<i32>) : tensor<i32>
  %y = onnx.Range %start, %limit, %delta : (tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<4xi32>
  return %y : tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @range_float
// CHECK-NOT: onnx.
// CHECK: %[[C:.*]] = arith.constant dense<[1.000000e+00, 1.500000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK: return %[[C]]
func.func @range_float() -> tensor<3xf32> {
  %start = onnx.Constant(dense<1.0> : tensor<f32>) : tensor<f32>
  %limit = onnx.Constant(dense<2.2> : tensor<f32>) : tensor<f32>
  %delta = onnx.Constant(dense<0.5> : tensor<f32>) : tensor<f32>
  %y = onnx.Range %start, %limit, %delta : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @shape
// CHECK: %[[C:.*]] = arith.constant dense<[2, 3, 4]> : tensor<3xi64>
// CHECK: return %[[C]]
func.func @shape(%x: tensor<2x3x4xf32>) -> tensor<3xi64> {
  %y = onnx.Shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  return %y : tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @shape_start_end
// CHECK: %[[C:.*]] = arith.constant dense<3> : tensor<1xi64>
// CHECK: return %[[C]]
func.func @shape_start_end(%x: tensor<2x3x4xf32>) -> tensor<1xi64> {
  %y = onnx.Shape %x {start = 1 : i64, end = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<1xi64>
  return %y : tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @size
// CHECK: %[[C:.*]] = arith.constant dense<24> : tensor<i64>
// CHECK: return %[[C]]
func.func @size(%x: tensor<2x3x4xf32>) -> tensor<i64> {
  %y = onnx.Size %x : (tensor<2x3x4xf32>) -> tensor<i64>
  return %y : tensor<i64>
}
