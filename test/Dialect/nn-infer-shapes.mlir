// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s

// Mean and InvStdDev keep X's leading dims and size 1 from `axis` on.
// CHECK-LABEL: func.func @layer_norm_stats
// CHECK: onnx.LayerNormalization {{.*}} -> (tensor<2x3x4xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
func.func @layer_norm_stats(%x: tensor<2x3x4xf32>, %s: tensor<3x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %y:3 = onnx.LayerNormalization %x, %s, %none {axis = -2 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y#0, %y#1, %y#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pads, with
// M = weights' second dim x group.
// CHECK-LABEL: func.func @conv_transpose_shape
// CHECK: onnx.ConvTranspose {{.*}} -> tensor<1x6x10x12xf32>
func.func @conv_transpose_shape(%x: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %y = onnx.ConvTranspose %x, %w, %none {group = 2 : i64, strides = array<i64: 2, 3>, pads = array<i64: 1, 1, 1, 2>, output_padding = array<i64: 1, 0>} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// output_shape wins over pads; SAME_UPPER gives in * stride.
// CHECK-LABEL: func.func @conv_transpose_output_shape
// CHECK: onnx.ConvTranspose {{.*}} -> tensor<1x2x10x8xf32>
// CHECK: onnx.ConvTranspose {{.*}} -> tensor<1x2x6x6xf32>
func.func @conv_transpose_output_shape(%x: tensor<1x1x3x3xf32>, %w: tensor<1x2x3x3xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %a = onnx.ConvTranspose %x, %w, %none {strides = array<i64: 3, 2>, output_shape = array<i64: 10, 8>, pads = array<i64: 5, 5, 5, 5>} : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, none) -> tensor<*xf32>
  %b = onnx.ConvTranspose %x, %w, %none {strides = array<i64: 2, 2>, auto_pad = "SAME_UPPER"} : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, none) -> tensor<*xf32>
  return %a, %b : tensor<*xf32>, tensor<*xf32>
}

// -----

// Resize: floor(in * scale), or the sizes; empty scales count as absent.
// CHECK-LABEL: func.func @resize_shapes
// CHECK: onnx.Resize {{.*}} -> tensor<1x3x7x4xf32>
// CHECK: onnx.Resize {{.*}} -> tensor<1x3x9x2xf32>
func.func @resize_shapes(%x: tensor<1x3x5x5xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[1.0, 1.0, 1.5, 0.9]> : tensor<4xf32>) : tensor<4xf32>
  %a = onnx.Resize %x, %none, %s, %none {mode = "linear"} : (tensor<1x3x5x5xf32>, none, tensor<4xf32>, none) -> tensor<*xf32>
  %empty = onnx.Constant(dense<> : tensor<0xf32>) : tensor<0xf32>
  %sz = onnx.Constant(dense<[1, 3, 9, 2]> : tensor<4xi64>) : tensor<4xi64>
  %b = onnx.Resize %x, %empty, %empty, %sz : (tensor<1x3x5x5xf32>, tensor<0xf32>, tensor<0xf32>, tensor<4xi64>) -> tensor<*xf32>
  return %a, %b : tensor<*xf32>, tensor<*xf32>
}

// -----

// Opset 18 `axes` says which dims the sizes are for.
// CHECK-LABEL: func.func @resize_axes
// CHECK: onnx.Resize {{.*}} -> tensor<1x3x10x4xf32>
func.func @resize_axes(%x: tensor<1x3x5x5xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %sz = onnx.Constant(dense<[4, 10]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.Resize %x, %none, %none, %sz {axes = array<i64: 3, 2>} : (tensor<1x3x5x5xf32>, none, none, tensor<2xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Resize-10 is (X, scales): the scales sit in the roi slot.
// CHECK-LABEL: func.func @resize_opset10
// CHECK: onnx.Resize {{.*}} -> tensor<1x1x4x6xf32>
module attributes {onnx.opset = 10 : i64} {
func.func @resize_opset10(%x: tensor<1x1x2x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>) : tensor<4xf32>
  %y = onnx.Resize %x, %s, %none, %none : (tensor<1x1x2x3xf32>, tensor<4xf32>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
}

// -----

// CHECK-LABEL: func.func @upsample_input
// CHECK: onnx.Upsample {{.*}} -> tensor<1x1x4x9xf32>
func.func @upsample_input(%x: tensor<1x1x2x3xf32>) -> tensor<*xf32> {
  %s = onnx.Constant(dense<[1.0, 1.0, 2.0, 3.0]> : tensor<4xf32>) : tensor<4xf32>
  %y = onnx.Upsample %x, %s : (tensor<1x1x2x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// NonMaxSuppression: one [batch, class, box] row per kept box, how many
// known at run time only.
// CHECK-LABEL: func.func @nms
// CHECK: onnx.NonMaxSuppression {{.*}} -> tensor<?x3xi64>
func.func @nms(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>) -> tensor<*xi64> {
  %none = onnx.NoValue
  %y = onnx.NonMaxSuppression %b, %s, %m, %none, %none : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<1xi64>, none, none) -> tensor<*xi64>
  return %y : tensor<*xi64>
}

// -----

// The losses: the target's shape with reduction "none", else a scalar;
// SoftmaxCrossEntropyLoss's log_prob has the scores' shape.
// CHECK-LABEL: func.func @losses
// CHECK: onnx.NegativeLogLikelihoodLoss {{.*}} -> tensor<3x4xf32>
// CHECK: onnx.NegativeLogLikelihoodLoss {{.*}} -> tensor<f32>
// CHECK: onnx.SoftmaxCrossEntropyLoss {{.*}} -> (tensor<f32>, tensor<3x5x4xf32>)
func.func @losses(%x: tensor<3x5x4xf32>, %t: tensor<3x4xi64>, %w: tensor<5xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %a = onnx.NegativeLogLikelihoodLoss %x, %t, %w {reduction = "none"} : (tensor<3x5x4xf32>, tensor<3x4xi64>, tensor<5xf32>) -> tensor<*xf32>
  %b = onnx.NegativeLogLikelihoodLoss %x, %t, %none {ignore_index = -1 : i64} : (tensor<3x5x4xf32>, tensor<3x4xi64>, none) -> tensor<*xf32>
  %c:2 = onnx.SoftmaxCrossEntropyLoss %x, %t, %w {reduction = "sum"} : (tensor<3x5x4xf32>, tensor<3x4xi64>, tensor<5xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %a, %b, %c#0, %c#1 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// MaxUnpool's default shape: (in - 1) * stride + kernel - pads; MaxPool's
// Indices take Y's shape as int64; RoiAlign gives R x C x h x w.
// CHECK-LABEL: func.func @unpool_roialign
// CHECK: onnx.MaxPool {{.*}} -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xi64>)
// CHECK: onnx.MaxUnpool {{.*}} -> tensor<1x2x5x6xf32>
// CHECK: onnx.RoiAlign {{.*}} -> tensor<4x2x2x3xf32>
func.func @unpool_roialign(%x: tensor<1x2x6x6xf32>, %r: tensor<4x4xf32>, %b: tensor<4xi64>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %y, %i = onnx.MaxPool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>) -> (tensor<*xf32>, tensor<*xi64>)
  %u = onnx.MaxUnpool %y, %i, %none {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 0, 0>} : (tensor<*xf32>, tensor<*xi64>, none) -> tensor<*xf32>
  %a = onnx.RoiAlign %x, %r, %b {output_height = 2 : i64, output_width = 3 : i64} : (tensor<1x2x6x6xf32>, tensor<4x4xf32>, tensor<4xi64>) -> tensor<*xf32>
  return %u, %a : tensor<*xf32>, tensor<*xf32>
}
