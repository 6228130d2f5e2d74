// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// MatMul and Gemm become linalg.generic contractions with loops
// (batch..., m, k, n).

// Gemm with transB: B is read as (n, k); beta * C broadcast initializes the
// accumulator and alpha scales each product.
// CHECK: #[[CROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @gemm_transb
// CHECK-SAME: (%[[LHS:.*]]: tensor<2x3xf32>, %[[RHS:.*]]: tensor<4x3xf32>, %[[C:.*]]: tensor<4xf32>)
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[BETA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[CROW]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[C]] : tensor<4xf32>) outs(%[[E]] : tensor<2x4xf32>)
// CHECK: arith.mulf %{{.*}}, %[[BETA]] : f32
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[A]], #[[BT]], #[[OUT]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[LHS]], %[[RHS]] : tensor<2x3xf32>, tensor<4x3xf32>) outs(%[[INIT]] : tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK-NEXT: %[[PA:.*]] = arith.mulf %[[P]], %[[ALPHA]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ACC]], %[[PA]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @gemm_transb(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
  %y = onnx.Gemm %a, %b, %c {transB = 1 : i64, alpha = 2.0 : f32, beta = 0.5 : f32} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Without C the accumulator starts at zero. With alpha = 1, transA is a
// linalg.transpose (a constant would be transposed at compile time) feeding
// a linalg.matmul, which kiln-tile-contractions vectorizes.
// CHECK-LABEL: func.func @gemm_transa_no_c
// CHECK-SAME: (%[[LHS:.*]]: tensor<3x2xf32>, %[[RHS:.*]]: tensor<3x4xf32>)
// CHECK-NOT: onnx.
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[AT:.*]] = linalg.transpose ins(%[[LHS]] : tensor<3x2xf32>) outs(%{{.*}} : tensor<2x3xf32>) permutation = [1, 0]
// CHECK: %[[R:.*]] = linalg.matmul ins(%[[AT]], %[[RHS]] : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[INIT]] : tensor<2x4xf32>)
// CHECK: return %[[R]]
func.func @gemm_transa_no_c(%a: tensor<3x2xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %none = onnx.NoValue
  %y = onnx.Gemm %a, %b, %none {transA = 1 : i64} : (tensor<3x2xf32>, tensor<3x4xf32>, none) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// transB of a constant B: the transposed weights are a new constant, made at
// compile time.
// CHECK-LABEL: func.func @gemm_transb_constant
// CHECK: %[[BT:.*]] = arith.constant dense_resource<transposed_weights> : tensor<4xf32>
// CHECK-NOT: linalg.transpose
// CHECK: %[[B2:.*]] = tensor.expand_shape %[[BT]] {{.*}} into tensor<2x2xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %[[B2]] : tensor<1x2xf32>, tensor<2x2xf32>)
// 1, 3, 2, 4 as little-endian floats:
// CHECK: transposed_weights: "0x080000000000803F000040400000004000008040"
func.func @gemm_transb_constant(%a: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %none = onnx.NoValue
  %b = onnx.Constant(dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>) : tensor<2x2xf32>
  %y = onnx.Gemm %a, %b, %none {transB = 1 : i64} : (tensor<1x2xf32>, tensor<2x2xf32>, none) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Batched MatMul with a 2-D B: one [5 * 2, 3] x [3, 4] linalg.matmul.
// CHECK-LABEL: func.func @matmul_batched
// CHECK-SAME: (%[[LHS:.*]]: tensor<5x2x3xf32>, %[[RHS:.*]]: tensor<3x4xf32>)
// CHECK: tensor.collapse_shape %[[LHS]]
// CHECK: linalg.matmul ins(%{{.*}}, %[[RHS]] : tensor<10x3xf32>, tensor<3x4xf32>) outs(%{{.*}} : tensor<10x4xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[R:.*]] = tensor.expand_shape {{.*}} into tensor<5x2x4xf32>
// CHECK: return %[[R]]
func.func @matmul_batched(%a: tensor<5x2x3xf32>, %b: tensor<3x4xf32>) -> tensor<5x2x4xf32> {
  %y = onnx.MatMul %a, %b : (tensor<5x2x3xf32>, tensor<3x4xf32>) -> tensor<5x2x4xf32>
  return %y : tensor<5x2x4xf32>
}

// -----

// Batch dimensions of size 1 broadcast (read at index 0); f64 stays one
// generic contraction.
// CHECK: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d1, d2)>
// CHECK: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @matmul_broadcast_batch
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
func.func @matmul_broadcast_batch(%a: tensor<1x2x3xf64>, %b: tensor<5x3x4xf64>) -> tensor<5x2x4xf64> {
  %y = onnx.MatMul %a, %b : (tensor<1x2x3xf64>, tensor<5x3x4xf64>) -> tensor<5x2x4xf64>
  return %y : tensor<5x2x4xf64>
}

// -----

// In f32, a few batch indices become one linalg.matmul each on rank-reduced
// slices (the broadcast operand's one slice reused), inserted into the
// result: each is a kernel for kiln-tile-contractions.
// CHECK-LABEL: func.func @matmul_batch_f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<3x2x4xf32>
// CHECK: %[[A0:.*]] = tensor.extract_slice %arg0[0, 0, 0] [1, 2, 3] [1, 1, 1] : tensor<1x2x3xf32> to tensor<2x3xf32>
// CHECK: %[[B0:.*]] = tensor.extract_slice %arg1[0, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<3x3x4xf32> to tensor<3x4xf32>
// CHECK: %[[P0:.*]] = linalg.matmul ins(%[[A0]], %[[B0]] : tensor<2x3xf32>, tensor<3x4xf32>)
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[P0]] into %[[E]][0, 0, 0] [1, 2, 4] [1, 1, 1]
// CHECK: tensor.extract_slice %arg0[0, 0, 0] [1, 2, 3]
// CHECK: tensor.extract_slice %arg1[1, 0, 0] [1, 3, 4]
// CHECK: linalg.matmul
// CHECK: tensor.insert_slice {{.*}} into %[[R0]][1, 0, 0]
// CHECK: linalg.matmul
// CHECK: tensor.insert_slice {{.*}}[2, 0, 0] [1, 2, 4]
func.func @matmul_batch_f32(%a: tensor<1x2x3xf32>, %b: tensor<3x3x4xf32>) -> tensor<3x2x4xf32> {
  %y = onnx.MatMul %a, %b : (tensor<1x2x3xf32>, tensor<3x3x4xf32>) -> tensor<3x2x4xf32>
  return %y : tensor<3x2x4xf32>
}
