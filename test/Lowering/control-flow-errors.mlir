// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file -verify-diagnostics

// A Loop that can stop early cannot have scan outputs: their row count is
// known only once it has run. The loop is named, not the ops of its body.
func.func @early_exit(%v: tensor<2xf32>, %limit: tensor<f32>) -> tensor<?x2xf32> {
  %m = onnx.Constant(dense<8> : tensor<i64>) : tensor<i64>
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Loop': a Loop whose body computes its condition has scan outputs}}
  %r:2 = onnx.Loop(%m, %none) init(%v) : (tensor<i64>, none, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %acc: tensor<2xf32>):
    %n = onnx.Add %acc, %acc : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %s = onnx.ReduceSum %n, %none : (tensor<2xf32>, none) -> tensor<f32>
    %go = onnx.Less %s, %limit : (tensor<f32>, tensor<f32>) -> tensor<i1>
    onnx.Yield %go, %n, %n : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  }
  return %r#1 : tensor<?x2xf32>
}

// -----

// Branches whose outputs differ in shape merge to a dynamic one.
func.func @if_shapes(%c: tensor<i1>, %x: tensor<4xf32>, %y: tensor<3xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'onnx.If': output 0 (the branches' values merged) has a shape Kiln cannot fix before the model runs (tensor<?xf32>)}}
  %r = onnx.If %c : tensor<i1> -> tensor<?xf32> {
    onnx.Yield %x : tensor<4xf32>
  } else {
    onnx.Yield %y : tensor<3xf32>
  }
  return %r : tensor<?xf32>
}

// -----

// The next value of a carried tensor must have a shape known when
// compiling: one found only at run time could differ from the value's.
func.func @carried_unknown(%v: tensor<2xf32>, %shape: tensor<1xi64>) -> tensor<2xf32> {
  %m = onnx.Constant(dense<3> : tensor<i64>) : tensor<i64>
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Loop': the next value of loop-carried value 0 has a shape Kiln cannot fix before the model runs (tensor<?xf32>)}}
  %r = onnx.Loop(%m, %none) init(%v) : (tensor<i64>, none, tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %acc: tensor<2xf32>):
    %n = onnx.Reshape %acc, %shape : (tensor<2xf32>, tensor<1xi64>) -> tensor<?xf32>
    onnx.Yield %c, %n : tensor<i1>, tensor<?xf32>
  }
  return %r : tensor<2xf32>
}
