// RUN: kiln-opt %s --kiln-outline-parallel='min-work=1000 min-chunks=64' -split-input-file | FileCheck %s

// A 1x64x56x56 elementwise nest: the leading dimensions (1 x 64 = 64
// iterations) become the task's range, the rest stays an scf.parallel inside
// it. The constant is cloned into the task; the buffers are passed.
// CHECK-LABEL: func.func @relu
// CHECK-SAME: (%[[X:.*]]: memref<1x64x56x56xf32>, %[[Y:.*]]: memref<1x64x56x56xf32>)
// CHECK: call @relu_par_dispatch(%{{.*}}, %[[X]], %[[Y]]) : (index, memref<1x64x56x56xf32>, memref<1x64x56x56xf32>) -> ()
// CHECK-NOT: scf.parallel
// CHECK: return
// CHECK: func.func private @relu_par(%[[B:.*]]: index, %[[E:.*]]: index, %[[TX:.*]]: memref<1x64x56x56xf32> {llvm.noalias}, %[[TY:.*]]: memref<1x64x56x56xf32> {llvm.noalias})
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

// -----

// The task is named after the ONNX node of the loop's location.
// CHECK-LABEL: func.func @named
// CHECK: call @named_layer1_0_conv1_Conv_par_dispatch
// CHECK: func.func private @named_layer1_0_conv1_Conv_par(
func.func @named(%x: memref<4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c4096) step (%c1) {
    memref.store %zero, %x[%i] : memref<4096xf32>
    scf.reduce
  } loc("/layer1.0/conv1/Conv")
  return
}

// -----

// noalias: two views of one arena at disjoint offsets (one written) are
// noalias; a third view overlapping the written one is not, and neither is
// the written one then. A read-only global is.
// Captures in order of first use: %a, %c, %w, %b.
// CHECK-LABEL: func.func private @views_par(
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1024xf32> {llvm.noalias},
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1024xf32>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1024xf32> {llvm.noalias},
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1024xf32>)
memref.global "private" constant @w : memref<1024xf32> = dense<1.0>
func.func @views(%arena: memref<16384xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %c4096 = arith.constant 4096 : index
  %c6144 = arith.constant 6144 : index
  %a = memref.view %arena[%c0][] : memref<16384xi8> to memref<1024xf32>
  %b = memref.view %arena[%c4096][] : memref<16384xi8> to memref<1024xf32>
  %c = memref.view %arena[%c6144][] : memref<16384xi8> to memref<1024xf32>
  %w = memref.get_global @w : memref<1024xf32>
  scf.parallel (%i) = (%c0) to (%c1024) step (%c1) {
    %x = memref.load %a[%i] : memref<1024xf32>
    %y = memref.load %c[%i] : memref<1024xf32>
    %z = memref.load %w[%i] : memref<1024xf32>
    %s = arith.addf %x, %y : f32
    %t = arith.addf %s, %z : f32
    memref.store %t, %b[%i] : memref<1024xf32>
    scf.reduce
  }
  return
}

// -----

// Work counts lanes: 16 iterations of one 64-lane read and write are 2048
// scalar operations, over min-work, so the loop becomes a task (as the
// scalar loop over as many elements would); with 4-lane vectors (128) it
// stays inline.
// CHECK-LABEL: func.func @vector_work
// CHECK: call @vector_work_{{.*}}_dispatch
// CHECK-LABEL: func.func @narrow_vectors
// CHECK: scf.parallel
// CHECK-NOT: call
func.func @vector_work(%x: memref<16x64xf32>, %y: memref<16x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %pad = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %v = vector.transfer_read %x[%i, %c0], %pad {in_bounds = [true]} : memref<16x64xf32>, vector<64xf32>
    vector.transfer_write %v, %y[%i, %c0] {in_bounds = [true]} : vector<64xf32>, memref<16x64xf32>
    scf.reduce
  }
  return
}
func.func @narrow_vectors(%x: memref<16x4xf32>, %y: memref<16x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %pad = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %v = vector.transfer_read %x[%i, %c0], %pad {in_bounds = [true]} : memref<16x4xf32>, vector<4xf32>
    vector.transfer_write %v, %y[%i, %c0] {in_bounds = [true]} : vector<4xf32>, memref<16x4xf32>
    scf.reduce
  }
  return
}

// -----

// A loop of dynamic bounds in a function with symbolic dims (kiln.dim,
// kiln.dim_max): outlined when it is big enough at the bounds (64 x 256).
// The trip count is computed before the call; the dynamic buffers cross as
// base, offset, sizes and strides and are rebuilt inside; the two arena
// views lie in disjoint ranges at every size, so both bases are noalias.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: memref.extract_strided_metadata
// CHECK: call @dynamic_rows_par_dispatch(
// CHECK-NOT: scf.parallel
// CHECK: func.func private @dynamic_rows_par(%{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index,
// CHECK-SAME: memref<f32> {llvm.noalias}
// CHECK-SAME: memref<f32> {llvm.noalias}
// CHECK: memref.reinterpret_cast
// CHECK: memref.cast
// CHECK: scf.for
func.func @dynamic_rows(%n: index {kiln.dim = 0 : i64}, %arena: memref<131072xi8>)
    attributes {kiln.dim_max = array<i64: 64>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %c65536 = arith.constant 65536 : index
  %x = memref.view %arena[%c0][%n] : memref<131072xi8> to memref<?x256xf32>
  %y = memref.view %arena[%c65536][%n] : memref<131072xi8> to memref<?x256xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c256) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<?x256xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %y[%i, %j] : memref<?x256xf32>
  }
  return
}
