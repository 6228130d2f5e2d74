// RUN: kiln-opt %s --onnx-infer-shapes -split-input-file | FileCheck %s --check-prefix=SHAPE
// RUN: kiln-opt %s --onnx-infer-shapes --convert-onnx-to-linalg -split-input-file | FileCheck %s

// A sequence built at constant positions is known when compiling: the
// element SequenceAt reads is the value inserted there, and the sequence
// ops disappear.
// SHAPE-LABEL: func.func @insert_at
// SHAPE: onnx.SequenceInsert {{.*}} -> !onnx.seq<tensor<?x3xf32>>
// SequenceAt folds to the inserted value already during shape inference.
// SHAPE-NOT: onnx.SequenceAt
// SHAPE: return %arg1 : tensor<1x3xf32>
// CHECK-LABEL: func.func @insert_at
// CHECK-NOT: onnx.
// CHECK: return %arg1 : tensor<1x3xf32>
func.func @insert_at(%x: tensor<2x3xf32>, %y: tensor<1x3xf32>) -> tensor<*xf32> {
  %none0 = onnx.NoValue
  %e = onnx.SequenceEmpty : () -> !onnx.seq<tensor<*xf32>>
  %s1 = onnx.SequenceInsert %e, %x, %none0 : (!onnx.seq<tensor<*xf32>>, tensor<2x3xf32>, none) -> !onnx.seq<tensor<*xf32>>
  %p = onnx.Constant(dense<0> : tensor<i64>) : tensor<i64>
  %s2 = onnx.SequenceInsert %s1, %y, %p : (!onnx.seq<tensor<*xf32>>, tensor<1x3xf32>, tensor<i64>) -> !onnx.seq<tensor<*xf32>>
  %at = onnx.SequenceAt %s2, %p : (!onnx.seq<tensor<*xf32>>, tensor<i64>) -> tensor<*xf32>
  return %at : tensor<*xf32>
}

// -----

// SplitToSequence into pieces of 1, squeezed; ConcatFromSequence stacks
// them back along a new last axis: slices unsqueezed and concatenated.
// SHAPE-LABEL: func.func @split_stack
// SHAPE: onnx.ConcatFromSequence {{.*}} -> tensor<3x2xf32>
// CHECK-LABEL: func.func @split_stack
// CHECK-COUNT-2: tensor.extract_slice %arg0[{{[01]}}, 0] [1, 3] [1, 1] : tensor<2x3xf32> to tensor<3xf32>
// CHECK: return %{{.*}} : tensor<3x2xf32>
func.func @split_stack(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %s = onnx.SplitToSequence %x, %none {keepdims = 0 : i64} : (tensor<2x3xf32>, none) -> !onnx.seq<tensor<*xf32>>
  %c = onnx.ConcatFromSequence %s {axis = -1 : i64, new_axis = 1 : i64} : (!onnx.seq<tensor<*xf32>>) -> tensor<*xf32>
  return %c : tensor<*xf32>
}
