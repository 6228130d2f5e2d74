// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file -verify-diagnostics

func.func @resize_crop(%x: tensor<1x1x4x4xf32>, %roi: tensor<8xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %sz = onnx.Constant(dense<[1, 1, 3, 3]> : tensor<4xi64>) : tensor<4xi64>
  // expected-error @+1 {{tf_crop_and_resize is supported with a run-time roi and sizes only}}
  %y = onnx.Resize %x, %roi, %none, %sz {coordinate_transformation_mode = "tf_crop_and_resize", mode = "linear"} : (tensor<1x1x4x4xf32>, tensor<8xf32>, none, tensor<4xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @resize_both(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>) : tensor<4xf32>
  %sz = onnx.Constant(dense<[1, 1, 3, 3]> : tensor<4xi64>) : tensor<4xi64>
  // expected-error @+1 {{takes scales or sizes, not both}}
  %y = onnx.Resize %x, %none, %s, %sz : (tensor<1x1x4x4xf32>, none, tensor<4xf32>, tensor<4xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @resize_scale_count(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %s = onnx.Constant(dense<[2.0, 2.0]> : tensor<2xf32>) : tensor<2xf32>
  // expected-error @+1 {{scales has 2 values for 4 dimensions}}
  %y = onnx.Resize %x, %none, %s, %none : (tensor<1x1x4x4xf32>, none, tensor<2xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @resize_linear_int(%x: tensor<1x1x4x4xi32>, %s: tensor<4xf32>) -> tensor<*xi32> {
  %none = onnx.NoValue
  // expected-error @+1 {{mode linear needs a floating-point input}}
  %y = onnx.Resize %x, %none, %s, %none {mode = "linear"} : (tensor<1x1x4x4xi32>, none, tensor<4xf32>, none) -> tensor<*xi32>
  return %y : tensor<*xi32>
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x3x4x4xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{input channels (3) differ from the weights' first dimension (4)}}
  %y = onnx.ConvTranspose %x, %w, %none : (tensor<1x3x4x4xf32>, tensor<4x2x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @conv_transpose_pads(%x: tensor<1x1x2x2xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{output size 0 of spatial dimension 0 is not positive}}
  %y = onnx.ConvTranspose %x, %w, %none {pads = array<i64: 2, 0, 2, 0>} : (tensor<1x1x2x2xf32>, tensor<1x1x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @group_norm_groups(%x: tensor<1x6x4xf32>, %s: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{channels (6) are not divisible by num_groups (4)}}
  %y = onnx.GroupNormalization %x, %s, %s {num_groups = 4 : i64} : (tensor<1x6x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @layer_norm_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{axis 2 is out of range}}
  %y:3 = onnx.LayerNormalization %x, %s, %none {axis = 2 : i64} : (tensor<2x3xf32>, tensor<3xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y#0, %y#1, %y#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x3xf32>, %s: tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{Scale does not broadcast to the input shape}}
  %y:3 = onnx.LayerNormalization %x, %s, %none : (tensor<2x3xf32>, tensor<4xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y#0, %y#1, %y#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @nms_mismatch(%b: tensor<1x6x4xf32>, %s: tensor<1x2x5xf32>) -> tensor<*xi64> {
  %none = onnx.NoValue
  // expected-error @+1 {{disagree on batches or boxes}}
  %y = onnx.NonMaxSuppression %b, %s, %none, %none, %none : (tensor<1x6x4xf32>, tensor<1x2x5xf32>, none, none, none) -> tensor<*xi64>
  return %y : tensor<*xi64>
}

// -----

func.func @loss_target_rank(%x: tensor<3x5x4xf32>, %t: tensor<3xi64>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{the target must have rank 2 (the input's without C)}}
  %y = onnx.NegativeLogLikelihoodLoss %x, %t, %none : (tensor<3x5x4xf32>, tensor<3xi64>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @loss_reduction(%x: tensor<3x5xf32>, %t: tensor<3xi64>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{reduction must be none, sum or mean, got 'max'}}
  %y = onnx.SoftmaxCrossEntropyLoss %x, %t, %none {reduction = "max"} : (tensor<3x5xf32>, tensor<3xi64>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @loss_weight(%x: tensor<3x5xf32>, %t: tensor<3xi64>, %w: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{the weight has 4 elements, expected 5}}
  %y = onnx.NegativeLogLikelihoodLoss %x, %t, %w : (tensor<3x5xf32>, tensor<3xi64>, tensor<4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
