// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// QuantizeLinear: divide, round half to even, add the zero point, saturate
// to uint8; a per-channel scale reads along its axis.
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @quantize
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [3, 1] : tensor<3xf32> into tensor<3x1xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #[[CH]], #{{.*}}]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptoui %{{.*}} : f32 to i8
// CHECK: -> tensor<2x3x4xi8>
func.func @quantize(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>, %z: tensor<3xui8>) -> tensor<2x3x4xui8> {
  %y = onnx.QuantizeLinear %x, %s, %z {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xui8>) -> tensor<2x3x4xui8>
  return %y : tensor<2x3x4xui8>
}

// -----

// MatMulInteger: both operands widened to int32 less their zero points,
// then an int32 product.
// CHECK-LABEL: func.func @matmul_integer
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x3xi32>, tensor<3x2xi32>) outs(%{{.*}} : tensor<4x2xi32>)
func.func @matmul_integer(%a: tensor<4x3xui8>, %b: tensor<3x2xui8>, %za: tensor<ui8>) -> tensor<4x2xi32> {
  %n = onnx.NoValue
  %y = onnx.MatMulInteger %a, %b, %za, %n : (tensor<4x3xui8>, tensor<3x2xui8>, tensor<ui8>, none) -> tensor<4x2xi32>
  return %y : tensor<4x2xi32>
}
