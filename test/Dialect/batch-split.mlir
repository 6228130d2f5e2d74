// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(onnx-check-batch-split{dim=N}))' -split-input-file -verify-diagnostics

// A classifier head: conv, pool, the exporter's x.view(x.size(0), -1), a
// Gemm and a softmax over the classes. Each sample is computed on its own.
// expected-remark @+1 {{each sample along 'N' is computed on its own}}
func.func @classifier(%x: tensor<?x3x8x8xf32> {onnx.dim_params = ["N", "", "", ""]}) -> tensor<?x10xf32> {
  %w = onnx.Constant(dense<1.0> : tensor<4x3x3x3xf32>) : tensor<4x3x3x3xf32>
  %none = onnx.NoValue
  %c = onnx.Conv %x, %w, %none {pads = array<i64: 1, 1, 1, 1>} : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<?x4x8x8xf32>
  %p = onnx.GlobalAveragePool %c : (tensor<?x4x8x8xf32>) -> tensor<?x4x1x1xf32>
  %s = onnx.Shape %p : (tensor<?x4x1x1xf32>) -> tensor<4xi64>
  %i0 = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %n = onnx.Gather %s, %i0 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %ax = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %un = onnx.Unsqueeze %n, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %m1 = onnx.Constant(dense<[-1]> : tensor<1xi64>) : tensor<1xi64>
  %t = onnx.Concat %un, %m1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %f = onnx.Reshape %p, %t : (tensor<?x4x1x1xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  %b = onnx.Constant(dense<1.0> : tensor<10x4xf32>) : tensor<10x4xf32>
  %bias = onnx.Constant(dense<0.5> : tensor<10xf32>) : tensor<10xf32>
  %g = onnx.Gemm %f, %b, %bias {transB = 1 : i64} : (tensor<?x4xf32>, tensor<10x4xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %y = onnx.Softmax %g {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %y : tensor<?x10xf32>
}

// -----

// Attention over a batch of sequences: the batch moves through Transpose
// and batched MatMuls, never mixed.
// expected-remark @+1 {{each sample along 'N' is computed on its own}}
func.func @attention(%q: tensor<?x4x8xf32> {onnx.dim_params = ["N", "", ""]}) -> tensor<?x4x8xf32> {
  %kt = onnx.Transpose %q {perm = array<i64: 0, 2, 1>} : (tensor<?x4x8xf32>) -> tensor<?x8x4xf32>
  %s = onnx.MatMul %q, %kt : (tensor<?x4x8xf32>, tensor<?x8x4xf32>) -> tensor<?x4x4xf32>
  %a = onnx.Softmax %s {axis = -1 : i64} : (tensor<?x4x4xf32>) -> tensor<?x4x4xf32>
  %o = onnx.MatMul %a, %q : (tensor<?x4x4xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %o : tensor<?x4x8xf32>
}

// -----

func.func @reduce_over_batch(%x: tensor<?x4xf32> {onnx.dim_params = ["N", ""]}) -> tensor<1x4xf32> {
  %ax = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  // expected-error @+1 {{'onnx.ReduceMean' works along the batch dim, across samples}}
  %m = onnx.ReduceMean %x, %ax : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<1x4xf32>
  return %m : tensor<1x4xf32>
}

// -----

func.func @batch_as_number(%x: tensor<?x4xf32> {onnx.dim_params = ["N", ""]}) -> tensor<?x4xf32> {
  %s = onnx.Shape %x : (tensor<?x4xf32>) -> tensor<2xi64>
  %i0 = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %n = onnx.Gather %s, %i0 : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %nf = onnx.Cast %n {to = 1 : i64} : (tensor<i64>) -> tensor<f32>
  // expected-error @+1 {{'onnx.Div' uses the batch size as a number}}
  %y = onnx.Div %x, %nf : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @flatten_everything(%x: tensor<?x4xf32> {onnx.dim_params = ["N", ""]}) -> tensor<?xf32> {
  %t = onnx.Constant(dense<[-1]> : tensor<1xi64>) : tensor<1xi64>
  // expected-error @+1 {{'onnx.Reshape' does not keep each sample's elements together}}
  %r = onnx.Reshape %x, %t : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

func.func @concat_along_batch(%x: tensor<?x4xf32> {onnx.dim_params = ["N", ""]}) -> tensor<?x4xf32> {
  // expected-error @+1 {{'onnx.Concat' joins along the batch dim}}
  %c = onnx.Concat %x, %x {axis = 0 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %c : tensor<?x4xf32>
}

// -----

func.func @output_without_batch(%x: tensor<?x4xf32> {onnx.dim_params = ["N", ""]}) -> (tensor<?x4xf32>, tensor<4xf32>) {
  %w = onnx.Constant(dense<1.0> : tensor<4xf32>) : tensor<4xf32>
  // expected-error @+1 {{output 1 does not depend on the batch, not at dim 0}}
  return %x, %w : tensor<?x4xf32>, tensor<4xf32>
}
