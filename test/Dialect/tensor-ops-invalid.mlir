// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file -verify-diagnostics

// Verifier and shape inference errors of the ops of OnnxTensorOps.td.

func.func @trilu_rank(%x: tensor<4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{expects an input of rank 2 or more, got 1}}
  %y = onnx.Trilu %x, %none : (tensor<4xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @trilu_k(%x: tensor<4x4xf32>, %k: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{k must be a scalar}}
  %y = onnx.Trilu %x, %k : (tensor<4x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @gather_elements_indices(%d: tensor<3x3xf32>, %i: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{indices must be int32 or int64}}
  %y = onnx.GatherElements %d, %i : (tensor<3x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @gather_elements_rank(%d: tensor<3x3xf32>, %i: tensor<3xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{data and indices must have the same rank}}
  %y = onnx.GatherElements %d, %i : (tensor<3x3xf32>, tensor<3xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @gather_elements_axis(%d: tensor<3x3xf32>, %i: tensor<3x3xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{axis 2 is out of range}}
  %y = onnx.GatherElements %d, %i {axis = 2 : i64} : (tensor<3x3xf32>, tensor<3x3xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @gather_elements_fit(%d: tensor<3x3xf32>, %i: tensor<2x4xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{indices are larger than data in dimension 1}}
  %y = onnx.GatherElements %d, %i : (tensor<3x3xf32>, tensor<2x4xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @cumsum_flag(%x: tensor<5xf32>, %a: tensor<i32>) -> tensor<*xf32> {
  // expected-error @+1 {{exclusive must be 0 or 1}}
  %y = onnx.CumSum %x, %a {exclusive = 2 : i64} : (tensor<5xf32>, tensor<i32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @cumsum_axis(%x: tensor<2x5xf32>) -> tensor<*xf32> {
  %a = onnx.Constant(dense<2> : tensor<i64>) : tensor<i64>
  // expected-error @+1 {{axis 2 is out of range}}
  %y = onnx.CumSum %x, %a : (tensor<2x5xf32>, tensor<i64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @hardmax_int(%x: tensor<3x4xi32>) -> tensor<*xi32> {
  // expected-error @+1 {{expects a floating-point operand}}
  %y = onnx.Hardmax %x : (tensor<3x4xi32>) -> tensor<*xi32>
  return %y : tensor<*xi32>
}

// -----

func.func @depth_to_space_mode(%x: tensor<1x8x2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{mode must be DCR or CRD}}
  %y = onnx.DepthToSpace %x {blocksize = 2 : i64, mode = "RDC"} : (tensor<1x8x2x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @depth_to_space_channels(%x: tensor<1x6x2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{channels (6) are not divisible by blocksize squared (4)}}
  %y = onnx.DepthToSpace %x {blocksize = 2 : i64} : (tensor<1x6x2x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @space_to_depth_rank(%x: tensor<4x6xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{expects an input of rank 4, got 2}}
  %y = onnx.SpaceToDepth %x {blocksize = 2 : i64} : (tensor<4x6xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @space_to_depth_blocks(%x: tensor<1x1x4x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{spatial dimension 3 (5) is not divisible by blocksize (2)}}
  %y = onnx.SpaceToDepth %x {blocksize = 2 : i64} : (tensor<1x1x4x5xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @onehot_values(%i: tensor<3xi64>, %d: tensor<f32>, %v: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{values must be a 1-D tensor of two elements}}
  %y = onnx.OneHot %i, %d, %v : (tensor<3xi64>, tensor<f32>, tensor<3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @onehot_axis(%i: tensor<3xi64>, %v: tensor<2xf32>) -> tensor<*xf32> {
  %d = onnx.Constant(dense<4.0> : tensor<f32>) : tensor<f32>
  // expected-error @+1 {{axis 2 is out of range}}
  %y = onnx.OneHot %i, %d, %v {axis = 2 : i64} : (tensor<3xi64>, tensor<f32>, tensor<2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @pad_mode(%x: tensor<3xf32>, %p: tensor<2xi64>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{unknown mode 'mirror'}}
  %y = onnx.Pad %x, %p, %none, %none {mode = "mirror"} : (tensor<3xf32>, tensor<2xi64>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @pad_twice(%x: tensor<3xf32>, %p: tensor<2xi64>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{takes pads either as an input or as an attribute}}
  %y = onnx.Pad %x, %p, %none, %none {pads = array<i64: 1, 1>} : (tensor<3xf32>, tensor<2xi64>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @pad_count(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %p = onnx.Constant(dense<[1, 1]> : tensor<2xi64>) : tensor<2xi64>
  %none = onnx.NoValue
  // expected-error @+1 {{pads has 2 values for 2 axes}}
  %y = onnx.Pad %x, %p, %none, %none : (tensor<2x3xf32>, tensor<2xi64>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @pad_crop(%x: tensor<3xf32>) -> tensor<*xf32> {
  %p = onnx.Constant(dense<[-2, -2]> : tensor<2xi64>) : tensor<2xi64>
  %none = onnx.NoValue
  // expected-error @+1 {{pads remove more than dimension 0 holds}}
  %y = onnx.Pad %x, %p, %none, %none : (tensor<3xf32>, tensor<2xi64>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @scatter_reduction(%d: tensor<3xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{unknown reduction 'sum'}}
  %y = onnx.ScatterElements %d, %i, %u {reduction = "sum"} : (tensor<3xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @scatter_shapes(%d: tensor<3xf32>, %i: tensor<2xi64>, %u: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{indices and updates must have the same shape}}
  %y = onnx.ScatterElements %d, %i, %u : (tensor<3xf32>, tensor<2xi64>, tensor<3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @scatter_updates_type(%d: tensor<3xf32>, %i: tensor<2xi64>, %u: tensor<2xi32>) -> tensor<*xf32> {
  // expected-error @+1 {{updates must have the data's element type}}
  %y = onnx.Scatter %d, %i, %u : (tensor<3xf32>, tensor<2xi64>, tensor<2xi32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @eyelike_rank(%x: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{expects an input of rank 2, got 1}}
  %y = onnx.EyeLike %x : (tensor<3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @eyelike_dtype(%x: tensor<3x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{unsupported dtype code 99}}
  %y = onnx.EyeLike %x {dtype = 99 : i64} : (tensor<3x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @topk_too_many(%x: tensor<3x4xf32>) -> (tensor<*xf32>, tensor<*xi64>) {
  %k = onnx.Constant(dense<[5]> : tensor<1xi64>) : tensor<1xi64>
  // expected-error @+1 {{k = 5 is not within the axis' 4 elements}}
  %v, %i = onnx.TopK %x, %k : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<*xf32>, tensor<*xi64>)
  return %v, %i : tensor<*xf32>, tensor<*xi64>
}

// -----

func.func @compress_condition(%x: tensor<3x4xf32>, %c: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{condition must be bool}}
  %y = onnx.Compress %x, %c : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
