// RUN: kiln-opt %s --convert-onnx-to-linalg=winograd-min-tiles=4 -split-input-file | FileCheck %s
// RUN: kiln-opt %s --convert-onnx-to-linalg=winograd-min-tiles=4 --canonicalize -split-input-file | kiln-opt --pass-pipeline='builtin.module(func.func(kiln-tile-contractions{vector-width=16 mr=8 nr=32}),canonicalize)' -split-input-file | FileCheck %s --check-prefix=KERNEL

// A 3x3 stride-1 conv of 10x10 pixels (3 x 3 tiles of 4x4 outputs) with
// constant weights as Winograd F(4x4, 3x3): the input padded to 4 * 3 + 2
// = 14 per side, the input transform (a generic reducing over the 6x6
// window), the 36 products as one batch_matmul with the transformed weights
// (a [36, M, C] constant made at compile time), the output transform onto
// the bias as [N, M, TY, 4, TX, 4], viewed as 12x12 and cropped to 10x10.
// CHECK-LABEL: func.func @winograd
// CHECK-DAG: %[[U:.*]] = arith.constant dense_resource<winograd_weights> : tensor<4608xf32>
// CHECK-DAG: %[[BT:.*]] = arith.constant dense<{{.*}}> : tensor<6x6xf32>
// CHECK-DAG: %[[AT:.*]] = arith.constant dense<{{.*}}> : tensor<4x6xf32>
// CHECK: %[[U3:.*]] = tensor.expand_shape %[[U]] {{.*}} into tensor<36x16x8xf32>
// CHECK: %[[XP:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 3, 3]
// CHECK: %[[V:.*]] = linalg.generic {{.*}} ins(%[[XP]], %[[BT]], %[[BT]] : tensor<1x8x14x14xf32>, tensor<6x6xf32>, tensor<6x6xf32>) outs(%{{.*}} : tensor<6x6x8x1x3x3xf32>) attrs = {kiln.winograd = "input"}
// CHECK: %[[V3:.*]] = tensor.collapse_shape %[[V]] {{.*}} into tensor<36x8x9xf32>
// CHECK: %[[P:.*]] = linalg.batch_matmul ins(%[[U3]], %[[V3]] : tensor<36x16x8xf32>, tensor<36x8x9xf32>)
// CHECK: %[[P6:.*]] = tensor.expand_shape %[[P]] {{.*}} into tensor<6x6x16x1x3x3xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[P6]], %[[AT]], %[[AT]] : {{.*}}) outs(%{{.*}} : tensor<1x16x3x4x3x4xf32>) attrs = {kiln.winograd = "output"}
// CHECK: %[[Y4:.*]] = tensor.collapse_shape %[[Y]] {{.*}} into tensor<1x16x12x12xf32>
// CHECK: tensor.extract_slice %[[Y4]][0, 0, 0, 0] [1, 16, 10, 10] [1, 1, 1, 1]

// The kernels: the input transform per channel reads 16 + 2 pixels per
// window row from the unpadded input (the left padding shifted in by a
// shuffle, rows outside the image selected to zeros: the padded copy is
// gone) and splits them into the six window columns of 4 tiles
// (shuffles), then writes the 36 transformed vectors; the products run as
// one kernel over the batch (B read where it is: its 16 columns, the first
// half of a panel, read with masks by register tiles 16 wide); the
// output transform per output channel starts from the bias and writes each
// output row as 16 pixels (4 tiles of 4), the last tile row's two rows
// peeled. No linalg op is left.
// KERNEL-LABEL: func.func @winograd
// KERNEL-NOT: linalg.
// KERNEL-NOT: tensor.pad
// KERNEL: scf.forall (%{{.*}}) in (8) {{.*}} -> (tensor<6x6x8x1x3x3xf32>)
// KERNEL: %[[ROW:.*]] = vector.transfer_read %arg0{{.*}} : tensor<1x8x10x10xf32>, vector<16xf32>
// KERNEL: vector.shuffle %[[ROW]], %{{.*}} [16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] : vector<16xf32>, vector<16xf32>
// KERNEL: vector.transfer_read %arg0{{.*}} : tensor<1x8x10x10xf32>, vector<2xf32>
// KERNEL: arith.select
// KERNEL: vector.shuffle {{.*}} [0, 4, 8, 12] : vector<16xf32>, vector<16xf32>
// KERNEL: vector.shuffle {{.*}} [1, 2, 3, 4] : vector<4xf32>, vector<2xf32>
// KERNEL-COUNT-36: vector.transfer_write {{.*}} : vector<4xf32>, tensor<6x6x3x3xf32>
// KERNEL: scf.forall (%{{.*}}) in (36) {{.*}} -> (tensor<36x16x32xf32>)
// KERNEL: vector.fma {{.*}} : vector<16xf32>
// KERNEL: scf.forall (%[[M:.*]]) in (16) {{.*}} -> (tensor<1x16x10x10xf32>)
// KERNEL: tensor.extract %{{.*}}[%c0, %[[M]], %c0, %c0, %c0, %c0] : tensor<1x16x1x1x1x1xf32>
// KERNEL: scf.for
// KERNEL: vector.shuffle {{.*}} : vector<8xf32>, vector<8xf32>
// KERNEL-COUNT-4: vector.transfer_write {{.*}} : vector<16xf32>, tensor<10x10xf32>
// KERNEL-COUNT-2: vector.transfer_write {{.*}} : vector<16xf32>, tensor<10x10xf32>
// KERNEL-NOT: linalg.
// KERNEL: return
func.func @winograd(%x: tensor<1x8x10x10xf32>, %b: tensor<16xf32>) -> tensor<1x16x10x10xf32> {
  %w = arith.constant dense<0.5> : tensor<16x8x3x3xf32>
  %y = onnx.Conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x10x10xf32>
  return %y : tensor<1x16x10x10xf32>
}

// -----

// Not Winograd: too few tiles (1 < 4), a stride, weights that are not
// constants.
// CHECK-LABEL: func.func @not_winograd
// CHECK-NOT: kiln.winograd
// CHECK-COUNT-3: linalg.matmul
// CHECK-NOT: kiln.winograd
// KERNEL-LABEL: func.func @not_winograd
func.func @not_winograd(%x: tensor<1x8x4x4xf32>, %x2: tensor<1x8x10x10xf32>, %w2: tensor<16x8x3x3xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x16x5x5xf32>, tensor<1x16x10x10xf32>) {
  %none = onnx.NoValue
  %w = arith.constant dense<0.5> : tensor<16x8x3x3xf32>
  %y = onnx.Conv %x, %w, %none {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x4x4xf32>, tensor<16x8x3x3xf32>, none) -> tensor<1x16x4x4xf32>
  %z = onnx.Conv %x2, %w, %none {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>, none) -> tensor<1x16x5x5xf32>
  %v = onnx.Conv %x2, %w2, %none {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>, none) -> tensor<1x16x10x10xf32>
  return %y, %z, %v : tensor<1x16x4x4xf32>, tensor<1x16x5x5xf32>, tensor<1x16x10x10xf32>
}
