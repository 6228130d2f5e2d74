// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s

// Layout 0: Y is seq x directions x batch x hidden, the final states
// directions x batch x hidden.
// CHECK-LABEL: func.func @lstm_forward
// CHECK: onnx.LSTM {{.*}} -> (tensor<5x1x2x16xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>)
func.func @lstm_forward(%x: tensor<5x2x8xf32>, %w: tensor<1x64x8xf32>, %r: tensor<1x64x16xf32>, %b: tensor<1x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %y:3 = onnx.LSTM %x, %w, %r, %b, %none, %none, %none, %none {hidden_size = 16 : i64} : (tensor<5x2x8xf32>, tensor<1x64x8xf32>, tensor<1x64x16xf32>, tensor<1x128xf32>, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y#0, %y#1, %y#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Layout 1 puts batch first: Y batch x seq x directions x hidden, the
// states batch x directions x hidden.
// CHECK-LABEL: func.func @lstm_bidirectional_batch_first
// CHECK: onnx.LSTM {{.*}} -> (tensor<2x5x2x16xf32>, tensor<2x2x16xf32>, tensor<2x2x16xf32>)
func.func @lstm_bidirectional_batch_first(%x: tensor<2x5x8xf32>, %w: tensor<2x64x8xf32>, %r: tensor<2x64x16xf32>, %h: tensor<2x2x16xf32>, %lens: tensor<2xi32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %y:3 = onnx.LSTM %x, %w, %r, %none, %lens, %h, %h, %none {direction = "bidirectional", hidden_size = 16 : i64, layout = 1 : i64} : (tensor<2x5x8xf32>, tensor<2x64x8xf32>, tensor<2x64x16xf32>, none, tensor<2xi32>, tensor<2x2x16xf32>, tensor<2x2x16xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y#0, %y#1, %y#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Without hidden_size the hidden size is R's last dimension.
// CHECK-LABEL: func.func @gru_hidden_from_r
// CHECK: onnx.GRU {{.*}} -> (tensor<3x1x4x6xf64>, tensor<1x4x6xf64>)
func.func @gru_hidden_from_r(%x: tensor<3x4x5xf64>, %w: tensor<1x18x5xf64>, %r: tensor<1x18x6xf64>) -> (tensor<*xf64>, tensor<*xf64>) {
  %none = onnx.NoValue
  %y:2 = onnx.GRU %x, %w, %r, %none, %none, %none {linear_before_reset = 1 : i64} : (tensor<3x4x5xf64>, tensor<1x18x5xf64>, tensor<1x18x6xf64>, none, none, none) -> (tensor<*xf64>, tensor<*xf64>)
  return %y#0, %y#1 : tensor<*xf64>, tensor<*xf64>
}

// -----

// An unknown sequence length stays unknown; the rest is still inferred.
// CHECK-LABEL: func.func @rnn_dynamic_seq
// CHECK: onnx.RNN {{.*}} -> (tensor<?x1x3x4xf32>, tensor<1x3x4xf32>)
func.func @rnn_dynamic_seq(%x: tensor<?x3x2xf32>, %w: tensor<1x4x2xf32>, %r: tensor<1x4x4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %none {direction = "reverse", hidden_size = 4 : i64} : (tensor<?x3x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>, none, none, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %y#0, %y#1 : tensor<*xf32>, tensor<*xf32>
}
