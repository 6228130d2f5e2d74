// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-plan-arena)' -split-input-file | FileCheck %s

// Three buffers in a chain: %a dies when %c is made, so %c reuses its bytes;
// %b is live across both and gets its own.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: %[[ARENA:arg[0-9]+]]: memref<128xi8> {kiln.arena}
// CHECK-SAME: kiln.arena_size = 128 : i64
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<128xi8> to memref<4xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[ARENA]][%[[C64]]][] : memref<128xi8> to memref<4xf32>
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0B]]][] : memref<128xi8> to memref<4xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @chain(%in: memref<4xf32>, %out: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %in, %a : memref<4xf32> to memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  %c = memref.alloc() : memref<4xf32>
  memref.copy %b, %c : memref<4xf32> to memref<4xf32>
  memref.copy %c, %out : memref<4xf32> to memref<4xf32>
  memref.copy %b, %out : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}

// -----

// A use through a view, inside a loop, keeps the buffer alive until the loop.
// CHECK-LABEL: func.func @view_in_loop
// CHECK-SAME: kiln.arena_size = 192 : i64
func.func @view_in_loop(%in: memref<2x8xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<2x8xf32>
  memref.copy %in, %a : memref<2x8xf32> to memref<2x8xf32>
  %flat = memref.collapse_shape %a [[0, 1]] : memref<2x8xf32> into memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %flat[%i] : memref<16xf32>
    memref.store %v, %b[%i] : memref<16xf32>
    memref.store %v, %c[%i] : memref<16xf32>
  }
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer allocated inside parallel loops (a kernel's task-private scratch)
// gets one 64-byte slot per iteration of the loops around it (2 x 3 here;
// the sequential loop inside reuses its iteration's slot): a view, at the
// slot of (i, j) = (i * 3 + j) * 64, of one 384-byte buffer placed in the
// arena and live for the loop nest only, so %after reuses its bytes.
// CHECK: #[[SLOT:.*]] = affine_map<(d0, d1) -> (d0 * 192 + d1 * 64)>
// CHECK-LABEL: func.func @task_buffer
// CHECK-SAME: %[[ARENA:arg[0-9]+]]: memref<384xi8> {kiln.arena}
// CHECK-SAME: kiln.arena_size = 384 : i64
// CHECK: %[[ALL:.*]] = memref.view %[[ARENA]][%{{.*}}][] : memref<384xi8> to memref<384xi8>
// CHECK: scf.forall (%[[I:.*]], %[[J:.*]]) in (2, 3)
// CHECK: %[[OFF:.*]] = affine.apply #[[SLOT]](%[[I]], %[[J]])
// CHECK: %[[BUF:.*]] = memref.view %[[ALL]][%[[OFF]]][] : memref<384xi8> to memref<4xf32>
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[BUF]]
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<384xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc
func.func @task_buffer(%in: memref<2x3xf32>, %out: memref<2x3xf32>, %out2: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.forall (%i, %j) in (2, 3) {
    %t = memref.alloc() : memref<4xf32>
    %v = memref.load %in[%i, %j] : memref<2x3xf32>
    scf.for %k = %c0 to %c4 step %c1 {
      memref.store %v, %t[%k] : memref<4xf32>
    }
    %w = memref.load %t[%c1] : memref<4xf32>
    memref.store %w, %out[%i, %j] : memref<2x3xf32>
  }
  %after = memref.alloc() : memref<16xf32>
  memref.copy %after, %out2 : memref<16xf32> to memref<16xf32>
  return
}

