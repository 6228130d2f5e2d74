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
  // expected-error @+1 {{a value computed on the GPU ('memref.load') is needed by the host}}
  %v = memref.load %k[] : memref<i64>
  %i = arith.index_cast %v : i64 to index
  return %i : index
}
