// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-plan-arena)' -split-input-file | FileCheck %s

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

// -----

// Dims with no bound (kiln.dim_max 0): a run-time plan. At the reference
// size the f32 buffer is the larger, so it is placed first, at 0, and the
// i1 buffer that lives at the same time goes above it: its offset is the
// f32 buffer's aligned byte size, n * m * m * 4 rounded up to 64, from the
// dims at the entry. The arena is memref<?xi8>, and @unbounded_arena gives
// its size: the end of the higher buffer.
// CHECK-LABEL: func.func @unbounded(
// CHECK-SAME: %[[N:[a-z0-9]+]]: index {kiln.dim = 0 : i64}, %[[M:[a-z0-9]+]]: index {kiln.dim = 1 : i64}
// CHECK-SAME: %[[ARENA:[a-z0-9]+]]: memref<?xi8> {kiln.arena}
// CHECK-SAME: kiln.arena_dynamic
// CHECK: %[[B4:.*]] = arith.muli %[[N]], %c4
// CHECK: %[[B4M:.*]] = arith.muli %[[B4]], %[[M]]
// CHECK: %[[BYTES:.*]] = arith.muli %[[B4M]], %[[M]]
// CHECK: %[[UNITS:.*]] = arith.ceildivui %[[BYTES]], %c64
// CHECK: %[[UP:.*]] = arith.muli %[[UNITS]], %c64
// CHECK: %[[SIZE:.*]] = arith.maxui %[[UP]], %c64
// CHECK: memref.view %[[ARENA]][%[[SIZE]]][%[[N]], %[[M]], %[[M]]] : memref<?xi8> to memref<?x1x?x?xi1>
// CHECK: memref.view %[[ARENA]][%c0][{{.*}}] : memref<?xi8> to memref<?x?x?xf32>
// CHECK-LABEL: func.func @unbounded_arena(
// CHECK-SAME: -> index attributes {kiln.shape_function}
// CHECK: %[[F32:.*]] = arith.maxui %{{.*}}, %c64
// CHECK: %[[I1:.*]] = arith.maxui %{{.*}}, %c64
// CHECK: %[[END:.*]] = arith.addi %[[F32]], %[[I1]]
// CHECK: %[[TOTAL:.*]] = arith.maxui %[[F32]], %[[END]]
// CHECK: return %[[TOTAL]]
func.func @unbounded(%n: index {kiln.dim = 0 : i64}, %m: index {kiln.dim = 1 : i64}, %out: memref<f32>)
    attributes {kiln.dim_max = array<i64: 0, 0>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %a = memref.alloc(%n, %m, %m) : memref<?x1x?x?xi1>
  %col = memref.collapse_shape %a [[0], [1, 2], [3]] : memref<?x1x?x?xi1> into memref<?x?x?xi1>
  %d0 = memref.dim %col, %c0 : memref<?x?x?xi1>
  %d1 = memref.dim %col, %c1 : memref<?x?x?xi1>
  %d2 = memref.dim %col, %c2 : memref<?x?x?xi1>
  %b = memref.alloc(%d0, %d1, %d2) : memref<?x?x?xf32>
  %v = memref.load %b[%c0, %c0, %c0] : memref<?x?x?xf32>
  %w = memref.load %col[%c0, %c0, %c0] : memref<?x?x?xi1>
  memref.store %v, %out[] : memref<f32>
  return
}

// -----

// Scratch inside a parallel loop whose length has no bound: one slot per
// iteration, max(ceil(n / 16), 1) of them, in a buffer of run-time size.
// CHECK-LABEL: func.func @unbounded_forall
// CHECK: %[[TRIPS:.*]] = affine.apply #{{.*}}()[%arg0]
// CHECK: %[[COUNT:.*]] = arith.maxsi %[[TRIPS]], %c1
// CHECK: memref.view %{{.*}} : memref<?xi8> to memref<?xi8>
// CHECK: scf.forall
// CHECK: memref.view %{{.*}} : memref<?xi8> to memref<16xf32>
// CHECK-LABEL: func.func @unbounded_forall_arena
func.func @unbounded_forall(%n: index {kiln.dim = 0 : i64}, %out: memref<4xf32>)
    attributes {kiln.dim_max = array<i64: 0>} {
  %c0 = arith.constant 0 : index
  scf.forall (%i) = (0) to (%n) step (16) {
    %t = memref.alloc() : memref<16xf32>
    %v = memref.load %t[%c0] : memref<16xf32>
    memref.store %v, %out[%c0] : memref<4xf32>
  }
  return
}
