// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-plan-arena)' -split-input-file -verify-diagnostics

// Scratch inside a parallel loop of dynamic bounds cannot be given a slot
// per iteration.
func.func @task_buffer_dynamic(%n: index, %out: memref<?xf32>) {
  scf.forall (%i) in (%n) {
    // expected-error @+1 {{cannot place this allocation in the arena}}
    %t = memref.alloc() : memref<4xf32>
    %c0 = arith.constant 0 : index
    %v = memref.load %t[%c0] : memref<4xf32>
    memref.store %v, %out[%i] : memref<?xf32>
  }
  return
}

// -----

// Scratch in a sequential loop (here scf.while, an ONNX Loop) moves out of
// it and is reused by every iteration; not when the loop carries it from
// one iteration to the next.
func.func @carried_by_while(%out: memref<4xf32>, %init: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %true = arith.constant true
  %r = scf.while (%m = %init) : (memref<4xf32>) -> memref<4xf32> {
    scf.condition(%true) %m : memref<4xf32>
  } do {
  ^bb0(%m: memref<4xf32>):
    // expected-error @+1 {{cannot place this allocation in the arena}}
    %t = memref.alloc() : memref<4xf32>
    %v = memref.load %m[%c0] : memref<4xf32>
    memref.store %v, %t[%c0] : memref<4xf32>
    scf.yield %t : memref<4xf32>
  }
  return
}

// -----

// A dynamic size that no bound covers (an index argument that is not a
// symbolic dim) is refused.
func.func @unbounded(%n: index, %out: memref<4xf32>) {
  // expected-error @+1 {{dim 0 has no upper bound from the symbolic dims' maxima}}
  %a = memref.alloc(%n) : memref<?x4xf32>
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0, %c0] : memref<?x4xf32>
  memref.store %v, %out[%c0] : memref<4xf32>
  return
}
