// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-approximate-math))' | FileCheck %s

// f32 exp (scalar or vector) becomes arith ops: no call, vectorizable.
// CHECK-LABEL: func.func @exp_f32
// CHECK-NOT: math.exp
// CHECK: arith.mulf
// CHECK: arith.bitcast
// CHECK-NOT: math.exp
// CHECK: return
func.func @exp_f32(%x: f32, %v: vector<8xf32>) -> (f32, vector<8xf32>) {
  %y = math.exp %x : f32
  %w = math.exp %v : vector<8xf32>
  return %y, %w : f32, vector<8xf32>
}

// tanh and log too.
// CHECK-LABEL: func.func @tanh_log
// CHECK-NOT: math.tanh
// CHECK-NOT: math.log
// CHECK: return
func.func @tanh_log(%x: f32) -> (f32, f32) {
  %t = math.tanh %x : f32
  %l = math.log %x : f32
  return %t, %l : f32, f32
}

// f64 stays a math op (libm keeps its precision).
// CHECK-LABEL: func.func @exp_f64
// CHECK: math.exp %{{.*}} : f64
func.func @exp_f64(%x: f64) -> f64 {
  %y = math.exp %x : f64
  return %y : f64
}
