// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s --check-prefix=SHAPE
// RUN: kiln-opt %s --onnx-infer-shapes --convert-onnx-to-linalg -split-input-file | FileCheck %s

// If: the branches move into scf.if as they are (a branch may use values
// from outside); a result whose shapes differ between branches would be
// dynamic, equal ones stay.
// SHAPE-LABEL: func.func @if_select
// SHAPE: onnx.If {{.*}} -> tensor<4xf32>
// CHECK-LABEL: func.func @if_select
// CHECK: %[[C:.*]] = tensor.extract %{{.*}}[] : tensor<i1>
// CHECK: scf.if %[[C]] -> (tensor<4xf32>) {
// CHECK: linalg.generic
// CHECK: scf.yield %{{.*}} : tensor<4xf32>
// CHECK: } else {
// CHECK: scf.yield %{{.*}} : tensor<4xf32>
func.func @if_select(%c: tensor<i1>, %x: tensor<4xf32>) -> tensor<*xf32> {
  %y = onnx.If %c : tensor<i1> -> tensor<*xf32> {
    %a = onnx.Add %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    onnx.Yield %a : tensor<4xf32>
  } else {
    onnx.Yield %x : tensor<4xf32>
  }
  return %y : tensor<*xf32>
}

// -----

// Loop with a constant trip count and a condition the body passes through:
// scan outputs have M rows. scf.while over (iteration, condition, carried
// value, scan buffer); each row goes in before the carried value is copied
// into its own buffer.
// SHAPE-LABEL: func.func @loop_sum
// SHAPE: onnx.Loop{{.*}} -> (tensor<2xf32>, tensor<3x2xf32>)
// CHECK-LABEL: func.func @loop_sum
// CHECK: scf.while (%[[I:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) : (i64, i1, tensor<2xf32>, tensor<3x2xf32>)
// CHECK: arith.cmpi slt
// CHECK: scf.condition
// CHECK: } do {
// CHECK: linalg.generic
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0] [1, 2] [1, 1] : tensor<2xf32> into tensor<3x2xf32>
// CHECK: linalg.copy
// CHECK: scf.yield
func.func @loop_sum(%v: tensor<2xf32>, %d: tensor<2xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %m = onnx.Constant(dense<3> : tensor<i64>) : tensor<i64>
  %none = onnx.NoValue
  %r:2 = onnx.Loop(%m, %none) init(%v) : (tensor<i64>, none, tensor<2xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %acc: tensor<2xf32>):
    %n = onnx.Add %acc, %d : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    onnx.Yield %c, %n, %n : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  }
  return %r#0, %r#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// Scan over axis 1, its output stacked along axis 0 backwards.
// SHAPE-LABEL: func.func @scan_rows
// SHAPE: onnx.Scan{{.*}} -> (tensor<3xf32>, tensor<4x3xf32>)
// CHECK-LABEL: func.func @scan_rows
// CHECK: scf.for %[[T:.*]] = %c0 to %c4 step %c1 iter_args
// CHECK: %[[BACK:.*]] = arith.subi %c3, %[[T]]
// CHECK: tensor.extract_slice %{{.*}}[0, %[[T]]] [3, 1] [1, 1] : tensor<3x4xf32> to tensor<3xf32>
// CHECK: tensor.insert_slice %{{.*}}[%[[BACK]], 0] [1, 3] [1, 1] : tensor<3xf32> into tensor<4x3xf32>
// CHECK: linalg.copy
func.func @scan_rows(%s: tensor<3xf32>, %x: tensor<3x4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %r:2 = onnx.Scan(%s, %x) : (tensor<3xf32>, tensor<3x4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  ^bb0(%st: tensor<3xf32>, %col: tensor<3xf32>):
    %n = onnx.Mul %st, %col : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    onnx.Yield %n, %n : tensor<3xf32>, tensor<3xf32>
  } {num_scan_inputs = 1 : i64, scan_input_axes = array<i64: 1>, scan_output_directions = array<i64: 1>}
  return %r#0, %r#1 : tensor<*xf32>, tensor<*xf32>
}
