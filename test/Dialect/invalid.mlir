// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @add_types(%a: tensor<2xf32>, %b: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{operand element types differ}}
  %c = onnx.Add %a, %b : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{operand shapes do not broadcast}}
  %c = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}

// -----

func.func @sqrt_int(%a: tensor<2xi64>) -> tensor<2xi64> {
  // expected-error @+1 {{expects a floating-point operand}}
  %c = onnx.Sqrt %a : (tensor<2xi64>) -> tensor<2xi64>
  return %c : tensor<2xi64>
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{perm is not a permutation}}
  %c = onnx.Transpose %a {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %c : tensor<3x2xf32>
}

// -----

func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{pads must have 4 values}}
  %y = onnx.Conv %x, %w, %none {pads = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @conv_group(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{group must be positive}}
  %y = onnx.Conv %x, %w, %none {group = 0 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @where_cond(%c: tensor<2xf32>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{condition must be a bool tensor}}
  %y = onnx.Where %c, %a, %a : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @reshape_shape(%x: tensor<4xf32>, %s: tensor<2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{shape must be an int64 tensor}}
  %y = onnx.Reshape %x, %s : (tensor<4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @gather_indices(%x: tensor<4xf32>, %i: tensor<2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{indices must be int32 or int64}}
  %y = onnx.Gather %x, %i : (tensor<4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @cast_to(%x: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{unsupported target type code 99}}
  %y = onnx.Cast %x {to = 99 : i64} : (tensor<4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
