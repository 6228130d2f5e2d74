// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-write-outputs-in-place))' -split-input-file | FileCheck %s

// The result is computed in a buffer of its own, reshaped, then copied into
// the output argument: the buffer becomes the output, reshaped to its shape,
// and the copy goes.
// CHECK-LABEL: func.func @through_reshape
// CHECK-SAME: (%[[IN:.*]]: memref<4x6xf32>, %[[OUT:.*]]: memref<1x4x2x3xf32>)
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[OUT]] {{\[}}[0, 1, 2, 3]] : memref<1x4x2x3xf32> into memref<24xf32>
// CHECK: %[[BUF:.*]] = memref.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [4, 6] : memref<24xf32> into memref<4x6xf32>
// CHECK: linalg.copy ins(%[[IN]] : memref<4x6xf32>) outs(%[[BUF]] : memref<4x6xf32>)
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
func.func @through_reshape(%in: memref<4x6xf32>, %out: memref<1x4x2x3xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<4x6xf32>
  linalg.copy ins(%in : memref<4x6xf32>) outs(%a : memref<4x6xf32>)
  %e = memref.expand_shape %a [[0, 1], [2, 3]] output_shape [1, 4, 2, 3] : memref<4x6xf32> into memref<1x4x2x3xf32>
  memref.copy %e, %out : memref<1x4x2x3xf32> to memref<1x4x2x3xf32>
  return
}

// -----

// The buffer is read after the copy (another output is made from it): it
// stays, and so does the copy.
// CHECK-LABEL: func.func @read_after
// CHECK: memref.alloc
// CHECK: memref.copy
func.func @read_after(%in: memref<8xf32>, %out: memref<8xf32>, %out2: memref<8xf32>) {
  %a = memref.alloc() : memref<8xf32>
  linalg.copy ins(%in : memref<8xf32>) outs(%a : memref<8xf32>)
  memref.copy %a, %out : memref<8xf32> to memref<8xf32>
  linalg.copy ins(%a : memref<8xf32>) outs(%out2 : memref<8xf32>)
  return
}

// -----

// An input copied to an output (no allocation behind it) is left alone.
// CHECK-LABEL: func.func @input_to_output
// CHECK: memref.copy %arg0, %arg1
func.func @input_to_output(%in: memref<8xf32>, %out: memref<8xf32>) {
  memref.copy %in, %out : memref<8xf32> to memref<8xf32>
  return
}

// -----

// A scalar computed into a 0-D buffer, returned as a 1-element tensor: the
// output collapsed to 0-D.
// CHECK-LABEL: func.func @scalar
// CHECK-SAME: (%[[IN:.*]]: memref<f32>, %[[OUT:.*]]: memref<1xf32>)
// CHECK: %[[BUF:.*]] = memref.collapse_shape %[[OUT]] [] : memref<1xf32> into memref<f32>
// CHECK: memref.copy %[[IN]], %[[BUF]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
func.func @scalar(%in: memref<f32>, %out: memref<1xf32>) {
  %a = memref.alloc() : memref<f32>
  memref.copy %in, %a : memref<f32> to memref<f32>
  %e = memref.expand_shape %a [] output_shape [1] : memref<f32> into memref<1xf32>
  memref.copy %e, %out : memref<1xf32> to memref<1xf32>
  return
}
