// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file -verify-diagnostics

func.func @scale_length(%x: tensor<2x3xf32>, %s: tensor<4xf32>) -> tensor<2x3xui8> {
  %n = onnx.NoValue
  // expected-error @+1 {{y_scale has 4 values for an axis of size 3}}
  %y = onnx.QuantizeLinear %x, %s, %n {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4xf32>, none) -> tensor<2x3xui8>
  return %y : tensor<2x3xui8>
}

// -----

func.func @zero_point_type(%x: tensor<2x3xui8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<2x3xf32> {
  // expected-error @+1 {{x_zero_point has element type 'i8', x 'ui8'}}
  %y = onnx.DequantizeLinear %x, %s, %z : (tensor<2x3xui8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @float_product(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xi32> {
  %n = onnx.NoValue
  // expected-error @+1 {{expects 8-bit integer operands}}
  %y = onnx.MatMulInteger %a, %b, %n, %n : (tensor<2x3xf32>, tensor<3x2xf32>, none, none) -> tensor<2x2xi32>
  return %y : tensor<2x2xi32>
}

// -----

func.func @shift_signed(%a: tensor<4xi8>, %b: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{expects unsigned integer operands}}
  %y = onnx.BitShift %a, %b {direction = "LEFT"} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %y : tensor<4xi8>
}

// -----

func.func @einsum_rank(%a: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{equation 'ijk->i': input 0 has rank 2, its term 'ijk' names 3 dims}}
  %y = onnx.Einsum %a {equation = "ijk->i"} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @gather_nd_tuple(%d: tensor<2x3xf32>, %i: tensor<4x3xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{index tuples of 3 entries do not fit data of rank 2}}
  %y = onnx.GatherND %d, %i : (tensor<2x3xf32>, tensor<4x3xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @grid_mode(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{unknown mode 'cubic'}}
  %y = onnx.GridSample %x, %g {mode = "cubic"} : (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @window_size_float(%n: tensor<f32>) -> tensor<*xf32> {
  // expected-error @+1 {{size must hold an integer}}
  %w = onnx.HannWindow %n : (tensor<f32>) -> tensor<*xf32>
  return %w : tensor<*xf32>
}

// -----

func.func @dft_axis_last(%x: tensor<2x8x1xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{axis 2 is out of range for rank 3 (the last dim holds the complex parts)}}
  %y = onnx.DFT %x, %none {axis = 2 : i64} : (tensor<2x8x1xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @stft_long_frame(%s: tensor<1x8x1xf32>, %w: tensor<16xf32>) -> tensor<*xf32> {
  %step = onnx.Constant(dense<4> : tensor<i64>) : tensor<i64>
  %none = onnx.NoValue
  // expected-error @+1 {{frame_length 16 exceeds the signal's length 8}}
  %y = onnx.STFT %s, %step, %w, %none : (tensor<1x8x1xf32>, tensor<i64>, tensor<16xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @tfidf_indexes(%x: tensor<6xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{ngram_indexes has 2 entries for 3 pool n-grams}}
  %y = onnx.TfIdfVectorizer %x {max_gram_length = 2 : i64, min_gram_length = 1 : i64, max_skip_count = 0 : i64, mode = "TF", ngram_counts = array<i64: 0, 2>, ngram_indexes = array<i64: 0, 1>, pool_int64s = array<i64: 1, 2, 3, 4>} : (tensor<6xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @if_mismatch(%c: tensor<i1>, %x: tensor<4xf32>, %i: tensor<4xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{output 0 has type 'tensor<4xf32>' in then_branch but 'tensor<4xi64>' in else_branch}}
  %y = onnx.If %c : tensor<i1> -> tensor<*xf32> {
    onnx.Yield %x : tensor<4xf32>
  } else {
    onnx.Yield %i : tensor<4xi64>
  }
  return %y : tensor<*xf32>
}

// -----

func.func @loop_body_args(%v: tensor<2xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{body takes 2 inputs; expected 3 (iteration number, condition, loop-carried values)}}
  %r = onnx.Loop(%none, %none) init(%v) : (none, none, tensor<2xf32>) -> tensor<*xf32> {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>):
    onnx.Yield %c, %v : tensor<i1>, tensor<2xf32>
  }
  return %r : tensor<*xf32>
}
