// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file -verify-diagnostics

func.func @matmul_inner(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{inner dimensions differ: 3 and 4}}
  %y = onnx.MatMul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %s = onnx.Constant(dense<[4, 2]> : tensor<2xi64>) : tensor<2xi64>
  // expected-error @+1 {{cannot reshape 6 elements into 8}}
  %y = onnx.Reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{input channels (4) differ from weight channels x group (3 x 1)}}
  %y = onnx.Conv %x, %w, %none : (tensor<1x4x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @squeeze_non_one(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %a = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  // expected-error @+1 {{cannot squeeze dimension 0 of size 2}}
  %y = onnx.Squeeze %x, %a : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{inputs differ in dimension 1}}
  %y = onnx.Concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
