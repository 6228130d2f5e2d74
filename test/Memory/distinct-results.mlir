// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-distinct-results))' | FileCheck %s

// The second return of %v becomes a copy into a fresh tensor.
// CHECK-LABEL: func.func @twice
// CHECK-SAME: (%[[V:.*]]: tensor<2x3xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[C:.*]] = linalg.copy ins(%[[V]] : tensor<2x3xf32>) outs(%[[E]] : tensor<2x3xf32>)
// CHECK: return %[[V]], %[[C]]
func.func @twice(%v: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  return %v, %v : tensor<2x3xf32>, tensor<2x3xf32>
}
