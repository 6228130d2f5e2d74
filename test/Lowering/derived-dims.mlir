// RUN: kiln-opt %s --kiln-dynamic-entry -split-input-file | FileCheck %s
// RUN: not kiln-opt %s --kiln-dynamic-entry --convert-onnx-to-linalg -split-input-file 2>/dev/null | FileCheck %s --check-prefix=LOWERED

// Expand to a shape that is an input: each unknown result dim becomes a
// derived dim, an index argument after the symbolic dims (none here), named
// on the op (kiln.dim_args). main_graph_dims reads the shape and applies
// Expand's rule (the input's dim where it is not 1), with the conditions
// for valid values (no negative size; 1 or equal where the input's dim is
// not 1; the fixed dim 3 as the rule gives it) in its i1.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %{{.*}}: tensor<3xi64>, %{{.*}}: index {kiln.dim = 0 : i64}, %{{.*}}: index {kiln.dim = 1 : i64}
// CHECK-SAME: kiln.derived_dims = 2 : i64, kiln.dim_max = array<i64: 0, 0>
// CHECK: onnx.Expand {{.*}} {kiln.dim_args = array<i64: 2, -1, 3>}
// CHECK-LABEL: func.func @main_graph_dims
// CHECK-SAME: (%{{.*}}: tensor<3x1xf32>, %[[SHAPE:.*]]: tensor<3xi64>) -> (i1, index, index)
// CHECK-SAME: kiln.shape_function
// CHECK-DAG: %[[E0:.*]] = tensor.extract %[[SHAPE]][%c0]
// CHECK-DAG: %[[E2:.*]] = tensor.extract %[[SHAPE]][%c2]
// CHECK: arith.cmpi sge, %[[E0]]
// CHECK: %[[R0:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[R2:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: return %{{.*}}, %[[R0]], %[[R2]] : i1, index, index
// The lowering takes the derived dims as the result's sizes and reads the
// input broadcast: no shape values inside main_graph.
// LOWERED-LABEL: func.func @main_graph(
// LOWERED-SAME: %[[D0:[a-z0-9]+]]: index {kiln.dim = 0 : i64}, %[[D1:[a-z0-9]+]]: index {kiln.dim = 1 : i64}
// LOWERED: tensor.empty(%[[D0]], %[[D1]]) : tensor<?x3x?xf32>
// LOWERED: linalg.generic
// LOWERED-NOT: tensor.extract %arg1
// LOWERED: return
func.func @main_graph(%x: tensor<3x1xf32>, %shape: tensor<3xi64>) -> tensor<?x3x?xf32>
    attributes {kiln.dims = [], kiln.dim_max = array<i64>,
                kiln.result_dims = [array<i64: -9223372036854775808, 3, -9223372036854775808>]} {
  %y = onnx.Expand %x, %shape : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<?x3x?xf32>
  return %y : tensor<?x3x?xf32>
}

// -----

// A window's length computed from an input through Cast and Sub (what a
// HannWindow's function body does): the Range's length is ONNX's
// max(ceil((limit - start) / delta), 0) on the values in f64.
// CHECK-LABEL: func.func @main_graph_dims
// CHECK-SAME: (%[[N:.*]]: tensor<i32>) -> (i1, index)
// CHECK: %[[V:.*]] = tensor.extract %[[N]][] : tensor<i32>
// CHECK: arith.extsi %[[V]] : i32 to i64
// CHECK: arith.sitofp
// CHECK: arith.truncf {{.*}} : f64 to f32
// CHECK: arith.subf
// CHECK: arith.divf
// CHECK: math.ceil
// CHECK: arith.fptosi
// CHECK: arith.maxsi
// LOWERED-LABEL: func.func @main_graph(
// LOWERED: tensor.empty(%{{.*}}) : tensor<?xf32>
// LOWERED: linalg.generic
// LOWERED: linalg.index 0
func.func @main_graph(%n: tensor<i32>) -> tensor<?xf32>
    attributes {kiln.dims = [], kiln.dim_max = array<i64>,
                kiln.result_dims = [array<i64: -9223372036854775808>]} {
  %f = onnx.Cast %n {to = 1 : i64} : (tensor<i32>) -> tensor<f32>
  %zero = onnx.Constant(dense<0.0> : tensor<f32>) : tensor<f32>
  %one = onnx.Constant(dense<1.0> : tensor<f32>) : tensor<f32>
  %m = onnx.Sub %f, %one : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %r = onnx.Range %zero, %m, %one : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

// A size made of a symbolic dim of an input: main_graph_dims takes the
// symbolic dims after the inputs and reads S from its argument.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %{{.*}}: index {kiln.dim = 0 : i64}, %{{.*}}: index {kiln.dim = 1 : i64}
// CHECK-SAME: kiln.dims = ["S", "derived0"]
// CHECK-LABEL: func.func @main_graph_dims
// CHECK-SAME: (%{{.*}}: tensor<?xf32>, %{{.*}}: tensor<1xi64>, %[[S:.*]]: index) -> (i1, index)
// CHECK: arith.index_cast %[[S]] : index to i64
// CHECK: arith.muli
// LOWERED-LABEL: func.func @main_graph(
// LOWERED: tensor.empty(%arg3) : tensor<?xf32>
// LOWERED: arith.remui
func.func @main_graph(%x: tensor<?xf32> {onnx.dim_params = ["S"]}, %r: tensor<1xi64>) -> tensor<?xf32>
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 0>,
                kiln.result_dims = [array<i64: -9223372036854775808>]} {
  %y = onnx.Tile %x, %r : (tensor<?xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

// Resize by scales that are an input: each dim is floor(dim * scale), the
// scale positive and the result not empty; shape inference leaves the dims
// unknown, and the lowering computes each element's taps at run time.
// CHECK-LABEL: func.func @main_graph_dims
// CHECK-SAME: (%{{.*}}: tensor<1x1x2x3xf32>, %[[S:.*]]: tensor<4xf32>) -> (i1, index, index, index, index)
// CHECK: tensor.extract %[[S]]
// CHECK: arith.cmpf ogt
// CHECK: arith.mulf
// CHECK: math.floor
// LOWERED-LABEL: func.func @main_graph(
// LOWERED: tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : tensor<?x?x?x?xf32>
// LOWERED: linalg.generic
// LOWERED: math.floor
func.func @main_graph(%x: tensor<1x1x2x3xf32>, %s: tensor<4xf32>) -> tensor<?x?x?x?xf32>
    attributes {kiln.dims = [], kiln.dim_max = array<i64>,
                kiln.result_dims = [array<i64: -9223372036854775808, -9223372036854775808, -9223372036854775808, -9223372036854775808>]} {
  %none = onnx.NoValue
  %y = onnx.Resize %x, %none, %s, %none {mode = "linear"} : (tensor<1x1x2x3xf32>, none, tensor<4xf32>, none) -> tensor<?x?x?x?xf32>
  return %y : tensor<?x?x?x?xf32>
}

// -----

// A Reshape to a shape that is an input: derived dims, with Reshape's rule
// (0 copies the input's dim, -1 takes what the others leave) and its
// product checked against the element count; before, a shape of the wrong
// product could only be clamped. A Reshape whose shape is made of dims
// (Shape of an input) is left to the lowering (no values read).
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: kiln.derived_dims = 2 : i64
// CHECK: onnx.Reshape %{{.*}}, %{{.*}} {kiln.dim_args = array<i64: 4, 5>}
// CHECK: onnx.Reshape %{{.*}}, %{{.*}} : (tensor<?x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK-LABEL: func.func @main_graph_dims
// CHECK-SAME: (%{{.*}}: tensor<2x6xf32>, %{{.*}}: tensor<2xi64>, %{{.*}}: tensor<?xf32>, %{{.*}}: index) -> (i1, index, index)
// CHECK: arith.divsi
// CHECK: arith.cmpi sle
// LOWERED-LABEL: func.func @main_graph(
// LOWERED: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [%arg4, %arg5]
func.func @main_graph(%x: tensor<2x6xf32>, %shape: tensor<2xi64>, %y: tensor<?x6xf32> {onnx.dim_params = ["S", ""]})
    -> (tensor<?x?xf32>, tensor<?x?xf32>)
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 0>,
                kiln.result_dims = [array<i64: -9223372036854775808, -9223372036854775808>,
                                    array<i64: -9223372036854775808, -9223372036854775808>]} {
  %r = onnx.Reshape %x, %shape : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s = onnx.Shape %y : (tensor<?x6xf32>) -> tensor<2xi64>
  %q = onnx.Reshape %y, %s : (tensor<?x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r, %q : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Shape values computed by an op main_graph_dims does not evaluate (a
// reduction of an input): no derived dim, the op is left to its lowering,
// which explains (the LOWERED run fails there).
// CHECK-LABEL: func.func @main_graph(
// CHECK-NOT: kiln.derived_dims
// CHECK-NOT: main_graph_dims
// CHECK: return
func.func @main_graph(%s: tensor<2x2xi64>) -> tensor<?x?xf32>
    attributes {kiln.dims = [], kiln.dim_max = array<i64>,
                kiln.result_dims = [array<i64: -9223372036854775808, -9223372036854775808>]} {
  %axes = onnx.Constant(dense<[0]> : tensor<1xi64>) : tensor<1xi64>
  %sum = onnx.ReduceSum %s, %axes {keepdims = 0 : i64} : (tensor<2x2xi64>, tensor<1xi64>) -> tensor<2xi64>
  %c = onnx.ConstantOfShape %sum : (tensor<2xi64>) -> tensor<?x?xf32>
  return %c : tensor<?x?xf32>
}

// -----

// STFT's frame step and length read at run time: frames = (128 - L) / step
// + 1 and bins = L / 2 + 1 are derived dims, with step > 0 and 0 < L <= 128
// required.
// CHECK-LABEL: func.func @main_graph(
// CHECK: onnx.STFT {{.*}} {kiln.dim_args = array<i64: -1, 3, 4, -1>}
// CHECK-LABEL: func.func @main_graph_dims
// CHECK: arith.cmpi sgt
// CHECK: arith.cmpi sle
// CHECK: arith.divsi
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}} : i1, index, index
// LOWERED-LABEL: func.func @main_graph(
// LOWERED: linalg.generic
// LOWERED: scf.for
func.func @main_graph(%s: tensor<1x128x1xf32>, %step: tensor<i64>, %len: tensor<i64>) -> tensor<1x?x?x2xf32>
    attributes {kiln.dims = [], kiln.dim_max = array<i64>,
                kiln.result_dims = [array<i64: 1, -9223372036854775808, -9223372036854775808, 2>]} {
  %none = onnx.NoValue
  %y = onnx.STFT %s, %step, %none, %len : (tensor<1x128x1xf32>, tensor<i64>, none, tensor<i64>) -> tensor<1x?x?x2xf32>
  return %y : tensor<1x?x?x2xf32>
}
