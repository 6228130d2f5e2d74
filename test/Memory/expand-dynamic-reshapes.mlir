// RUN: kiln-opt %s --kiln-expand-dynamic-reshapes | FileCheck %s
// RUN: kiln-opt %s --kiln-expand-dynamic-reshapes --expand-strided-metadata | FileCheck %s --check-prefix=META

// A flat buffer read as [4, n, n]: a reinterpret_cast of its base with row
// major strides n * n, n, 1 (expand-strided-metadata alone crashes here).
// CHECK-LABEL: func.func @split_into_two_dynamic
// CHECK-NOT: memref.expand_shape
// CHECK: %[[BASE:.*]], %[[OFF:.*]], %{{.*}}, %[[S:.*]] = memref.extract_strided_metadata %arg0
// CHECK: memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [4, %arg1, %arg1]
// META-LABEL: func.func @split_into_two_dynamic
// META: memref.reinterpret_cast
func.func @split_into_two_dynamic(%a: memref<?xf32>, %n: index) -> memref<4x?x?xf32> {
  %e = memref.expand_shape %a [[0, 1, 2]] output_shape [4, %n, %n] : memref<?xf32> into memref<4x?x?xf32>
  return %e : memref<4x?x?xf32>
}

// One dynamic dim per group is left to expand-strided-metadata.
// CHECK-LABEL: func.func @one_dynamic
// CHECK: memref.expand_shape
func.func @one_dynamic(%a: memref<?xf32>, %n: index) -> memref<?x8xf32> {
  %e = memref.expand_shape %a [[0, 1]] output_shape [%n, 8] : memref<?xf32> into memref<?x8xf32>
  return %e : memref<?x8xf32>
}
