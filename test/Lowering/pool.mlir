// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// Pools are one linalg.generic over iteration dims (n, c, k..., o...) with
// reductions on the kernel dims; a kernel-shaped tensor.empty gives the
// kernel loops their bounds.

// MaxPool pads with -inf so padding never wins; with ceil_mode the last
// window runs one past the input (4 -> 5). A 2-D f32 MaxPool is the named
// linalg.pooling_nchw_max (kiln-tile-contractions vectorizes it).
// CHECK-LABEL: func.func @maxpool_ceil
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xf32>)
// CHECK: %[[LOW:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[LOW]] : f32
// CHECK: } : tensor<1x1x4x4xf32> to tensor<1x1x5x5xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[LOW]] : f32) outs(%{{.*}} : tensor<1x1x2x2xf32>)
// CHECK: %[[K:.*]] = tensor.empty() : tensor<3x3xf32>
// CHECK: %[[Y:.*]] = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%[[P]], %[[K]] : tensor<1x1x5x5xf32>, tensor<3x3xf32>) outs(%[[INIT]] : tensor<1x1x2x2xf32>)
// CHECK: return %[[Y]]
func.func @maxpool_ceil(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %y = onnx.MaxPool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = 1 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Other pools are one linalg.generic window: a 1-D MaxPool.
// CHECK: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3 * 2 + d2)>
// CHECK: #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d2)>
// CHECK: #[[YMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @maxpool_1d
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], #[[KMAP]], #[[YMAP]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<1x2x7xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<1x2x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[M:.*]] = arith.maximumf %[[ACC]], %[[IN]] fastmath<nsz> : f32
// CHECK-NEXT: linalg.yield %[[M]] : f32
func.func @maxpool_1d(%x: tensor<1x2x7xf32>) -> tensor<1x2x3xf32> {
  %y = onnx.MaxPool %x {kernel_shape = array<i64: 3>, strides = array<i64: 2>} : (tensor<1x2x7xf32>) -> tensor<1x2x3xf32>
  return %y : tensor<1x2x3xf32>
}

// -----

// Integer MaxPool pads with the smallest integer.
// CHECK-LABEL: func.func @maxpool_pads_int
// CHECK: %[[LOW:.*]] = arith.constant -2147483648 : i32
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[LOW]] : i32
// CHECK: linalg.generic
// CHECK: arith.maxsi
func.func @maxpool_pads_int(%x: tensor<1x2x5x5xi32>) -> tensor<1x2x5x5xi32> {
  %y = onnx.MaxPool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xi32>) -> tensor<1x2x5x5xi32>
  return %y : tensor<1x2x5x5xi32>
}

// -----

// count_include_pad = 0: each output divides by its own count of real
// cells, a compile-time constant of the output's spatial shape.
// CHECK: #[[BCAST:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @avgpool_exclude_pad
// CHECK: %[[DIV:.*]] = arith.constant dense<{{\[}}[4.000000e+00, 6.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 9.000000e+00, 6.000000e+00], [6.000000e+00, 9.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<4x4xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : f32
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[BCAST]], #{{.*}}], {{.*}} ins(%[[SUM]], %[[DIV]] : tensor<1x3x4x4xf32>, tensor<4x4xf32>)
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %[[D:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[Q:.*]] = arith.divf %[[S]], %[[D]] : f32
// CHECK: return %[[Y]]
func.func @avgpool_exclude_pad(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %y = onnx.AveragePool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

// count_include_pad = 1 with explicit pads only: every window counts 9, so
// the divisor is a scalar.
// CHECK-LABEL: func.func @avgpool_include_pad
// CHECK: %[[NINE:.*]] = arith.constant 9.000000e+00 : f32
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<1x3x4x4xf32>)
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[S]], %[[NINE]] : f32
func.func @avgpool_include_pad(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %y = onnx.AveragePool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 1 : i64} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

// The ceil_mode overhang is padded (5 -> 6) but never counted, even with
// count_include_pad = 1: the last window holds one cell.
// CHECK-LABEL: func.func @avgpool_ceil_include_pad
// CHECK: %[[DIV:.*]] = arith.constant dense<[2.000000e+00, 2.000000e+00, 1.000000e+00]> : tensor<3xf32>
// CHECK: tensor.pad %{{.*}} low[0, 0, 0] high[0, 0, 1]
// CHECK: %[[K:.*]] = tensor.empty() : tensor<2xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[K]] : tensor<1x1x6xf32>, tensor<2xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[DIV]] : tensor<1x1x3xf32>, tensor<3xf32>)
func.func @avgpool_ceil_include_pad(%x: tensor<1x1x5xf32>) -> tensor<1x1x3xf32> {
  %y = onnx.AveragePool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2>, ceil_mode = 1 : i64, count_include_pad = 1 : i64} : (tensor<1x1x5xf32>) -> tensor<1x1x3xf32>
  return %y : tensor<1x1x3xf32>
}

// -----

// Global pools reduce all spatial dims, collapsed into one, into [N, C],
// then expand to [N, C, 1...]; the average divides by the spatial size.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK: #[[NC:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @global_avg
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x5xf32>)
// CHECK: %[[COUNT:.*]] = arith.constant 2.000000e+01 : f32
// CHECK: %[[X3:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1], [2, 3]] : tensor<2x3x4x5xf32> into tensor<2x3x20xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[NC]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X3]] : tensor<2x3x20xf32>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK: arith.addf
// CHECK: %[[AVG:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x3xf32>)
// CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
// CHECK: %[[R:.*]] = tensor.expand_shape %[[AVG]] {{\[}}[0], [1, 2, 3]] output_shape [2, 3, 1, 1] : tensor<2x3xf32> into tensor<2x3x1x1xf32>
// CHECK: return %[[R]]
func.func @global_avg(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32> {
  %y = onnx.GlobalAveragePool %x : (tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32>
  return %y : tensor<2x3x1x1xf32>
}

// -----

// CHECK-LABEL: func.func @global_max
// CHECK: %[[LOW:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[LOW]] : f32) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK: %[[M:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} {{.*}} outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: arith.maximumf
// CHECK: %[[R:.*]] = tensor.expand_shape %[[M]] {{\[}}[0], [1, 2]] output_shape [2, 3, 1]
// CHECK: return %[[R]]
func.func @global_max(%x: tensor<2x3x4xf32>) -> tensor<2x3x1xf32> {
  %y = onnx.GlobalMaxPool %x : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  return %y : tensor<2x3x1xf32>
}

// -----

// MaxPool with Indices: one generic with two accumulators; the position of
// each window cell in X (row-major, less the padding) goes with the value
// wherever the value is strictly larger.
// CHECK-LABEL: func.func @maxpool_indices
// CHECK: %[[G:.*]]:2 = linalg.generic
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<1x1x5x5xf32>, tensor<1x1x5x5xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.select
// CHECK: return %[[G]]#0, %[[G]]#1
func.func @maxpool_indices(%x: tensor<1x1x5x5xf32>) -> (tensor<1x1x5x5xf32>, tensor<1x1x5x5xi64>) {
  %y, %i = onnx.MaxPool %x {kernel_shape = array<i64: 5, 5>, pads = array<i64: 2, 2, 2, 2>} : (tensor<1x1x5x5xf32>) -> (tensor<1x1x5x5xf32>, tensor<1x1x5x5xi64>)
  return %y, %i : tensor<1x1x5x5xf32>, tensor<1x1x5x5xi64>
}

// -----

// MaxUnpool: zeros, then an scf.for over X inserting each value where its
// index points (guarded by an scf.if).
// CHECK-LABEL: func.func @maxunpool
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK: scf.if
// CHECK: tensor.insert
// CHECK: return %{{.*}} : tensor<1x1x4x4xf32>
func.func @maxunpool(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>) -> tensor<1x1x4x4xf32> {
  %none = onnx.NoValue
  %y = onnx.MaxUnpool %x, %i, %none {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, none) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// RoiAlign: a generic over Y; the sampling grid of each bin is two scf.for
// loops reading X with tensor.extract.
// CHECK-LABEL: func.func @roialign
// CHECK: linalg.generic
// CHECK: scf.for
// CHECK: scf.for
// CHECK: tensor.extract %{{.*}} : tensor<1x1x10x10xf32>
// CHECK: arith.divf
// CHECK: -> tensor<3x1x5x5xf32>
func.func @roialign(%x: tensor<1x1x10x10xf32>, %r: tensor<3x4xf32>, %b: tensor<3xi64>) -> tensor<3x1x5x5xf32> {
  %y = onnx.RoiAlign %x, %r, %b {output_height = 5 : i64, output_width = 5 : i64, sampling_ratio = 2 : i64} : (tensor<1x1x10x10xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x1x5x5xf32>
  return %y : tensor<3x1x5x5xf32>
}
