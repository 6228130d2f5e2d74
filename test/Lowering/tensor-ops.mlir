// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// The ops of OnnxTensorOps.td: CastLike, EyeLike, Trilu, GatherElements,
// ScatterElements, OneHot, CumSum, Hardmax, DepthToSpace, SpaceToDepth and
// Pad, lowered to linalg/tensor/scf.

// CHECK-LABEL: func.func @castlike
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf64>, %{{.*}}: tensor<1xf32>)
// CHECK: %[[G:.*]] = linalg.generic
// CHECK-SAME: ins(%[[X]] : tensor<3x4xf64>)
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: return %[[G]]
func.func @castlike(%x: tensor<3x4xf64>, %like: tensor<1xf32>) -> tensor<3x4xf32> {
  %y = onnx.CastLike %x, %like : (tensor<3x4xf64>, tensor<1xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// Same element type: nothing to do.
// CHECK-LABEL: func.func @castlike_same
// CHECK-SAME: (%[[X:.*]]: tensor<3xi32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[X]]
func.func @castlike_same(%x: tensor<3xi32>, %like: tensor<i32>) -> tensor<3xi32> {
  %y = onnx.CastLike %x, %like : (tensor<3xi32>, tensor<i32>) -> tensor<3xi32>
  return %y : tensor<3xi32>
}

// -----

// CHECK-LABEL: func.func @eyelike
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[K:.*]] = arith.constant 1 : index
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<4x5xf32>)
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[IK:.*]] = arith.addi %[[I]], %[[K]]
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: %[[ON:.*]] = arith.cmpi eq, %[[J]], %[[IK]]
// CHECK: arith.select %[[ON]], %[[ONE]], %[[ZERO]]
func.func @eyelike(%x: tensor<4x5xi32>) -> tensor<4x5xf32> {
  %y = onnx.EyeLike %x {dtype = 1 : i64, k = 1 : i64} : (tensor<4x5xi32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// k is read at run time; lower keeps j - i <= k.
// CHECK-LABEL: func.func @tril
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x5xi64>, %[[KT:.*]]: tensor<i64>)
// CHECK: %[[K:.*]] = tensor.extract %[[KT]][]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]] : tensor<2x4x5xi64>)
// CHECK: ^bb0(%[[IN:.*]]: i64, %{{.*}}: i64):
// CHECK: linalg.index 1
// CHECK: linalg.index 2
// CHECK: %[[D:.*]] = arith.subi
// CHECK: %[[KEEP:.*]] = arith.cmpi sle, %[[D]], %[[K]]
// CHECK: arith.select %[[KEEP]], %[[IN]]
func.func @tril(%x: tensor<2x4x5xi64>, %k: tensor<i64>) -> tensor<2x4x5xi64> {
  %y = onnx.Trilu %x, %k {upper = 0 : i64} : (tensor<2x4x5xi64>, tensor<i64>) -> tensor<2x4x5xi64>
  return %y : tensor<2x4x5xi64>
}

// -----

// CHECK-LABEL: func.func @triu_default_k
// CHECK: %[[K:.*]] = arith.constant 0 : i64
// CHECK: linalg.generic
// CHECK: arith.cmpi sge, %{{.*}}, %[[K]]
func.func @triu_default_k(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %none = onnx.NoValue
  %y = onnx.Trilu %x, %none : (tensor<3x3xf32>, none) -> tensor<3x3xf32>
  return %y : tensor<3x3xf32>
}

// -----

// Indices are wrapped when negative and clamped into [0, 3).
// CHECK-LABEL: func.func @gather_elements
// CHECK-SAME: (%[[D:.*]]: tensor<3x3xf32>, %[[I:.*]]: tensor<2x3xi64>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[I]] : tensor<2x3xi64>)
// CHECK: ^bb0(%[[IDX:.*]]: i64, %{{.*}}: f32):
// CHECK: arith.cmpi slt, %[[IDX]]
// CHECK: arith.maxsi
// CHECK: %[[CL:.*]] = arith.minsi
// CHECK: %[[ROW:.*]] = arith.index_cast %[[CL]]
// CHECK: %[[COL:.*]] = linalg.index 1
// CHECK: %[[V:.*]] = tensor.extract %[[D]][%[[ROW]], %[[COL]]]
// CHECK: linalg.yield %[[V]]
func.func @gather_elements(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>) -> tensor<2x3xf32> {
  %y = onnx.GatherElements %d, %i {axis = 0 : i64} : (tensor<3x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A copy of data, then one insert per index in an scf.for nest.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK-SAME: (%[[D:.*]]: tensor<1x5xf32>, %[[I:.*]]: tensor<1x2xi64>, %[[U:.*]]: tensor<1x2xf32>)
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[D]])
// CHECK: %[[R:.*]] = scf.for %[[A:.*]] = {{.*}} iter_args(%[[T0:.*]] = %[[COPY]])
// CHECK: scf.for %[[B:.*]] = {{.*}} iter_args(%[[T1:.*]] = %[[T0]])
// CHECK: %[[IDX:.*]] = tensor.extract %[[I]][%[[A]], %[[B]]]
// CHECK: %[[UPD:.*]] = tensor.extract %[[U]][%[[A]], %[[B]]]
// CHECK: %[[AT:.*]] = arith.index_cast
// CHECK: %[[OLD:.*]] = tensor.extract %[[T1]][%[[A]], %[[AT]]]
// CHECK: %[[SUM:.*]] = arith.addf %[[OLD]], %[[UPD]]
// CHECK: %[[NEW:.*]] = tensor.insert %[[SUM]] into %[[T1]][%[[A]], %[[AT]]]
// CHECK: scf.yield %[[NEW]]
// CHECK: return %[[R]]
func.func @scatter_elements_add(%d: tensor<1x5xf32>, %i: tensor<1x2xi64>, %u: tensor<1x2xf32>) -> tensor<1x5xf32> {
  %y = onnx.ScatterElements %d, %i, %u {axis = 1 : i64, reduction = "add"} : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<1x5xf32>
  return %y : tensor<1x5xf32>
}

// -----

// CHECK-LABEL: func.func @scatter
// CHECK: bufferization.alloc_tensor() copy
// CHECK: scf.for
// CHECK-NOT: arith.addf
// CHECK: tensor.insert
func.func @scatter(%d: tensor<3x3xi32>, %i: tensor<2x3xi32>, %u: tensor<2x3xi32>) -> tensor<3x3xi32> {
  %y = onnx.Scatter %d, %i, %u : (tensor<3x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<3x3xi32>
  return %y : tensor<3x3xi32>
}

// -----

// CHECK-LABEL: func.func @onehot
// CHECK-SAME: (%[[I:.*]]: tensor<3xi64>, %[[V:.*]]: tensor<2xf32>)
// CHECK-DAG: %[[DEPTH:.*]] = arith.constant 10 : i64
// CHECK-DAG: %[[OFF:.*]] = tensor.extract %[[V]][%c0]
// CHECK-DAG: %[[ON:.*]] = tensor.extract %[[V]][%c1]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[I]] : tensor<3xi64>)
// CHECK-SAME: outs(%{{.*}} : tensor<3x10xf32>)
// CHECK: arith.addi %{{.*}}, %[[DEPTH]]
// CHECK: %[[AT:.*]] = linalg.index 1
// CHECK: %[[HOT:.*]] = arith.cmpi eq
// CHECK: arith.select %[[HOT]], %[[ON]], %[[OFF]]
func.func @onehot(%i: tensor<3xi64>, %v: tensor<2xf32>) -> tensor<3x10xf32> {
  %d = onnx.Constant(dense<10.0> : tensor<f32>) : tensor<f32>
  %y = onnx.OneHot %i, %d, %v : (tensor<3xi64>, tensor<f32>, tensor<2xf32>) -> tensor<3x10xf32>
  return %y : tensor<3x10xf32>
}

// -----

// Exclusive reverse scan along axis 1: the third loop dimension is the
// summed position k, counted where k > i.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @cumsum
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[INIT]] : tensor<2x3xf64>)
// CHECK: %[[I:.*]] = linalg.index 1
// CHECK: %[[K:.*]] = linalg.index 2
// CHECK: arith.cmpi ugt, %[[K]], %[[I]]
// CHECK: arith.addf
func.func @cumsum(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %a = onnx.Constant(dense<1> : tensor<i32>) : tensor<i32>
  %y = onnx.CumSum %x, %a {exclusive = 1 : i64, reverse = 1 : i64} : (tensor<2x3xf64>, tensor<i32>) -> tensor<2x3xf64>
  return %y : tensor<2x3xf64>
}

// -----

// An axis known only at run time: a scan per axis, then a pick.
// CHECK-LABEL: func.func @cumsum_runtime_axis
// CHECK-SAME: (%{{.*}}: tensor<2x3xf64>, %[[AXIS:.*]]: tensor<i32>)
// CHECK: %[[S0:.*]] = linalg.generic
// CHECK: %[[S1:.*]] = linalg.generic
// CHECK: %[[A:.*]] = tensor.extract %[[AXIS]][]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[S0]], %[[S1]] : tensor<2x3xf64>, tensor<2x3xf64>)
// CHECK: arith.select
func.func @cumsum_runtime_axis(%x: tensor<2x3xf64>, %a: tensor<i32>) -> tensor<2x3xf64> {
  %y = onnx.CumSum %x, %a : (tensor<2x3xf64>, tensor<i32>) -> tensor<2x3xf64>
  return %y : tensor<2x3xf64>
}

// -----

// ArgMax along the last axis, then 1 at that index.
// CHECK-LABEL: func.func @hardmax
// CHECK: %[[ARG:.*]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf ogt
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK-SAME: ins(%[[ARG]]#1 : tensor<3xi64>)
// CHECK: arith.cmpi eq
// CHECK: return %[[Y]]
func.func @hardmax(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %y = onnx.Hardmax %x : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// Before opset 13 the input is flattened to 2-D at the axis.
// CHECK-LABEL: func.func @hardmax_opset11
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<2x3x4xf32> into tensor<2x12xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<2x12xf32>)
module attributes {onnx.opset = 11 : i64} {
  func.func @hardmax_opset11(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
    %y = onnx.Hardmax %x : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    return %y : tensor<2x3x4xf32>
  }
}

// -----

// CHECK-LABEL: func.func @depth_to_space_crd
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3], [4], [5]] output_shape [1, 2, 2, 2, 2, 3]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[E]] : tensor<1x2x2x2x2x3xf32>) outs(%{{.*}} : tensor<1x2x2x2x3x2xf32>) permutation = [0, 1, 4, 2, 5, 3]
// CHECK: tensor.collapse_shape %[[T]] {{\[}}[0], [1], [2, 3], [4, 5]] : tensor<1x2x2x2x3x2xf32> into tensor<1x2x4x6xf32>
func.func @depth_to_space_crd(%x: tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32> {
  %y = onnx.DepthToSpace %x {blocksize = 2 : i64, mode = "CRD"} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %y : tensor<1x2x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @depth_to_space_dcr
// CHECK: linalg.transpose
// CHECK-SAME: permutation = [0, 3, 4, 1, 5, 2]
func.func @depth_to_space_dcr(%x: tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32> {
  %y = onnx.DepthToSpace %x {blocksize = 2 : i64} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %y : tensor<1x2x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @space_to_depth
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4, 5]] output_shape [1, 1, 2, 2, 3, 2]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[E]] : tensor<1x1x2x2x3x2xf32>) outs(%{{.*}} : tensor<1x2x2x1x2x3xf32>) permutation = [0, 3, 5, 1, 2, 4]
// CHECK: tensor.collapse_shape %[[T]] {{\[}}[0], [1, 2, 3], [4], [5]] : tensor<1x2x2x1x2x3xf32> into tensor<1x4x2x3xf32>
func.func @space_to_depth(%x: tensor<1x1x4x6xf32>) -> tensor<1x4x2x3xf32> {
  %y = onnx.SpaceToDepth %x {blocksize = 2 : i64} : (tensor<1x1x4x6xf32>) -> tensor<1x4x2x3xf32>
  return %y : tensor<1x4x2x3xf32>
}

// -----

// Negative pads crop first; the value input is read at run time.
// CHECK-LABEL: func.func @pad_constant
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[VT:.*]]: tensor<f32>)
// CHECK: %[[V:.*]] = tensor.extract %[[VT]][]
// CHECK: %[[S:.*]] = tensor.extract_slice %[[X]][0, 1] [2, 2] [1, 1]
// CHECK: tensor.pad %[[S]] low[1, 0] high[0, 3]
// CHECK: tensor.yield %[[V]]
func.func @pad_constant(%x: tensor<2x3xf32>, %v: tensor<f32>) -> tensor<3x5xf32> {
  %p = onnx.Constant(dense<[1, -1, 0, 3]> : tensor<4xi64>) : tensor<4xi64>
  %none = onnx.NoValue
  %y = onnx.Pad %x, %p, %v, %none : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>, none) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

// Opset 2 form: pads and value as attributes.
// CHECK-LABEL: func.func @pad_attributes
// CHECK: %[[V:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: tensor.pad %{{.*}} low[0, 0, 3, 1] high[0, 0, 4, 2]
// CHECK: tensor.yield %[[V]]
func.func @pad_attributes(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x11x7xf32> {
  %none = onnx.NoValue
  %y = onnx.Pad %x, %none, %none, %none {mode = "constant", pads = array<i64: 0, 0, 3, 1, 0, 0, 4, 2>, value = 2.0 : f32} : (tensor<2x3x4x4xf32>, none, none, none) -> tensor<2x3x11x7xf32>
  return %y : tensor<2x3x11x7xf32>
}

// -----

// Opset 18 axes: pads cover only the listed dimensions.
// CHECK-LABEL: func.func @pad_axes
// CHECK: tensor.pad %{{.*}} low[0, 1] high[0, 2]
func.func @pad_axes(%x: tensor<2x3xi32>) -> tensor<2x6xi32> {
  %p = onnx.Constant(dense<[1, 2]> : tensor<2xi64>) : tensor<2xi64>
  %a = onnx.Constant(dense<[-1]> : tensor<1xi64>) : tensor<1xi64>
  %none = onnx.NoValue
  %y = onnx.Pad %x, %p, %none, %a : (tensor<2x3xi32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<2x6xi32>
  return %y : tensor<2x6xi32>
}

// -----

// Reflect: the source column folds with period 2 * (3 - 1) = 4.
// CHECK-LABEL: func.func @pad_reflect
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xi32>)
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<2x7xi32>)
// CHECK: %[[ROW:.*]] = linalg.index 0
// CHECK: %[[COL:.*]] = linalg.index 1
// CHECK: arith.subi %[[COL]], %[[C2]]
// CHECK: arith.remsi %{{.*}}, %[[C4]]
// CHECK: %[[SRC:.*]] = arith.minsi
// CHECK: tensor.extract %[[X]][%[[ROW]], %[[SRC]]]
func.func @pad_reflect(%x: tensor<2x3xi32>) -> tensor<2x7xi32> {
  %none = onnx.NoValue
  %y = onnx.Pad %x, %none, %none, %none {mode = "reflect", pads = array<i64: 0, 2, 0, 2>} : (tensor<2x3xi32>, none, none, none) -> tensor<2x7xi32>
  return %y : tensor<2x7xi32>
}

// -----

// Edge: the source is clamped.
// CHECK-LABEL: func.func @pad_edge
// CHECK: linalg.generic
// CHECK: %[[J:.*]] = arith.subi
// CHECK: %[[LO:.*]] = arith.maxsi %[[J]]
// CHECK: %[[SRC:.*]] = arith.minsi %[[LO]]
// CHECK: tensor.extract %{{.*}}[%[[SRC]]]
func.func @pad_edge(%x: tensor<3xf32>) -> tensor<6xf32> {
  %p = onnx.Constant(dense<[1, 2]> : tensor<2xi64>) : tensor<2xi64>
  %none = onnx.NoValue
  %y = onnx.Pad %x, %p, %none, %none {mode = "edge"} : (tensor<3xf32>, tensor<2xi64>, none, none) -> tensor<6xf32>
  return %y : tensor<6xf32>
}

// -----

// An empty result is a tensor.empty.
// CHECK-LABEL: func.func @trilu_empty
// CHECK: %[[E:.*]] = tensor.empty() : tensor<0x5xi64>
// CHECK: return %[[E]]
func.func @trilu_empty(%x: tensor<0x5xi64>) -> tensor<0x5xi64> {
  %none = onnx.NoValue
  %y = onnx.Trilu %x, %none : (tensor<0x5xi64>, none) -> tensor<0x5xi64>
  return %y : tensor<0x5xi64>
}

// -----

// TopK: each element's rank along the axis (a reduction over the extra
// loop dim: larger, or equal at a lower index), then one reduction picking
// the element of rank j and its index.
// CHECK-DAG: #[[SELF:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[OTHER:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @topk
// CHECK: %[[RANKS:.*]] = linalg.generic {indexing_maps = [#[[SELF]], #[[OTHER]], #[[SELF]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi ult
// CHECK: linalg.generic {indexing_maps = [#[[OTHER]], #[[OTHER]], #[[SELF]], #[[SELF]]]
// CHECK-SAME: ins(%[[RANKS]], %{{.*}} : tensor<3x4xi64>, tensor<3x4xf32>)
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<3x2xf32>, tensor<3x2xi64>)
func.func @topk(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %k = onnx.Constant(dense<[2]> : tensor<1xi64>) : tensor<1xi64>
  %v, %i = onnx.TopK %x, %k {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %v, %i : tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

// Compress: the count of true entries (clamped to the axis' size, the
// bound its buffer is planned for) sizes the result; an entry's place is
// the exclusive running count before it.
// CHECK-LABEL: func.func @compress
// CHECK: %[[N:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: %[[C:.*]] = arith.index_cast %[[N]] : i64 to index
// CHECK: %[[COUNT:.*]] = arith.minsi %[[C]], %{{.*}} : index
// CHECK: tensor.empty(%[[COUNT]]) : tensor<?x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.select
func.func @compress(%x: tensor<3x2xf32>, %c: tensor<3xi1>) -> tensor<?x2xf32> {
  %y = onnx.Compress %x, %c {axis = 0 : i64} : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Einsum: one generic; a repeated letter reads the diagonal, the letter
// missing from the output is a reduction.
// CHECK-DAG: #[[DIAG:.*]] = affine_map<(d0, d1) -> (d0, d1, d1)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @einsum_diagonal
// CHECK: linalg.generic {indexing_maps = [#[[DIAG]], #[[OUT]]], iterator_types = ["parallel", "parallel"]}
func.func @einsum_diagonal(%x: tensor<3x5x5xf32>) -> tensor<3x5xf32> {
  %y = onnx.Einsum %x {equation = "...ii->...i"} : (tensor<3x5x5xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SUM:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @einsum_sum
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[SUM]]], iterator_types = ["parallel", "reduction"]}
func.func @einsum_sum(%x: tensor<3x4xf32>) -> tensor<3xf32> {
  %y = onnx.Einsum %x {equation = "ij->i"} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// GatherND reads its index tuple, then data at it.
// CHECK-LABEL: func.func @gather_nd
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<2x2xi64>
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<2x2xi64>
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<3x4x5xf32>
func.func @gather_nd(%d: tensor<3x4x5xf32>, %i: tensor<2x2xi64>) -> tensor<2x5xf32> {
  %y = onnx.GatherND %d, %i : (tensor<3x4x5xf32>, tensor<2x2xi64>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// TfIdfVectorizer: the pool's n-grams in constant tables per output slot
// (length, tokens, weight); a generic over Y counting matches in scf.for
// loops over gap size, start and token.
// CHECK-LABEL: func.func @tfidf
// CHECK-DAG: arith.constant dense<[0, 0, 0, 0, 2, 2, 2]> : tensor<7xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[0, 0], [0, 0], [0, 0], [0, 0], [5, 6], [7, 8], [6, 7]]> : tensor<7x2xi64>
// CHECK: linalg.generic
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.cmpi eq
// CHECK: -> tensor<2x7xf32>
func.func @tfidf(%x: tensor<2x6xi32>) -> tensor<2x7xf32> {
  %y = onnx.TfIdfVectorizer %x {max_gram_length = 2 : i64, min_gram_length = 2 : i64, max_skip_count = 5 : i64, mode = "TF", ngram_counts = array<i64: 0, 4>, ngram_indexes = array<i64: 0, 1, 2, 3, 4, 5, 6>, pool_int64s = array<i64: 2, 3, 5, 4, 5, 6, 7, 8, 6, 7>} : (tensor<2x6xi32>) -> tensor<2x7xf32>
  return %y : tensor<2x7xf32>
}
