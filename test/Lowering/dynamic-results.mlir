// RUN: kiln-opt %s --split-input-file --kiln-dynamic-results --verify-diagnostics | FileCheck %s

// A result dim that is a symbolic dim (-1 - k in kiln.result_dims) is its
// index argument; the result is written at the front of a flat tensor of
// its size at S = 64.
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: -> tensor<512xf32>
// CHECK-SAME: kiln.result_elems = array<i64: 512>
// CHECK: %[[N:.*]] = arith.muli %arg1, %c8
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1, 2]]
// CHECK: %[[OUT:.*]] = tensor.insert_slice %[[FLAT]] into %{{.*}}[0] [%[[N]]] [1] : tensor<?xf32> into tensor<512xf32>
// CHECK: return %[[OUT]]
// CHECK-NOT: main_graph_shapes
func.func @main_graph(%x: tensor<1x?x8xf32>, %s: index {kiln.dim = 0 : i64}) -> tensor<1x?x8xf32>
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 64>,
                kiln.result_dims = [array<i64: 1, -1, 8>]} {
  return %x : tensor<1x?x8xf32>
}

// -----

// A computed dim (INT64_MIN): a pooling-like output size (S - 3) / 2 + 1,
// resolved through linalg.generic and tensor.empty to index arithmetic on
// %s, bounded at S = 64 (at most 32 rows of 4: the bound rounds the
// quotient up), and cloned into main_graph_shapes.
// The other dim resolves to the constant 4 and is recorded as such.
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: -> tensor<128xf32>
// CHECK-SAME: kiln.result_dims = [array<i64: -9223372036854775808, 4>]
// CHECK-SAME: kiln.result_elems = array<i64: 128>
// CHECK: tensor.insert_slice {{.*}} : tensor<?xf32> into tensor<128xf32>
// CHECK-LABEL: func.func @main_graph_shapes
// CHECK-SAME: (%[[S:.*]]: index {kiln.dim = 0 : i64}) -> index
// CHECK-SAME: kiln.shape_function
// CHECK: %[[A:.*]] = arith.subi %[[S]], %c3
// CHECK: %[[B:.*]] = arith.divsi %[[A]], %c2
// CHECK: %[[C:.*]] = arith.addi %[[B]], %c1
// CHECK: return %[[C]]
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @main_graph(%x: tensor<?x4xf32>, %s: index {kiln.dim = 0 : i64}) -> tensor<?x4xf32>
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 64>,
                kiln.result_dims = [array<i64: -9223372036854775808, -9223372036854775808>]} {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %a = arith.subi %s, %c3 : index
  %b = arith.divsi %a, %c2 : index
  %rows = arith.addi %b, %c1 : index
  %e = tensor.empty(%rows) : tensor<?x4xf32>
  %y = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x4xf32>) {
  ^bb0(%o: f32):
    %z = arith.constant 0.0 : f32
    linalg.yield %z : f32
  } -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A dim read from the input's values, clamped to a bound: main_graph returns
// it in one more result (i64), kiln.result_dims marks it INT64_MIN + 1 and
// kiln.value_dims_max gives its bound.
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: -> (tensor<8xf32> {onnx.name = "y"}, tensor<1xi64>)
// CHECK-SAME: kiln.result_dims = [array<i64: -9223372036854775807>]
// CHECK-SAME: kiln.value_dims_max = array<i64: 8>
// CHECK: %[[N:.*]] = arith.minsi
// CHECK: %[[V:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[DIMS:.*]] = tensor.from_elements %[[V]] : tensor<1xi64>
// CHECK: return %{{.*}}, %[[DIMS]]
// CHECK-NOT: main_graph_shapes
func.func @main_graph(%x: tensor<?xi64>, %s: index {kiln.dim = 0 : i64}) -> (tensor<?xf32> {onnx.name = "y"})
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 64>,
                kiln.result_dims = [array<i64: -9223372036854775808>]} {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %v = tensor.extract %x[%c0] : tensor<?xi64>
  %i = arith.index_cast %v : i64 to index
  %n = arith.minsi %i, %c8 : index
  %e = tensor.empty(%n) : tensor<?xf32>
  return %e : tensor<?xf32>
}

// -----

// Without a bound it is refused.
// expected-error @+1 {{an output dim depends on the values of the inputs and Kiln finds no bound for it}}
func.func @main_graph(%x: tensor<?xi64>, %s: index {kiln.dim = 0 : i64}) -> (tensor<?xf32> {onnx.name = "y"})
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 64>,
                kiln.result_dims = [array<i64: -9223372036854775808>]} {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %x[%c0] : tensor<?xi64>
  %n = arith.index_cast %v : i64 to index
  %e = tensor.empty(%n) : tensor<?xf32>
  return %e : tensor<?xf32>
}

// -----

// A dim read from the input's values, clamped to a symbolic dim that has no
// bound (kiln.dim_max 0): its bound is that dim, a formula that
// main_graph_shapes returns in its place (kiln.value_dims_max -2), and the
// result is flat of exactly its size.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: -> (tensor<?xf32> {onnx.name = "y"}, tensor<1xi64>)
// CHECK-SAME: kiln.result_dims = [array<i64: -9223372036854775807>]
// CHECK-SAME: kiln.result_elems = array<i64: -1>
// CHECK-SAME: kiln.value_dims_max = array<i64: -2>
// CHECK: func.func @main_graph_shapes(%[[S:.*]]: index {kiln.dim = 0 : i64}) -> index
// CHECK: return %[[S]]
func.func @main_graph(%x: tensor<?xi64>, %s: index {kiln.dim = 0 : i64}) -> (tensor<?xf32> {onnx.name = "y"})
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 0>,
                kiln.result_dims = [array<i64: -9223372036854775808>]} {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %x[%c0] : tensor<?xi64>
  %i = arith.index_cast %v : i64 to index
  %n = arith.minsi %i, %s : index
  %e = tensor.empty(%n) : tensor<?xf32>
  return %e : tensor<?xf32>
}
