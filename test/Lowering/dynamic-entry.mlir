// RUN: kiln-opt %s --kiln-dynamic-entry | FileCheck %s

// The symbolic dim S becomes an index argument; the dynamic input becomes a
// flat buffer of its size at S = 64, read at its front. The result is left
// to kiln-dynamic-results (dynamic-results.mlir).
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: (%[[X:.*]]: tensor<512xf32> {{.*}}, %[[S:.*]]: index {kiln.dim = 0 : i64}) -> tensor<1x?x8xf32>
// CHECK: %[[N:.*]] = arith.muli
// CHECK: %[[PART:.*]] = tensor.extract_slice %[[X]][0] [%[[N]]] [1] : tensor<512xf32> to tensor<?xf32>
// CHECK: %[[IN:.*]] = tensor.expand_shape %[[PART]] {{\[}}[0, 1, 2]] output_shape [1, %[[S]], 8]
// CHECK: %[[Y:.*]] = onnx.Relu %[[IN]]
// CHECK: return %[[Y]]
func.func @main_graph(%x: tensor<1x?x8xf32> {onnx.dim_params = ["", "S", ""]}) -> tensor<1x?x8xf32>
    attributes {kiln.dims = ["S"], kiln.dim_max = array<i64: 64>,
                kiln.result_dims = [array<i64: 1, -1, 8>]} {
  %y = onnx.Relu %x : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}
