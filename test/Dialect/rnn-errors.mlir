// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @unknown_direction(%x: tensor<5x2x8xf32>, %w: tensor<1x64x8xf32>, %r: tensor<1x64x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{unknown direction 'backward' (expected forward, reverse or bidirectional)}}
  %y:3 = onnx.LSTM %x, %w, %r, %none, %none, %none, %none, %none {direction = "backward"} : (tensor<5x2x8xf32>, tensor<1x64x8xf32>, tensor<1x64x16xf32>, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @unknown_activation(%x: tensor<5x2x8xf32>, %w: tensor<1x48x8xf32>, %r: tensor<1x48x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{unknown activation 'Gelu'}}
  %y:2 = onnx.GRU %x, %w, %r, %none, %none, %none {activations = ["Sigmoid", "Gelu"]} : (tensor<5x2x8xf32>, tensor<1x48x8xf32>, tensor<1x48x16xf32>, none, none, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @activation_count(%x: tensor<5x2x8xf32>, %w: tensor<2x64x8xf32>, %r: tensor<2x64x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{expects 6 activations, got 2}}
  %y:3 = onnx.LSTM %x, %w, %r, %none, %none, %none, %none, %none {activations = ["Sigmoid", "Tanh"], direction = "bidirectional"} : (tensor<5x2x8xf32>, tensor<2x64x8xf32>, tensor<2x64x16xf32>, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @weights_directions(%x: tensor<5x2x8xf32>, %w: tensor<1x16x8xf32>, %r: tensor<1x16x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{W has shape [1, 16, 8], expected [2, 16, 8]}}
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %none {direction = "bidirectional"} : (tensor<5x2x8xf32>, tensor<1x16x8xf32>, tensor<1x16x16xf32>, none, none, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @weights_input_size(%x: tensor<5x2x8xf32>, %w: tensor<1x64x7xf32>, %r: tensor<1x64x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{W has shape [1, 64, 7], expected [1, 64, 8]}}
  %y:3 = onnx.LSTM %x, %w, %r, %none, %none, %none, %none, %none : (tensor<5x2x8xf32>, tensor<1x64x7xf32>, tensor<1x64x16xf32>, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @hidden_size_mismatch(%x: tensor<5x2x8xf32>, %w: tensor<1x48x8xf32>, %r: tensor<1x48x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{hidden_size 8 differs from R's last dimension 16}}
  %y:2 = onnx.GRU %x, %w, %r, %none, %none, %none {hidden_size = 8 : i64} : (tensor<5x2x8xf32>, tensor<1x48x8xf32>, tensor<1x48x16xf32>, none, none, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @bias_size(%x: tensor<5x2x8xf32>, %w: tensor<1x16x8xf32>, %r: tensor<1x16x16xf32>, %b: tensor<1x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{B has shape [1, 16], expected [1, 32]}}
  %y:2 = onnx.RNN %x, %w, %r, %b, %none, %none : (tensor<5x2x8xf32>, tensor<1x16x8xf32>, tensor<1x16x16xf32>, tensor<1x16xf32>, none, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

// Layout 1 states are batch x directions x hidden.
func.func @initial_h_layout(%x: tensor<2x5x8xf32>, %w: tensor<1x16x8xf32>, %r: tensor<1x16x16xf32>, %h: tensor<1x2x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{initial_h has shape [1, 2, 16], expected [2, 1, 16]}}
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %h {layout = 1 : i64} : (tensor<2x5x8xf32>, tensor<1x16x8xf32>, tensor<1x16x16xf32>, none, none, tensor<1x2x16xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @peephole_size(%x: tensor<5x2x8xf32>, %w: tensor<1x64x8xf32>, %r: tensor<1x64x16xf32>, %p: tensor<1x32xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{P has shape [1, 32], expected [1, 48]}}
  %y:3 = onnx.LSTM %x, %w, %r, %none, %none, %none, %none, %p : (tensor<5x2x8xf32>, tensor<1x64x8xf32>, tensor<1x64x16xf32>, none, none, none, none, tensor<1x32xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @sequence_lens_type(%x: tensor<5x2x8xf32>, %w: tensor<1x16x8xf32>, %r: tensor<1x16x16xf32>, %lens: tensor<2xi64>) {
  %none = onnx.NoValue
  // expected-error @+1 {{sequence_lens must be an int32 tensor}}
  %y:2 = onnx.RNN %x, %w, %r, %none, %lens, %none : (tensor<5x2x8xf32>, tensor<1x16x8xf32>, tensor<1x16x16xf32>, none, tensor<2xi64>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @layout_value(%x: tensor<5x2x8xf32>, %w: tensor<1x16x8xf32>, %r: tensor<1x16x16xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{layout must be 0 or 1, got 2}}
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %none {layout = 2 : i64} : (tensor<5x2x8xf32>, tensor<1x16x8xf32>, tensor<1x16x16xf32>, none, none, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @integer_input(%x: tensor<5x2x8xi32>, %w: tensor<1x16x8xi32>, %r: tensor<1x16x16xi32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{X must be a floating-point tensor}}
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %none : (tensor<5x2x8xi32>, tensor<1x16x8xi32>, tensor<1x16x16xi32>, none, none, none) -> (tensor<*xi32>, tensor<*xi32>)
  return
}
