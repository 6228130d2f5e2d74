// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s

// LSTM: X * W^T + (Wb + Rb) for all steps in one matmul, then an scf.for
// carrying H, C, Y and the H * R^T buffer. Each step: a linalg.matmul into
// that buffer, then one gate generic (gates i, o, f, c as column slices; peepholes i, o, f
// read by column) whose H and C are materialized in the carried buffers and
// whose Y row is inserted at t.
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @lstm
// CHECK-SAME: (%[[X:.*]]: tensor<5x2x8xf32>, %[[W:.*]]: tensor<1x64x8xf32>, %[[R:.*]]: tensor<1x64x16xf32>, %[[B:.*]]: tensor<1x128xf32>, %[[P:.*]]: tensor<1x48xf32>)
// CHECK: %[[WS:.*]] = tensor.extract_slice %[[W]][0, 0, 0] [1, 64, 8] [1, 1, 1] : tensor<1x64x8xf32> to tensor<64x8xf32>
// CHECK: %[[WT:.*]] = linalg.transpose ins(%[[WS]] : tensor<64x8xf32>) outs(%{{.*}} : tensor<8x64xf32>) permutation = [1, 0]
// CHECK: %[[RT:.*]] = linalg.transpose ins(%{{.*}} : tensor<64x16xf32>) outs(%{{.*}} : tensor<16x64xf32>) permutation = [1, 0]
// CHECK: %[[WB:.*]] = tensor.extract_slice %[[B]][0, 0] [1, 64] [1, 1]
// CHECK: %[[RB:.*]] = tensor.extract_slice %[[B]][0, 64] [1, 64] [1, 1]
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%[[WB]], %[[RB]] :
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<5x2x8xf32> into tensor<10x8xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<64xf32>) outs(%{{.*}} : tensor<10x64xf32>)
// CHECK: %[[XW:.*]] = linalg.matmul ins(%[[X2]], %[[WT]] : tensor<10x8xf32>, tensor<8x64xf32>) outs(%[[INIT]] : tensor<10x64xf32>)
// CHECK: %[[XW3:.*]] = tensor.expand_shape {{.*}} into tensor<5x2x64xf32>
// CHECK: %[[H0:.*]] = linalg.fill
// CHECK: %[[C0:.*]] = linalg.fill
// CHECK: %[[PI:.*]] = tensor.extract_slice %[[P]][0, 0] [1, 16] [1, 1]
// CHECK: %[[PO:.*]] = tensor.extract_slice %[[P]][0, 16] [1, 16] [1, 1]
// CHECK: %[[PF:.*]] = tensor.extract_slice %[[P]][0, 32] [1, 16] [1, 1]
// CHECK: %[[LOOP:.*]]:4 = scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[H:.*]] = %[[H0]], %[[C:.*]] = %[[C0]], %[[Y:.*]] = %{{.*}}, %[[G:.*]] = %{{.*}}) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<5x2x16xf32>, tensor<2x64xf32>)
// CHECK: %[[XT:.*]] = tensor.extract_slice %[[XW3]][%[[T]], 0, 0] [1, 2, 64] [1, 1, 1] : tensor<5x2x64xf32> to tensor<2x64xf32>
// CHECK: %[[GZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[G]] : tensor<2x64xf32>)
// CHECK: %[[HR:.*]] = linalg.matmul ins(%[[H]], %[[RT]] : tensor<2x16xf32>, tensor<16x64xf32>) outs(%[[GZ]] : tensor<2x64xf32>)
// CHECK: %[[XI:.*]] = tensor.extract_slice %[[XT]][0, 0] [2, 16] [1, 1]
// CHECK: %[[XC:.*]] = tensor.extract_slice %[[XT]][0, 48] [2, 16] [1, 1]
// CHECK: %[[GI:.*]] = tensor.extract_slice %[[HR]][0, 0] [2, 16] [1, 1]
// CHECK: %[[STEP:.*]]:3 = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]], #[[COL]], #[[COL]], #[[COL]], #[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[XI]], {{.*}}, %[[PI]], %[[PO]], %[[PF]], %[[H]], %[[C]] :
// CHECK: math.exp
// CHECK: math.tanh
// CHECK: linalg.yield
// CHECK: %[[HN:.*]] = bufferization.materialize_in_destination %[[STEP]]#0 in %[[H]]
// CHECK: %[[CN:.*]] = bufferization.materialize_in_destination %[[STEP]]#1 in %[[C]]
// CHECK: %[[YN:.*]] = tensor.insert_slice %[[STEP]]#2 into %[[Y]][%[[T]], 0, 0] [1, 2, 16] [1, 1, 1]
// CHECK: scf.yield %[[HN]], %[[CN]], %[[YN]], %[[HR]]
// CHECK: %[[YOUT:.*]] = tensor.insert_slice %[[LOOP]]#2 into %{{.*}}[0, 0, 0, 0] [5, 1, 2, 16] [1, 1, 1, 1] : tensor<5x2x16xf32> into tensor<5x1x2x16xf32>
// CHECK: %[[HOUT:.*]] = tensor.insert_slice %[[LOOP]]#0 into %{{.*}}[0, 0, 0] [1, 2, 16] [1, 1, 1] : tensor<2x16xf32> into tensor<1x2x16xf32>
// CHECK: return %[[YOUT]], %[[HOUT]]
func.func @lstm(%x: tensor<5x2x8xf32>, %w: tensor<1x64x8xf32>, %r: tensor<1x64x16xf32>, %b: tensor<1x128xf32>, %p: tensor<1x48xf32>) -> (tensor<5x1x2x16xf32>, tensor<1x2x16xf32>) {
  %none = onnx.NoValue
  %y:3 = onnx.LSTM %x, %w, %r, %b, %none, %none, %none, %p {hidden_size = 16 : i64} : (tensor<5x2x8xf32>, tensor<1x64x8xf32>, tensor<1x64x16xf32>, tensor<1x128xf32>, none, none, none, tensor<1x48xf32>) -> (tensor<5x1x2x16xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>)
  return %y#0, %y#1 : tensor<5x1x2x16xf32>, tensor<1x2x16xf32>
}

// -----

// GRU with linear_before_reset = 0: H * Rz^T and H * Rr^T, then r (.) H
// written over the latter (read as the generic's output), then
// (r (.) H) * Rh^T, each a chain of in-place ops on its own carried buffer
// (started by bufferization.alloc_tensor, which does not fold into one
// value as tensor.empty does); Y is not used, so not carried.
// CHECK-LABEL: func.func @gru_reset_first
// CHECK: %[[H0:.*]] = linalg.fill {{.*}} -> tensor<1x5xf32>
// CHECK: %[[B0:.*]] = bufferization.alloc_tensor() : tensor<1x5xf32>
// CHECK: %[[B1:.*]] = bufferization.alloc_tensor() : tensor<1x5xf32>
// CHECK: %[[B2:.*]] = bufferization.alloc_tensor() : tensor<1x5xf32>
// CHECK: %[[RZ:.*]] = tensor.extract_slice %[[RT:.*]][0, 0] [5, 5] [1, 1] : tensor<5x15xf32> to tensor<5x5xf32>
// CHECK: %[[RR:.*]] = tensor.extract_slice %[[RT]][0, 5] [5, 5] [1, 1]
// CHECK: %[[RH:.*]] = tensor.extract_slice %[[RT]][0, 10] [5, 5] [1, 1]
// CHECK: scf.for {{.*}} iter_args(%[[H:.*]] = %[[H0]], %[[S0:.*]] = %[[B0]], %[[S1:.*]] = %[[B1]], %[[S2:.*]] = %[[B2]]) -> (tensor<1x5xf32>, tensor<1x5xf32>, tensor<1x5xf32>, tensor<1x5xf32>)
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[S0]] : tensor<1x5xf32>)
// CHECK: %[[GZ:.*]] = linalg.matmul ins(%[[H]], %[[RZ]] : tensor<1x5xf32>, tensor<5x5xf32>) outs(%[[F0]] : tensor<1x5xf32>)
// CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[S1]] : tensor<1x5xf32>)
// CHECK: %[[GR:.*]] = linalg.matmul ins(%[[H]], %[[RR]] : tensor<1x5xf32>, tensor<5x5xf32>) outs(%[[F1]] : tensor<1x5xf32>)
// CHECK: %[[RHV:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[H]] : tensor<1x5xf32>, tensor<1x5xf32>) outs(%[[GR]] : tensor<1x5xf32>)
// CHECK: %[[F2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[S2]] : tensor<1x5xf32>)
// CHECK: %[[GH:.*]] = linalg.matmul ins(%[[RHV]], %[[RH]] : tensor<1x5xf32>, tensor<5x5xf32>) outs(%[[F2]] : tensor<1x5xf32>)
// CHECK: %[[HN:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[GZ]], %{{.*}}, %[[GH]], %[[H]] :
// CHECK: %[[HM:.*]] = bufferization.materialize_in_destination %[[HN]] in %[[H]]
// CHECK: scf.yield %[[HM]], %[[GZ]], %[[RHV]], %[[GH]]
func.func @gru_reset_first(%x: tensor<4x1x3xf32>, %w: tensor<1x15x3xf32>, %r: tensor<1x15x5xf32>) -> tensor<1x1x5xf32> {
  %none = onnx.NoValue
  %y:2 = onnx.GRU %x, %w, %r, %none, %none, %none {hidden_size = 5 : i64} : (tensor<4x1x3xf32>, tensor<1x15x3xf32>, tensor<1x15x5xf32>, none, none, none) -> (tensor<4x1x1x5xf32>, tensor<1x1x5xf32>)
  return %y#1 : tensor<1x1x5xf32>
}

// -----

// Bidirectional with sequence_lens: the forward loop keeps H and writes zero
// to Y once t >= lens[b]; the backward one runs over X reversed within each
// entry's length, and its Y is reversed back. A state of length 0 is zero.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[BATCH3:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @rnn_bidirectional_lens
// CHECK-SAME: (%[[X:.*]]: tensor<3x2x4xf32>, %{{.*}}: tensor<2x5x4xf32>, %{{.*}}: tensor<2x5x5xf32>, %[[LENS:.*]]: tensor<2xi32>)
// CHECK: %[[FWD:.*]]:3 = scf.for %[[T:.*]] = {{.*}} iter_args(%[[H:.*]] = %{{.*}}, %[[Y:.*]] = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: %[[TI:.*]] = arith.index_cast %[[T]] : index to i32
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[LENS]], %[[H]] : tensor<2x5xf32>, tensor<2x5xf32>, tensor<2xi32>, tensor<2x5xf32>)
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: f32, %[[LEN:[^:]*]]: i32, %[[OLD:[^:]*]]: f32,
// CHECK: %[[NEW:.*]] = math.tanh
// CHECK: %[[ON:.*]] = arith.cmpi slt, %[[TI]], %[[LEN]] : i32
// CHECK: %[[HV:.*]] = arith.select %[[ON]], %[[NEW]], %[[OLD]] : f32
// CHECK: %[[YV:.*]] = arith.select %[[ON]], %[[NEW]], %{{.*}} : f32
// CHECK: linalg.yield %[[HV]], %[[YV]]
// CHECK: %[[HF:.*]] = linalg.generic {indexing_maps = [#[[ID2:.*]], #[[ROW]], #[[ID2]]], {{.*}} ins(%[[FWD]]#0, %[[LENS]] :
// CHECK: arith.cmpi sgt
// CHECK: %[[XR:.*]] = linalg.generic {indexing_maps = [#[[BATCH3]], #{{.*}}], {{.*}} ins(%[[LENS]] : tensor<2xi32>) outs(%{{.*}} : tensor<3x2x4xf32>)
// CHECK: %[[IN:.*]] = arith.cmpi slt
// CHECK: %[[SRC:.*]] = arith.select %[[IN]]
// CHECK: tensor.extract %[[X]][%[[SRC]],
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<4x5xf32>)
// CHECK: %[[BWD:.*]]:3 = scf.for
// CHECK: %[[YR:.*]] = linalg.generic {{.*}} ins(%[[LENS]] : tensor<2xi32>) outs(%{{.*}} : tensor<3x2x5xf32>)
// CHECK: tensor.extract %[[BWD]]#1
// CHECK: tensor.insert_slice %[[YR]] into %{{.*}}[0, 1, 0, 0] [3, 1, 2, 5] [1, 1, 1, 1]
func.func @rnn_bidirectional_lens(%x: tensor<3x2x4xf32>, %w: tensor<2x5x4xf32>, %r: tensor<2x5x5xf32>, %lens: tensor<2xi32>) -> (tensor<3x2x2x5xf32>, tensor<2x2x5xf32>) {
  %none = onnx.NoValue
  %y:2 = onnx.RNN %x, %w, %r, %none, %lens, %none {direction = "bidirectional", hidden_size = 5 : i64} : (tensor<3x2x4xf32>, tensor<2x5x4xf32>, tensor<2x5x5xf32>, none, tensor<2xi32>, none) -> (tensor<3x2x2x5xf32>, tensor<2x2x5xf32>)
  return %y#0, %y#1 : tensor<3x2x2x5xf32>, tensor<2x2x5xf32>
}

// -----

// Layout 1: X is transposed to time-major first; Y goes back to batch x seq
// and into its direction's slice; the states are batch x directions x hidden.
// CHECK-LABEL: func.func @gru_batch_first
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>
// CHECK: linalg.transpose ins(%[[X]] : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<3x2x4xf32>) permutation = [1, 0, 2]
// CHECK: %[[L:.*]]:3 = scf.for
// CHECK: %[[YB:.*]] = linalg.transpose ins(%[[L]]#1 : tensor<3x2x5xf32>) outs(%{{.*}} : tensor<2x3x5xf32>) permutation = [1, 0, 2]
// CHECK: tensor.insert_slice %[[YB]] into %{{.*}}[0, 0, 0, 0] [2, 3, 1, 5] [1, 1, 1, 1] : tensor<2x3x5xf32> into tensor<2x3x1x5xf32>
// CHECK: tensor.insert_slice %[[L]]#0 into %{{.*}}[0, 0, 0] [2, 1, 5] [1, 1, 1] : tensor<2x5xf32> into tensor<2x1x5xf32>
func.func @gru_batch_first(%x: tensor<2x3x4xf32>, %w: tensor<1x15x4xf32>, %r: tensor<1x15x5xf32>, %b: tensor<1x30xf32>) -> (tensor<2x3x1x5xf32>, tensor<2x1x5xf32>) {
  %none = onnx.NoValue
  %y:2 = onnx.GRU %x, %w, %r, %b, %none, %none {hidden_size = 5 : i64, layout = 1 : i64, linear_before_reset = 1 : i64} : (tensor<2x3x4xf32>, tensor<1x15x4xf32>, tensor<1x15x5xf32>, tensor<1x30xf32>, none, none) -> (tensor<2x3x1x5xf32>, tensor<2x1x5xf32>)
  return %y#0, %y#1 : tensor<2x3x1x5xf32>, tensor<2x1x5xf32>
}

// -----

// A given initial state is copied into a buffer of its own before the loop
// updates it in place (it may be a graph input, which must not be written).
// CHECK-LABEL: func.func @rnn_initial_state
// CHECK-SAME: %[[H0:[^:]*]]: tensor<2x1x4xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[H0]][0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> to tensor<2x4xf32>
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[S]]) : tensor<2x4xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[COPY]],
func.func @rnn_initial_state(%x: tensor<2x3x4xf32>, %w: tensor<1x4x4xf32>, %r: tensor<1x4x4xf32>, %h: tensor<2x1x4xf32>) -> tensor<2x1x4xf32> {
  %none = onnx.NoValue
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %h {hidden_size = 4 : i64, layout = 1 : i64} : (tensor<2x3x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, none, none, tensor<2x1x4xf32>) -> (tensor<2x3x1x4xf32>, tensor<2x1x4xf32>)
  return %y#1 : tensor<2x1x4xf32>
}

// -----

// Dynamic seq, batch and input size (the hidden size comes from the
// attribute): the steps run to X's dim 0, the carried buffers take the batch
// from X's dim 1, and X * W^T collapses seq x batch into one dynamic row dim.
// CHECK-LABEL: func.func @rnn_dynamic
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x?x?xf32>, %[[W:[^:]*]]: tensor<1x?x?xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[SEQ:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK-DAG: %[[N:.*]] = tensor.dim %[[X]], %[[C1]]
// CHECK: %[[WS:.*]] = tensor.extract_slice %[[W]][0, 0, 0] [1, 4, %{{.*}}] [1, 1, 1] : tensor<1x?x?xf32> to tensor<4x?xf32>
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<?x?x?xf32> into tensor<?x?xf32>
// CHECK: %[[XW:.*]] = linalg.matmul ins(%[[X2]], %{{.*}} : tensor<?x?xf32>, tensor<?x4xf32>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: tensor.expand_shape %[[XW]] {{\[\[}}0, 1], [2]] output_shape [%[[SEQ]], %[[N]], 4] : tensor<?x4xf32> into tensor<?x?x4xf32>
// CHECK: %[[G:.*]] = bufferization.alloc_tensor(%[[N]]) : tensor<?x4xf32>
// CHECK: scf.for %{{.*}} = %[[C0]] to %[[SEQ]] step %[[C1]] iter_args({{.*}}) -> (tensor<?x4xf32>, tensor<?x?x4xf32>, tensor<?x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4x4xf32>)
func.func @rnn_dynamic(%x: tensor<?x?x?xf32>, %w: tensor<1x?x?xf32>, %r: tensor<1x?x?xf32>) -> (tensor<?x1x?x4xf32>, tensor<1x?x4xf32>) {
  %none = onnx.NoValue
  %y:2 = onnx.RNN %x, %w, %r, %none, %none, %none {hidden_size = 4 : i64} : (tensor<?x?x?xf32>, tensor<1x?x?xf32>, tensor<1x?x?xf32>, none, none, none) -> (tensor<?x1x?x4xf32>, tensor<1x?x4xf32>)
  return %y#0, %y#1 : tensor<?x1x?x4xf32>, tensor<1x?x4xf32>
}
