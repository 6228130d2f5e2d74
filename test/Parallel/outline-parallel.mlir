// RUN: kiln-opt %s --kiln-outline-parallel='min-work=1000 min-chunks=64' -split-input-file | FileCheck %s

// A 1x64x56x56 elementwise nest: the leading dimensions (1 x 64 = 64
// iterations) become the task's range, the rest stays an scf.parallel inside
// it. The constant is cloned into the task; the buffers are passed.
// CHECK-LABEL: func.func @relu
// CHECK-SAME: (%[[X:.*]]: memref<1x64x56x56xf32>, %[[Y:.*]]: memref<1x64x56x56xf32>)
// CHECK: call @relu_par_dispatch(%{{.*}}, %[[X]], %[[Y]]) : (index, memref<1x64x56x56xf32>, memref<1x64x56x56xf32>) -> ()
// CHECK-NOT: scf.parallel
// CHECK: return
// CHECK: func.func private @relu_par(%[[B:.*]]: index, %[[E:.*]]: index, %[[TX:.*]]: memref<1x64x56x56xf32>, %[[TY:.*]]: memref<1x64x56x56xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: scf.for %[[L:.*]] = %[[B]] to %[[E]]
// CHECK: %[[C:.*]] = arith.remui %[[L]], %c64
// CHECK: scf.parallel (%[[H:.*]], %[[W:.*]]) =
// CHECK: memref.load %[[TX]]
// CHECK: arith.maximumf {{.*}}, %[[ZERO]]
// CHECK: memref.store {{.*}}, %[[TY]]
// CHECK: func.func private @relu_par_dispatch(index, memref<1x64x56x56xf32>, memref<1x64x56x56xf32>) attributes {kiln.parallel_task = @relu_par}
func.func @relu(%x: memref<1x64x56x56xf32>, %y: memref<1x64x56x56xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c56 = arith.constant 56 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%n, %c, %h, %w) = (%c0, %c0, %c0, %c0) to (%c1, %c64, %c56, %c56) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %x[%n, %c, %h, %w] : memref<1x64x56x56xf32>
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %y[%n, %c, %h, %w] : memref<1x64x56x56xf32>
    scf.reduce
  }
  return
}

// -----

// Too little work stays a serial loop nest.
// CHECK-LABEL: func.func @small
// CHECK: scf.parallel
// CHECK-NOT: call
// CHECK-NOT: func.func private
func.func @small(%x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    memref.store %zero, %x[%i] : memref<16xf32>
    scf.reduce
  }
  return
}

// -----

// A buffer with a dynamic offset cannot pass as a bare pointer: serial.
// CHECK-LABEL: func.func @dynamic_offset
// CHECK: scf.parallel
// CHECK-NOT: func.func private
func.func @dynamic_offset(%x: memref<4096xf32, strided<[1], offset: ?>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c4096) step (%c1) {
    memref.store %zero, %x[%i] : memref<4096xf32, strided<[1], offset: ?>>
    scf.reduce
  }
  return
}
