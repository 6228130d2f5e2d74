// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s --check-prefix=SHAPE
// RUN: kiln-opt %s --onnx-infer-shapes --convert-onnx-to-linalg -split-input-file | FileCheck %s

// A window of constant size is static; its twiddles are reduced to a
// quarter turn (an integer divide by N) and computed with f32 cos/sin.
// SHAPE-LABEL: func.func @hann
// SHAPE: onnx.HannWindow {{.*}} -> tensor<10xf32>
// CHECK-LABEL: func.func @hann
// CHECK: linalg.generic
// CHECK: linalg.index 0
// CHECK: arith.remsi
// CHECK: arith.divsi
// CHECK: math.cos
// CHECK: math.sin
// CHECK: -> tensor<10xf32>
func.func @hann() -> tensor<*xf32> {
  %n = onnx.Constant(dense<10> : tensor<i32>) : tensor<i32>
  %w = onnx.HannWindow %n {periodic = 0 : i64} : (tensor<i32>) -> tensor<*xf32>
  return %w : tensor<*xf32>
}

// -----

// DFT of a real input along axis 1: one generic with m (the reduction) as
// its last loop dim, x read through a map fixing its last dim to 0.
// SHAPE-LABEL: func.func @dft_onesided
// SHAPE: onnx.DFT {{.*}} -> tensor<2x5x3x2xf32>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, 0)>
// CHECK-LABEL: func.func @dft_onesided
// CHECK: linalg.generic {indexing_maps = [#[[X]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK: -> tensor<2x5x3x2xf32>
func.func @dft_onesided(%x: tensor<2x8x3x1xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %y = onnx.DFT %x, %none {onesided = 1 : i64} : (tensor<2x8x3x1xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// A complex input cut to dft_length 4 along axis 2, inverse: both parts
// are read, each term scaled by 1/4.
// SHAPE-LABEL: func.func @dft_inverse_cut
// SHAPE: onnx.DFT {{.*}} -> tensor<1x3x4x2xf32>
// CHECK-LABEL: func.func @dft_inverse_cut
// CHECK-DAG: arith.constant 2.500000e-01 : f32
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 3, 4, 2] [1, 1, 1, 1]
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: -> tensor<1x3x4x2xf32>
func.func @dft_inverse_cut(%x: tensor<1x3x6x2xf32>) -> tensor<*xf32> {
  %len = onnx.Constant(dense<4> : tensor<i64>) : tensor<i64>
  %y = onnx.DFT %x, %len {axis = 2 : i64, inverse = 1 : i64} : (tensor<1x3x6x2xf32>, tensor<i64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// STFT with a window: frames and bins from the window's length and a
// constant step; the sum over a frame is an scf.for in the generic's body
// reading the signal at f * step + m.
// SHAPE-LABEL: func.func @stft_window
// SHAPE: onnx.STFT {{.*}} -> tensor<1x15x9x2xf32>
// CHECK-LABEL: func.func @stft_window
// CHECK: linalg.generic
// CHECK: scf.for
// CHECK: tensor.extract %{{.*}} : tensor<1x128x1xf32>
// CHECK: tensor.extract %{{.*}} : tensor<16xf32>
// CHECK: scf.yield
// CHECK: -> tensor<1x15x9x2xf32>
func.func @stft_window(%s: tensor<1x128x1xf32>, %w: tensor<16xf32>) -> tensor<*xf32> {
  %step = onnx.Constant(dense<8> : tensor<i64>) : tensor<i64>
  %none = onnx.NoValue
  %y = onnx.STFT %s, %step, %w, %none : (tensor<1x128x1xf32>, tensor<i64>, tensor<16xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// MelWeightMatrix of constant bin counts is static.
// SHAPE-LABEL: func.func @mel
// SHAPE: onnx.MelWeightMatrix {{.*}} -> tensor<9x8xf32>
// CHECK-LABEL: func.func @mel
// CHECK: math.log1p
// CHECK: linalg.generic
// CHECK: math.expm1
// CHECK: math.floor
// CHECK: -> tensor<9x8xf32>
func.func @mel(%rate: tensor<i32>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<*xf32> {
  %bins = onnx.Constant(dense<8> : tensor<i32>) : tensor<i32>
  %dft = onnx.Constant(dense<16> : tensor<i32>) : tensor<i32>
  %m = onnx.MelWeightMatrix %bins, %dft, %rate, %lo, %hi : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>) -> tensor<*xf32>
  return %m : tensor<*xf32>
}
