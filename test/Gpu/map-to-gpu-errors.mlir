// RUN: kiln-opt %s --kiln-map-to-gpu -split-input-file -verify-diagnostics

// The run-time sequence functions live in the host runtime.
func.func private @kiln_seq_length(!llvm.ptr) -> i64

func.func @main_graph(%s: !llvm.ptr) -> i64 {
  // expected-error @+1 {{calls into the Kiln runtime (run-time sequences, optionals) are not available on the GPU}}
  %n = func.call @kiln_seq_length(%s) : (!llvm.ptr) -> i64
  return %n : i64
}

// -----

// Host memory: a buffer outside the arena.
func.func @main_graph(%n: index) {
  // expected-error @+1 {{a buffer outside the arena cannot be used on the GPU}}
  %b = memref.alloca(%n) : memref<?xf32>
  return
}

// -----

// A value read on the device that a host computation needs.
func.func @main_graph(%k: memref<i64>, %a: memref<8xf32>) -> index {
  %v = memref.load %k[] : memref<i64>
  // expected-error @+1 {{a value computed on the GPU ('arith.index_cast') is needed by the host}}
  %i = arith.index_cast %v : i64 to index
  return %i : index
}

// -----

// A scalar loop bounds need: the host would have to read it.
func.func @main_graph(%k: memref<index>, %a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  // expected-error @+1 {{a value computed on the GPU ('memref.load') is needed by the host}}
  %n = memref.load %k[] : memref<index>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %f, %a[%i] : memref<8xf32>
  }
  return
}

// -----

// A scalar the loop itself overwrites stays a load at the top, which the
// host cannot do.
func.func @main_graph(%x: memref<8xf32>, %a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  // expected-error @+1 {{a value computed on the GPU ('memref.load') is needed by the host}}
  %s = memref.load %a[%c0] : memref<8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %x[%i] : memref<8xf32>
    %w = arith.addf %v, %s : f32
    memref.store %w, %a[%i] : memref<8xf32>
  }
  return
}
