// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// Elementwise ops become one linalg.generic over the broadcast result shape.

// A lower-rank operand aligns to the trailing dimensions.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<2x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<2x3xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[G]]
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %y = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Size-1 dimensions read index 0; integers use arith.addi.
// CHECK: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK: #[[ROW:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @add_broadcast_both
// CHECK-SAME: (%[[A:.*]]: tensor<2x1xi64>, %[[B:.*]]: tensor<1x3xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<2x1xi64>, tensor<1x3xi64>) outs(%{{.*}} : tensor<2x3xi64>)
// CHECK: arith.addi %{{.*}}, %{{.*}} : i64
func.func @add_broadcast_both(%a: tensor<2x1xi64>, %b: tensor<1x3xi64>) -> tensor<2x3xi64> {
  %y = onnx.Add %a, %b : (tensor<2x1xi64>, tensor<1x3xi64>) -> tensor<2x3xi64>
  return %y : tensor<2x3xi64>
}

// -----

// CHECK: #[[ID:.*]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @relu
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[E:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel"]} ins(%[[A]] : tensor<4xf32>) outs(%[[E]] : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[M:.*]] = arith.maximumf %[[X]], %[[ZERO]] fastmath<nsz> : f32
// CHECK-NEXT: linalg.yield %[[M]] : f32
// CHECK: return %[[G]]
func.func @relu(%a: tensor<4xf32>) -> tensor<4xf32> {
  %y = onnx.Relu %a : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Unsigned operands pick unsigned arith ops; the lowered IR is signless.
// CHECK-LABEL: func.func @unsigned
// CHECK-SAME: (%{{.*}}: tensor<4xi8>, %{{.*}}: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi1>, tensor<4xi8>, tensor<4xf32>)
// CHECK: arith.divui %{{.*}}, %{{.*}} : i8
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : i8
// CHECK: arith.maxui %{{.*}}, %{{.*}} : i8
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK-NOT: ui8
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xi1>, tensor<4xui8>, tensor<4xf32>) {
  %d = onnx.Div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %l = onnx.Less %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  %m = onnx.Max %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %f = onnx.Cast %a {to = 1 : i64} : (tensor<4xui8>) -> tensor<4xf32>
  return %d, %l, %m, %f : tensor<4xui8>, tensor<4xi1>, tensor<4xui8>, tensor<4xf32>
}

// -----

// float16 computes in f32 (widened by integer ops, exactly) and rounds back;
// f32 to bfloat16 rounds to nearest even in integer ops.
// CHECK-LABEL: func.func @half
// CHECK: linalg.generic
// CHECK: arith.bitcast %{{.*}} : f16 to i16
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: linalg.generic
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.bitcast %{{.*}} : i16 to bf16
func.func @half(%a: tensor<4xf16>, %b: tensor<4xf16>, %c: tensor<4xf32>) -> (tensor<4xf16>, tensor<4xbf16>) {
  %m = onnx.Max %a, %b : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  %t = onnx.Cast %c {to = 16 : i64} : (tensor<4xf32>) -> tensor<4xbf16>
  return %m, %t : tensor<4xf16>, tensor<4xbf16>
}
