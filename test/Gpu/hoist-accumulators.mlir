// RUN: kiln-opt %s --kiln-hoist-accumulators -split-input-file | FileCheck %s

// A convolution's reduction nest over views of the arena at disjoint bytes:
// the output element is read once before the nest and written once after.
// CHECK-LABEL: func.func @conv_nest
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) =
// CHECK: %[[C0:.*]] = memref.load %[[OUT:.*]][%[[I]], %[[J]]]
// CHECK: %[[R:.*]] = scf.for %{{.*}} iter_args(%[[ACC:.*]] = %[[C0]]) -> (f32)
// CHECK: %[[R2:.*]] = scf.for %{{.*}} iter_args(%[[ACC2:.*]] = %[[ACC]]) -> (f32)
// CHECK-NOT: memref.store
// CHECK: %[[S:.*]] = arith.addf %[[ACC2]]
// CHECK: scf.yield %[[S]]
// CHECK: scf.yield %[[R2]]
// CHECK: memref.store %[[R]], %[[OUT]][%[[I]], %[[J]]]
func.func @conv_nest(%w: memref<8x3x3xf32>, %arena: memref<4096xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %c1024 = arith.constant 1024 : index
  %in = memref.view %arena[%c0][] : memref<4096xi8> to memref<10x10xf32>
  %out = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    scf.for %kh = %c0 to %c3 step %c1 {
      scf.for %kw = %c0 to %c3 step %c1 {
        %y = arith.addi %i, %kh : index
        %x = arith.addi %j, %kw : index
        %a = memref.load %in[%y, %x] : memref<10x10xf32>
        %b = memref.load %w[%c0, %kh, %kw] : memref<8x3x3xf32>
        %c = memref.load %out[%i, %j] : memref<8x8xf32>
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %c, %p : f32
        memref.store %s, %out[%i, %j] : memref<8x8xf32>
      }
    }
    scf.reduce
  }
  return
}

// -----

// The views overlap: the output might be read as an input. Left alone.
// CHECK-LABEL: func.func @overlap
// CHECK: scf.for
// CHECK: memref.load
// CHECK: memref.load
// CHECK: memref.store
// CHECK-NOT: iter_args
func.func @overlap(%arena: memref<4096xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c128 = arith.constant 128 : index
  %in = memref.view %arena[%c0][] : memref<4096xi8> to memref<64xf32>
  %out = memref.view %arena[%c128][] : memref<4096xi8> to memref<8xf32>
  scf.for %k = %c0 to %c8 step %c1 {
    %a = memref.load %in[%k] : memref<64xf32>
    %c = memref.load %out[%c0] : memref<8xf32>
    %s = arith.addf %c, %a : f32
    memref.store %s, %out[%c0] : memref<8xf32>
  }
  return
}

// -----

// The indices change with the loop (a prefix sum writes each element once):
// nothing to carry.
// CHECK-LABEL: func.func @varying
// CHECK-NOT: iter_args
func.func @varying(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %k = %c1 to %c8 step %c1 {
    %p = arith.subi %k, %c1 : index
    %a = memref.load %x[%k] : memref<8xf32>
    %b = memref.load %y[%p] : memref<8xf32>
    %s = arith.addf %a, %b : f32
    memref.store %s, %y[%k] : memref<8xf32>
  }
  return
}
