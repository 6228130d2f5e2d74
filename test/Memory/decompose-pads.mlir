// RUN: kiln-opt %s --kiln-decompose-pads | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline="builtin.module(func.func(kiln-decompose-pads),eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},canonicalize,cse,canonicalize)" | FileCheck %s --check-prefix=BUF

// After bufferization the producer writes into the interior of the padded
// buffer, four fills cover the borders, and nothing is copied.
// BUF-LABEL: func.func @pad_after_producer
// BUF-NOT: memref.copy
// BUF: %[[P:.*]] = memref.alloc() {{.*}} : memref<2x4x6xf32>
// BUF-COUNT-4: linalg.fill
// BUF: %[[IN:.*]] = memref.subview %[[P]][0, 1, 1] [2, 2, 4] [1, 1, 1]
// BUF: linalg.generic {{.*}} outs(%[[IN]]
// BUF-NOT: memref.copy
// BUF: return %[[P]]

// The padded buffer is made before the producer of the padded value, its
// borders filled slab by slab (rows of the padded height, then the columns
// beside the interior), and the value inserted into the interior.
// CHECK-LABEL: func.func @pad_after_producer
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4x6xf32>
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[E]][0, 0, 0] [2, 1, 6] [1, 1, 1]
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[S0]] : tensor<2x1x6xf32>)
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[F0]] into %[[E]][0, 0, 0] [2, 1, 6] [1, 1, 1]
// CHECK: tensor.extract_slice %[[I0]][0, 3, 0] [2, 1, 6] [1, 1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 0] [2, 2, 1] [1, 1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 5] [2, 2, 1] [1, 1, 1]
// CHECK: %[[B:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 1, 5] [2, 2, 1] [1, 1, 1]
// CHECK: %[[X:.*]] = linalg.generic
// CHECK: %[[R:.*]] = tensor.insert_slice %[[X]] into %[[B]][0, 1, 1] [2, 2, 4] [1, 1, 1]
// CHECK-NOT: tensor.pad
// CHECK: return %[[R]]
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @pad_after_producer(%a: tensor<2x2x4xf32>) -> tensor<2x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2x4xf32>
  %x = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<2x2x4xf32>) outs(%e : tensor<2x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x2x4xf32>
  %p = tensor.pad %x low[0, 1, 1] high[0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index):
    tensor.yield %zero : f32
  } : tensor<2x2x4xf32> to tensor<2x4x6xf32>
  return %p : tensor<2x4x6xf32>
}
