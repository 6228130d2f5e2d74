// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-plan-arena))' -split-input-file | FileCheck %s

// A buffer of dynamic size gets the room of its size at the bounds of the
// symbolic dims (kiln.dim arguments, kiln.dim_max): here 64 x 8 floats, and
// a view of the arena with the run-time size.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK-SAME: kiln.arena_size = 4096
// CHECK: memref.view %{{.*}}[%{{.*}}][%{{.*}}] : memref<4096xi8> to memref<?x8xf32>
// CHECK: memref.view %{{.*}}[%{{.*}}][%{{.*}}] : memref<4096xi8> to memref<?x8xf32>
func.func @dynamic_rows(%n: index {kiln.dim = 0 : i64}, %out: memref<8xf32>)
    attributes {kiln.dim_max = array<i64: 64>} {
  %a = memref.alloc(%n) : memref<?x8xf32>
  %c0 = arith.constant 0 : index
  %d = memref.dim %a, %c0 : memref<?x8xf32>
  %b = memref.alloc(%d) : memref<?x8xf32>
  %v = memref.load %a[%c0, %c0] : memref<?x8xf32>
  memref.store %v, %b[%c0, %c0] : memref<?x8xf32>
  %w = memref.load %b[%c0, %c0] : memref<?x8xf32>
  memref.store %w, %out[%c0] : memref<8xf32>
  return
}

// -----

// A size clamped to a constant is bounded by it whatever it came from (a
// run-time slice end): min(x, 20) rows of 4 floats.
// CHECK-LABEL: func.func @clamped
// CHECK-SAME: kiln.arena_size = 320
func.func @clamped(%x: index, %out: memref<4xf32>) {
  %c20 = arith.constant 20 : index
  %m = arith.minsi %x, %c20 : index
  %a = memref.alloc(%m) : memref<?x4xf32>
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0, %c0] : memref<?x4xf32>
  memref.store %v, %out[%c0] : memref<4xf32>
  return
}

// -----

// Scratch inside a sequential loop (a block of a dynamic-row matmul) is one
// buffer before the loop, reused by every iteration.
// CHECK-LABEL: func.func @loop_scratch
// CHECK: memref.view
// CHECK: scf.for
// CHECK-NOT: memref.alloc
func.func @loop_scratch(%n: index {kiln.dim = 0 : i64}, %out: memref<4xf32>)
    attributes {kiln.dim_max = array<i64: 64>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.alloc() : memref<4xf32>
    %v = memref.load %t[%c0] : memref<4xf32>
    memref.store %v, %out[%c0] : memref<4xf32>
  }
  return
}

// -----

// Scratch inside a parallel loop of run-time length (the row blocks of a
// dynamic-shape matmul) gets a slot per iteration up to the bound: 64 / 16
// = 4 slots of 64 bytes.
// CHECK-LABEL: func.func @forall_scratch
// CHECK-SAME: kiln.arena_size = 256
// CHECK: memref.view %{{.*}} : memref<256xi8> to memref<256xi8>
// CHECK: scf.forall
// CHECK: memref.view
func.func @forall_scratch(%n: index {kiln.dim = 0 : i64}, %out: memref<4xf32>)
    attributes {kiln.dim_max = array<i64: 64>} {
  %c0 = arith.constant 0 : index
  scf.forall (%i) = (0) to (%n) step (16) {
    %t = memref.alloc() : memref<16xf32>
    %v = memref.load %t[%c0] : memref<16xf32>
    memref.store %v, %out[%c0] : memref<4xf32>
  }
  return
}
