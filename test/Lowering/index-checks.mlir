// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s
// RUN: kiln-opt %s --convert-onnx-to-linalg --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --buffer-results-to-out-params="modify-public-functions" --kiln-sequence-outputs -split-input-file | FileCheck %s --check-prefix=STATUS
//
// Indices read at run time: one reduction over them records
// KILN_ERROR_OUT_OF_RANGE (10) in the run's status slot when one lies
// outside [-n, n) (the gather itself still clamps); kiln-sequence-outputs
// makes the function return the slot.

// CHECK-LABEL: func.func @gather
// CHECK: %[[SLOT:.*]] = memref.alloca() {kiln.status} : memref<i32>
// CHECK: memref.store %{{.*}}, %[[SLOT]][]
// CHECK: %[[ANY:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%{{.*}} : tensor<2xi64>)
// CHECK: arith.cmpi slt
// CHECK: arith.cmpi sge
// CHECK: %[[BAD:.*]] = tensor.extract %[[ANY]][]
// CHECK: %[[OLD:.*]] = memref.load %[[SLOT]][]
// CHECK: arith.select %{{.*}}, %c10_i32, %[[OLD]]
// CHECK: memref.store %{{.*}}, %[[SLOT]][]
// STATUS-LABEL: func.func @gather
// STATUS-SAME: -> i32
// STATUS: %[[SLOT:.*]] = memref.alloca() {kiln.status} : memref<i32>
// STATUS: arith.select %{{.*}}, %c10_i32
// STATUS: memref.store %{{.*}}, %[[SLOT]][]
// STATUS: %[[ST:.*]] = memref.load %[[SLOT]][]
// STATUS-NEXT: return %[[ST]] : i32
func.func @gather(%x: tensor<4x3xf32>, %i: tensor<2xi64>) -> tensor<2x3xf32> {
  %y = onnx.Gather %x, %i {axis = 0 : i64} : (tensor<4x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Constant indices are checked when compiling (the verifier): no run-time
// check, no status.
// CHECK-LABEL: func.func @constant_indices
// CHECK-NOT: kiln.status
// STATUS-LABEL: func.func @constant_indices
// STATUS-NOT: -> i32
func.func @constant_indices(%x: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %i = onnx.Constant(dense<[3, -4]> : tensor<2xi64>) : tensor<2xi64>
  %y = onnx.Gather %x, %i {axis = 0 : i64} : (tensor<4x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Index tuples: each entry against the dim it addresses.
// CHECK-LABEL: func.func @gather_nd
// STATUS-LABEL: func.func @gather_nd
// STATUS-SAME: -> i32
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]
// CHECK: linalg.index 1
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<i32>
func.func @gather_nd(%x: tensor<4x3xf32>, %i: tensor<2x2xi64>) -> tensor<2xf32> {
  %y = onnx.GatherND %x, %i : (tensor<4x3xf32>, tensor<2x2xi64>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
