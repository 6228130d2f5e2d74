// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s

// Result types that shape inference gives the ops of OnnxTensorOps.td.

// CHECK-LABEL: func.func @castlike
// CHECK: onnx.CastLike {{.*}} -> tensor<3x4xf32>
func.func @castlike(%x: tensor<3x4xf64>, %like: tensor<1xf32>) -> tensor<*xf32> {
  %y = onnx.CastLike %x, %like : (tensor<3x4xf64>, tensor<1xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @gather_elements
// CHECK: onnx.GatherElements {{.*}} -> tensor<2x3xf32>
func.func @gather_elements(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>) -> tensor<*xf32> {
  %y = onnx.GatherElements %d, %i : (tensor<3x3xf32>, tensor<2x3xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @depth_to_space
// CHECK: onnx.DepthToSpace {{.*}} -> tensor<2x2x6x6xf32>
func.func @depth_to_space(%x: tensor<2x8x3x3xf32>) -> tensor<*xf32> {
  %y = onnx.DepthToSpace %x {blocksize = 2 : i64} : (tensor<2x8x3x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @space_to_depth
// CHECK: onnx.SpaceToDepth {{.*}} -> tensor<2x8x3x3xf32>
func.func @space_to_depth(%x: tensor<2x2x6x6xf32>) -> tensor<*xf32> {
  %y = onnx.SpaceToDepth %x {blocksize = 2 : i64} : (tensor<2x2x6x6xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// The new axis goes at `axis` of the result; the element type is the
// values'.
// CHECK-LABEL: func.func @onehot
// CHECK: onnx.OneHot {{.*}} -> tensor<2x10x2xi32>
func.func @onehot(%i: tensor<2x2xf32>, %v: tensor<2xi32>) -> tensor<*xi32> {
  %d = onnx.Constant(dense<10.0> : tensor<f32>) : tensor<f32>
  %y = onnx.OneHot %i, %d, %v {axis = -2 : i64} : (tensor<2x2xf32>, tensor<f32>, tensor<2xi32>) -> tensor<*xi32>
  return %y : tensor<*xi32>
}

// -----

// A depth known only at run time leaves its dimension dynamic.
// CHECK-LABEL: func.func @onehot_runtime_depth
// CHECK: onnx.OneHot {{.*}} -> tensor<3x?xf32>
func.func @onehot_runtime_depth(%i: tensor<3xi64>, %d: tensor<f32>, %v: tensor<2xf32>) -> tensor<*xf32> {
  %y = onnx.OneHot %i, %d, %v : (tensor<3xi64>, tensor<f32>, tensor<2xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @pad
// CHECK: onnx.Pad {{.*}} -> tensor<1x3x7x12xf32>
func.func @pad(%x: tensor<1x3x4x5xf32>) -> tensor<*xf32> {
  %p = onnx.Constant(dense<[0, 0, 1, 3, 0, 0, 2, 4]> : tensor<8xi64>) : tensor<8xi64>
  %none = onnx.NoValue
  %y = onnx.Pad %x, %p, %none, %none : (tensor<1x3x4x5xf32>, tensor<8xi64>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @pad_axes_negative
// CHECK: onnx.Pad {{.*}} -> tensor<2x1xf32>
func.func @pad_axes_negative(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %p = onnx.Constant(dense<[-1, -1]> : tensor<2xi64>) : tensor<2xi64>
  %a = onnx.Constant(dense<[1]> : tensor<1xi64>) : tensor<1xi64>
  %none = onnx.NoValue
  %y = onnx.Pad %x, %p, %none, %a : (tensor<2x3xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @pad_runtime
// CHECK: onnx.Pad {{.*}} -> tensor<?x?xf32>
func.func @pad_runtime(%x: tensor<2x3xf32>, %p: tensor<4xi64>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %y = onnx.Pad %x, %p, %none, %none : (tensor<2x3xf32>, tensor<4xi64>, none, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @eyelike
// CHECK: onnx.EyeLike {{.*}} -> tensor<3x4xf64>
func.func @eyelike(%x: tensor<3x4xi32>) -> tensor<*xf32> {
  %y = onnx.EyeLike %x {dtype = 11 : i64} : (tensor<3x4xi32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @same_shape
// CHECK: onnx.Trilu {{.*}} -> tensor<2x3x3xi64>
// CHECK: onnx.CumSum {{.*}} -> tensor<2x3x3xi64>
// CHECK: onnx.Hardmax {{.*}} -> tensor<3x4xf32>
// CHECK: onnx.ScatterElements {{.*}} -> tensor<1x5xf32>
func.func @same_shape(%x: tensor<2x3x3xi64>, %a: tensor<i32>, %h: tensor<3x4xf32>,
                      %d: tensor<1x5xf32>, %i: tensor<1x2xi64>, %u: tensor<1x2xf32>)
    -> (tensor<*xi64>, tensor<*xi64>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %t = onnx.Trilu %x, %none : (tensor<2x3x3xi64>, none) -> tensor<*xi64>
  %c = onnx.CumSum %t, %a : (tensor<*xi64>, tensor<i32>) -> tensor<*xi64>
  %m = onnx.Hardmax %h : (tensor<3x4xf32>) -> tensor<*xf32>
  %s = onnx.ScatterElements %d, %i, %u {axis = 1 : i64} : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<*xf32>
  return %t, %c, %m, %s : tensor<*xi64>, tensor<*xi64>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Sizes that depend on the values: TopK's axis is k where k is a constant,
// else unknown; Compress's axis and NonZero's count are unknown.
// CHECK-LABEL: func.func @value_sized
// CHECK: onnx.TopK {{.*}} -> (tensor<3x2xf32>, tensor<3x2xi64>)
// CHECK: onnx.TopK {{.*}} -> (tensor<3x?xf32>, tensor<3x?xi64>)
// CHECK: onnx.Compress {{.*}} -> tensor<?x4xf32>
// CHECK: onnx.Compress {{.*}} -> tensor<?xf32>
// CHECK: onnx.NonZero {{.*}} -> tensor<2x?xi64>
func.func @value_sized(%x: tensor<3x4xf32>, %k: tensor<1xi64>, %c: tensor<3xi1>)
    -> (tensor<*xf32>, tensor<*xi64>, tensor<*xf32>, tensor<*xi64>,
        tensor<*xf32>, tensor<*xf32>, tensor<*xi64>) {
  %two = onnx.Constant(dense<[2]> : tensor<1xi64>) : tensor<1xi64>
  %v, %i = onnx.TopK %x, %two {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<*xf32>, tensor<*xi64>)
  %v2, %i2 = onnx.TopK %x, %k {axis = -1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<*xf32>, tensor<*xi64>)
  %a = onnx.Compress %x, %c {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3xi1>) -> tensor<*xf32>
  %b = onnx.Compress %x, %c : (tensor<3x4xf32>, tensor<3xi1>) -> tensor<*xf32>
  %n = onnx.NonZero %x : (tensor<3x4xf32>) -> tensor<*xi64>
  return %v, %i, %v2, %i2, %a, %b, %n : tensor<*xf32>, tensor<*xi64>, tensor<*xf32>, tensor<*xi64>, tensor<*xf32>, tensor<*xf32>, tensor<*xi64>
}

// -----

// Unique: the number of distinct slices is unknown; inverse_indices has one
// entry per slice.
// CHECK-LABEL: func.func @unique
// CHECK: onnx.Unique {{.*}} -> (tensor<?xf32>, tensor<?xi64>, tensor<12xi64>, tensor<?xi64>)
// CHECK: onnx.Unique {{.*}} -> (tensor<3x?xf32>, tensor<?xi64>, tensor<4xi64>, tensor<?xi64>)
func.func @unique(%x: tensor<3x4xf32>)
    -> (tensor<*xf32>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xf32>) {
  %y, %i, %v, %c = onnx.Unique %x : (tensor<3x4xf32>) -> (tensor<*xf32>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>)
  %y2, %i2, %v2, %c2 = onnx.Unique %x {axis = 1 : i64, sorted = 0 : i64} : (tensor<3x4xf32>) -> (tensor<*xf32>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>)
  return %y, %i, %v, %c, %y2 : tensor<*xf32>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xf32>
}

// -----

// GatherND: indices.shape[:-1] + data.shape[batch_dims + k:].
// CHECK-LABEL: func.func @gather_nd
// CHECK: onnx.GatherND {{.*}} -> tensor<2x3x5xf32>
func.func @gather_nd(%d: tensor<2x4x5xf32>, %i: tensor<2x3x1xi64>) -> tensor<*xf32> {
  %y = onnx.GatherND %d, %i {batch_dims = 1 : i64} : (tensor<2x4x5xf32>, tensor<2x3x1xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Einsum: the output's letters, "..." first when implicit.
// CHECK-LABEL: func.func @einsum
// CHECK: onnx.Einsum {{.*}} -> tensor<2x3x5xf32>
// CHECK: onnx.Einsum {{.*}} -> tensor<7x4xf32>
// CHECK: onnx.Einsum {{.*}} -> tensor<f32>
func.func @einsum(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<7x4x4xf32>, %v: tensor<6xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %m = onnx.Einsum %a, %b {equation = "bij, bjk -> bik"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<*xf32>
  %d = onnx.Einsum %c {equation = "...ii->...i"} : (tensor<7x4x4xf32>) -> tensor<*xf32>
  %s = onnx.Einsum %v, %v {equation = "i,i"} : (tensor<6xf32>, tensor<6xf32>) -> tensor<*xf32>
  return %m, %d, %s : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @grid_sample
// CHECK: onnx.GridSample {{.*}} -> tensor<1x3x5x6xf32>
// CHECK: onnx.Bernoulli {{.*}} -> tensor<4xf64>
func.func @grid_sample(%x: tensor<1x3x8x8xf32>, %g: tensor<1x5x6x2xf32>, %p: tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf64>) {
  %y = onnx.GridSample %x, %g {mode = "bicubic"} : (tensor<1x3x8x8xf32>, tensor<1x5x6x2xf32>) -> tensor<*xf32>
  %b = onnx.Bernoulli %p {dtype = 11 : i64} : (tensor<4xf32>) -> tensor<*xf64>
  return %y, %b : tensor<*xf32>, tensor<*xf64>
}
