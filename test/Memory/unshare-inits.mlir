// RUN: kiln-opt %s --kiln-unshare-inits | FileCheck %s

// CSE left one zero tensor as the init of two matmuls; each gets its own
// fill (and tensor.empty), right before it, so neither is copied.
// CHECK-LABEL: func.func @two_matmuls
// CHECK-NOT: linalg.fill
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT: %[[Z1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<4x8xf32>)
// CHECK-NEXT: %[[M1:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x8xf32>) outs(%[[Z1]] : tensor<4x8xf32>)
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT: %[[Z2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E2]] : tensor<4x8xf32>)
// CHECK-NEXT: %[[M2:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x8xf32>) outs(%[[Z2]] : tensor<4x8xf32>)
// CHECK-NEXT: return %[[M1]], %[[M2]]
func.func @two_matmuls(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>,
                       %c: tensor<4x16xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m1 = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m2 = linalg.matmul ins(%c, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %m1, %m2 : tensor<4x8xf32>, tensor<4x8xf32>
}

// A fill used once is left where it is.
// CHECK-LABEL: func.func @one_use
// CHECK: tensor.empty
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: arith.addf
func.func @one_use(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %x = arith.addf %zero, %zero : f32
  %m = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// A use inside a loop gets its clone before the loop, not in its body (where
// it would be a new buffer at every iteration).
// CHECK-LABEL: func.func @in_loop
// CHECK: linalg.fill
// CHECK: linalg.fill
// CHECK-NEXT: scf.for
// CHECK-NOT: linalg.fill
// CHECK: linalg.matmul
func.func @in_loop(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %e = tensor.empty() : tensor<4x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %m) -> tensor<4x8xf32> {
    %p = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
    scf.yield %p : tensor<4x8xf32>
  }
  return %m, %r : tensor<4x8xf32>, tensor<4x8xf32>
}

// The shared empty init of two tiled matmuls' scf.forall loops is unshared
// too, but the empty tensor a padded buffer is built in stays one tensor.
// CHECK-LABEL: func.func @forall_inits_and_slices
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT: scf.forall {{.*}} shared_outs(%{{.*}} = %[[E1]])
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT: scf.forall {{.*}} shared_outs(%{{.*}} = %[[E2]])
// CHECK: %[[P:.*]] = tensor.empty() : tensor<6x8xf32>
// CHECK-NEXT: %[[S:.*]] = tensor.extract_slice %[[P]][0, 0] [1, 8] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[P]][0, 0] [1, 8] [1, 1]
func.func @forall_inits_and_slices(%a: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<6x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %r1 = scf.forall (%i) in (4) shared_outs(%o = %e) -> tensor<4x8xf32> {
    %row = tensor.extract_slice %a[%i, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<1x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %row into %o[%i, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<4x8xf32>
    }
  }
  %r2 = scf.forall (%i) in (4) shared_outs(%o = %e) -> tensor<4x8xf32> {
    %row = tensor.extract_slice %a[%i, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<1x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %row into %o[%i, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<4x8xf32>
    }
  }
  %p = tensor.empty() : tensor<6x8xf32>
  %s = tensor.extract_slice %p[0, 0] [1, 8] [1, 1] : tensor<6x8xf32> to tensor<1x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%s : tensor<1x8xf32>) -> tensor<1x8xf32>
  %b = tensor.insert_slice %f into %p[0, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<6x8xf32>
  return %r1, %r2, %b : tensor<4x8xf32>, tensor<4x8xf32>, tensor<6x8xf32>
}
