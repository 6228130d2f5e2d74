// RUN: kiln-opt %s --kiln-dynamic-checks -split-input-file | FileCheck %s

// What the ops take to be equal becomes main_graph_check(dims) -> i1, which
// the entry points call before anything runs: here the two inputs' dims
// (S and T) meeting in one elementwise loop, and T cast to a static 8.
// CHECK-LABEL: func.func @main_graph(
// CHECK: func.func @main_graph_check(%[[S:.*]]: index {kiln.dim = 0 : i64}, %[[T:.*]]: index {kiln.dim = 1 : i64}) -> i1
// CHECK-SAME: kiln.shape_function
// CHECK-DAG: %[[ST:.*]] = arith.cmpi eq, %[[S]], %[[T]]
// CHECK-DAG: %[[T8:.*]] = arith.cmpi eq, %[[T]], %c8
// CHECK: %[[OK:.*]] = arith.andi
// CHECK: return %[[OK]]
#id1 = affine_map<(d0) -> (d0)>
func.func @main_graph(%x: tensor<?xf32>, %y: tensor<?xf32>, %s: index {kiln.dim = 0 : i64},
                      %t: index {kiln.dim = 1 : i64}) -> (tensor<?xf32>, tensor<8xf32>)
    attributes {kiln.dims = ["S", "T"], kiln.dim_max = array<i64: 0, 0>,
                kiln.result_dims = [array<i64: -1>, array<i64: 8>]} {
  %xs = tensor.extract_slice %x[0] [%s] [1] : tensor<?xf32> to tensor<?xf32>
  %ys = tensor.extract_slice %y[0] [%t] [1] : tensor<?xf32> to tensor<?xf32>
  %e = tensor.empty(%s) : tensor<?xf32>
  %z = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%xs, %ys : tensor<?xf32>, tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<?xf32>
  %c = tensor.cast %ys : tensor<?xf32> to tensor<8xf32>
  return %z, %c : tensor<?xf32>, tensor<8xf32>
}

// -----

// A slice is as large as the tensor it fills and lies within its whole (a
// Concat of [S, 2] and [T, 3] along dim 1 takes T = S).
// CHECK-LABEL: func.func @main_graph(
// CHECK: func.func @main_graph_check(%[[S:.*]]: index {kiln.dim = 0 : i64}, %[[T:.*]]: index {kiln.dim = 1 : i64}) -> i1
// CHECK: arith.cmpi eq, %[[T]], %[[S]]
func.func @main_graph(%x: tensor<?x2xf32>, %y: tensor<?x3xf32>, %s: index {kiln.dim = 0 : i64},
                      %t: index {kiln.dim = 1 : i64}) -> tensor<?x5xf32>
    attributes {kiln.dims = ["S", "T"], kiln.dim_max = array<i64: 0, 0>,
                kiln.result_dims = [array<i64: -1, 5>]} {
  %c0 = arith.constant 0 : index
  %xs = tensor.extract_slice %x[0, 0] [%s, 2] [1, 1] : tensor<?x2xf32> to tensor<?x2xf32>
  %ys = tensor.extract_slice %y[0, 0] [%t, 3] [1, 1] : tensor<?x3xf32> to tensor<?x3xf32>
  %e = tensor.empty(%s) : tensor<?x5xf32>
  %a = tensor.insert_slice %xs into %e[0, 0] [%s, 2] [1, 1] : tensor<?x2xf32> into tensor<?x5xf32>
  %b = tensor.insert_slice %ys into %a[0, 2] [%s, 3] [1, 1] : tensor<?x3xf32> into tensor<?x5xf32>
  return %b : tensor<?x5xf32>
}
