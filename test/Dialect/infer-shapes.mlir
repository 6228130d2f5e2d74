// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s

// The Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain exporters emit
// for `x.view(x.size(0), -1)` folds to a constant target shape.
// CHECK-LABEL: func.func @shape_chain
// CHECK-SAME: -> tensor<1x48xf32>
// CHECK: %[[SHAPE:.*]] = onnx.Constant(dense<[1, -1]> : tensor<2xi64>)
// CHECK: %[[R:.*]] = onnx.Reshape %{{.*}}, %[[SHAPE]]
// CHECK-SAME: -> tensor<1x48xf32>
// CHECK-NOT: onnx.Shape
// CHECK-NOT: onnx.Gather
func.func @shape_chain(%x: tensor<1x3x4x4xf32>) -> tensor<*xf32> {
  %s = onnx.Shape %x : (tensor<1x3x4x4xf32>) -> tensor<*xi64>
  %c0 = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %g = onnx.Gather %s, %c0 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %ax = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %u = onnx.Unsqueeze %g, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %m1 = onnx.Constant(dense<[-1]> : tensor<1xi64>) : tensor<1xi64>
  %cat = onnx.Concat %u, %m1 {axis = 0 : i64} : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %r = onnx.Reshape %x, %cat : (tensor<1x3x4x4xf32>, tensor<*xi64>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

// With a dynamic batch (a channel shuffle: x.view(n, 2, c / 2, h, w) with n,
// c, h, w from x.size()), the static dims still fold: Gather of a static
// entry of the shape becomes a constant (and so does c / 2), and the Reshape
// knows every dim of its target but the batch.
// CHECK-LABEL: func.func @shape_chain_dynamic_batch
// CHECK-SAME: -> tensor<?x2x58x28x28xf32>
// CHECK: onnx.Shape %{{.*}} -> tensor<4xi64>
// CHECK: %[[N:.*]] = onnx.Gather
// CHECK-NOT: onnx.Gather
// CHECK-NOT: onnx.Div
// CHECK: onnx.Reshape {{.*}} -> tensor<?x2x58x28x28xf32>
func.func @shape_chain_dynamic_batch(%x: tensor<?x116x28x28xf32>) -> tensor<*xf32> {
  %s = onnx.Shape %x : (tensor<?x116x28x28xf32>) -> tensor<*xi64>
  %i0 = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %i1 = onnx.Constant(dense<1> : tensor<i64>) : tensor<i64>
  %i2 = onnx.Constant(dense<2> : tensor<i64>) : tensor<i64>
  %i3 = onnx.Constant(dense<3> : tensor<i64>) : tensor<i64>
  %n = onnx.Gather %s, %i0 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %c = onnx.Gather %s, %i1 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %h = onnx.Gather %s, %i2 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %w = onnx.Gather %s, %i3 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %two = onnx.Constant(dense<2> : tensor<i64>) : tensor<i64>
  %half = onnx.Div %c, %two : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %ax = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %un = onnx.Unsqueeze %n, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %ug = onnx.Constant(dense<[2]> : tensor<1xi64>) : tensor<1xi64>
  %uc = onnx.Unsqueeze %half, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %uh = onnx.Unsqueeze %h, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %uw = onnx.Unsqueeze %w, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %cat = onnx.Concat %un, %ug, %uc, %uh, %uw {axis = 0 : i64} : (tensor<*xi64>, tensor<1xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>) -> tensor<*xi64>
  %r = onnx.Reshape %x, %cat : (tensor<?x116x28x28xf32>, tensor<*xi64>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

// The shuffle's way back: x.view(n, -1, h, w) after a Transpose. The -1 is
// inferred because the target's one dynamic entry (n, from Shape of the
// shuffled tensor) and the input's one dynamic dim trace back to the same
// dim (the Transpose keeps dim 0, the first Reshape takes it from %x).
// CHECK-LABEL: func.func @shuffle_back_dynamic_batch
// CHECK: onnx.Reshape {{.*}} -> tensor<?x116x28x28xf32>
func.func @shuffle_back_dynamic_batch(%x: tensor<?x116x28x28xf32>) -> tensor<*xf32> {
  %s = onnx.Shape %x : (tensor<?x116x28x28xf32>) -> tensor<*xi64>
  %i0 = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %n = onnx.Gather %s, %i0 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %ax = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %un = onnx.Unsqueeze %n, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %rest = onnx.Constant(dense<[2, 58, 28, 28]> : tensor<4xi64>) : tensor<4xi64>
  %t1 = onnx.Concat %un, %rest {axis = 0 : i64} : (tensor<*xi64>, tensor<4xi64>) -> tensor<*xi64>
  %r1 = onnx.Reshape %x, %t1 : (tensor<?x116x28x28xf32>, tensor<*xi64>) -> tensor<*xf32>
  %tr = onnx.Transpose %r1 {perm = array<i64: 0, 2, 1, 3, 4>} : (tensor<*xf32>) -> tensor<*xf32>
  %back = onnx.Constant(dense<[-1, 28, 28]> : tensor<3xi64>) : tensor<3xi64>
  %t2 = onnx.Concat %un, %back {axis = 0 : i64} : (tensor<*xi64>, tensor<3xi64>) -> tensor<*xi64>
  %r2 = onnx.Reshape %tr, %t2 : (tensor<*xf32>, tensor<*xi64>) -> tensor<*xf32>
  return %r2 : tensor<*xf32>
}

// -----

// Two dynamic dims of different origins: the -1 stays unknown.
// CHECK-LABEL: func.func @reshape_other_dim
// CHECK: onnx.Reshape {{.*}} -> tensor<?x?xf32>
func.func @reshape_other_dim(%x: tensor<?x6xf32>, %y: tensor<?x2xf32>) -> tensor<*xf32> {
  %s = onnx.Shape %y : (tensor<?x2xf32>) -> tensor<*xi64>
  %i0 = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %n = onnx.Gather %s, %i0 : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %m1 = onnx.Constant(dense<[-1]> : tensor<1xi64>) : tensor<1xi64>
  %t = onnx.Concat %n, %m1 {axis = 0 : i64} : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %r = onnx.Reshape %x, %t : (tensor<?x6xf32>, tensor<*xi64>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

// Shape operands known only in part (or only in length) still give the
// result's rank and its known dims: an Expand to [n, 4] of a 1x4 tensor, a
// ConstantOfShape of [n, 2], a Tile by a run-time repeats vector.
// CHECK-LABEL: func.func @partial_shape_operands
// CHECK: onnx.Expand {{.*}} -> tensor<?x4xf32>
// CHECK: onnx.ConstantOfShape {{.*}} -> tensor<?x2xf32>
// CHECK: onnx.Tile {{.*}} -> tensor<?x?xf32>
func.func @partial_shape_operands(%x: tensor<?x8xf32>, %y: tensor<1x4xf32>, %reps: tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %s = onnx.Shape %x : (tensor<?x8xf32>) -> tensor<*xi64>
  %i0 = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %n = onnx.Gather %s, %i0 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %ax = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %un = onnx.Unsqueeze %n, %ax : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %four = onnx.Constant(dense<[4]> : tensor<1xi64>) : tensor<1xi64>
  %shape = onnx.Concat %un, %four {axis = 0 : i64} : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %e = onnx.Expand %y, %shape : (tensor<1x4xf32>, tensor<*xi64>) -> tensor<*xf32>
  %two = onnx.Constant(dense<[2]> : tensor<1xi64>) : tensor<1xi64>
  %shape2 = onnx.Concat %un, %two {axis = 0 : i64} : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %c = onnx.ConstantOfShape %shape2 : (tensor<*xi64>) -> tensor<*xf32>
  %t = onnx.Tile %y, %reps : (tensor<1x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %e, %c, %t : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast
// CHECK: onnx.Add {{.*}} -> tensor<2x3x4xf32>
func.func @broadcast(%a: tensor<2x1x4xf32>, %b: tensor<3x1xf32>) -> tensor<*xf32> {
  %c = onnx.Add %a, %b : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<*xf32>
  return %c : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @conv_same_upper
// CHECK: onnx.Conv {{.*}} -> tensor<1x8x5x5xf32>
func.func @conv_same_upper(%x: tensor<1x3x10x10xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %y = onnx.Conv %x, %w, %none {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2>} : (tensor<1x3x10x10xf32>, tensor<8x3x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @maxpool_ceil
// CHECK: onnx.MaxPool {{.*}} -> tensor<1x1x2x2xf32>
func.func @maxpool_ceil(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  %y = onnx.MaxPool %x {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @matmul_batched
// CHECK: onnx.MatMul {{.*}} -> tensor<5x2x3x7xf32>
func.func @matmul_batched(%a: tensor<2x3x4xf32>, %b: tensor<5x1x4x7xf32>) -> tensor<*xf32> {
  %y = onnx.MatMul %a, %b : (tensor<2x3x4xf32>, tensor<5x1x4x7xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_keepdims
// CHECK: onnx.ReduceMean {{.*}} -> tensor<2x1x4xf32>
func.func @reduce_keepdims(%x: tensor<2x3x4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %y = onnx.ReduceMean %x, %none {axes = array<i64: 1>} : (tensor<2x3x4xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Slice with a negative step, and a split into equal parts.
// CHECK-LABEL: func.func @slice_split
// CHECK: onnx.Slice {{.*}} -> tensor<3x2xf32>
// CHECK: onnx.Split {{.*}} -> (tensor<3x1xf32>, tensor<3x1xf32>)
func.func @slice_split(%x: tensor<3x6xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[5]> : tensor<1xi64>) : tensor<1xi64>
  %e = onnx.Constant(dense<[1]> : tensor<1xi64>) : tensor<1xi64>
  %a = onnx.Constant(dense<[1]> : tensor<1xi64>) : tensor<1xi64>
  %st = onnx.Constant(dense<[-2]> : tensor<1xi64>) : tensor<1xi64>
  %y = onnx.Slice %x, %s, %e, %a, %st : (tensor<3x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<*xf32>
  %p:2 = onnx.Split %y, %none {axis = 1 : i64} : (tensor<*xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %p#0, %p#1 : tensor<*xf32>, tensor<*xf32>
}
