// RUN: kiln-opt %s --convert-onnx-to-linalg -split-input-file | FileCheck %s
//
// Sequences not known when compiling are handles to the runtime's
// kiln_sequence (!llvm.ptr) and their ops calls into it; an optional tensor
// input is its buffer (NULL: no value).

// An input sequence that gains a tensor: a run-time handle and calls.
// CHECK-LABEL: func.func @insert(
// CHECK-SAME: %[[S:.*]]: !llvm.ptr, %[[T:.*]]: tensor<3xi64>) -> (!llvm.ptr {kiln.output_index = 0 : i64, kiln.sequence = "sequence"})
// CHECK: %[[R:.*]] = call @kiln_run_begin()
// CHECK: %[[DIMS:.*]] = memref.alloca() {kiln.staging} : memref<16xi64>
// CHECK: %[[BUF:.*]] = bufferization.to_buffer %[[T]] read_only
// CHECK: memref.extract_strided_metadata %[[BUF]]
// CHECK: %[[NEW:.*]] = call @kiln_seq_insert(%[[R]], %[[S]],
// CHECK: return %[[NEW]] : !llvm.ptr
func.func @insert(%s: !onnx.seq<tensor<*xi64>>, %t: tensor<3xi64>) -> !onnx.seq<tensor<*xi64>> {
  %none = onnx.NoValue
  %r = onnx.SequenceInsert %s, %t, %none : (!onnx.seq<tensor<*xi64>>, tensor<3xi64>, none) -> !onnx.seq<tensor<*xi64>>
  return %r : !onnx.seq<tensor<*xi64>>
}

// -----

// An element read at run time is a view of the sequence's data.
// CHECK-LABEL: func.func @at(
// CHECK: %[[BYTES:.*]] = call @kiln_seq_at({{.*}}) : (!llvm.ptr, !llvm.ptr, i64, i32, i32, i64) -> memref<2147483647xi8>
// CHECK: %[[ROWS:.*]] = memref.load
// CHECK: %[[N:.*]] = arith.index_cast %[[ROWS]] : i64 to index
// CHECK: %[[VIEW:.*]] = memref.view %[[BYTES]][%{{.*}}][%[[N]]] : memref<2147483647xi8> to memref<?x2xf32>
// CHECK: bufferization.to_tensor %[[VIEW]] restrict
func.func @at(%s: !onnx.seq<tensor<?x2xf32>>, %p: tensor<i64>) -> tensor<2xindex> {
  %e = onnx.SequenceAt %s, %p : (!onnx.seq<tensor<?x2xf32>>, tensor<i64>) -> tensor<?x2xf32>
  %n = onnx.SequenceLength %s : (!onnx.seq<tensor<?x2xf32>>) -> tensor<i64>
  %d0 = arith.constant 0 : index
  %x = tensor.dim %e, %d0 : tensor<?x2xf32>
  %c2 = arith.constant 2 : index
  %r = tensor.from_elements %x, %c2 : tensor<2xindex>
  return %r : tensor<2xindex>
}

// -----

// An optional tensor input is its buffer; empty when NULL.
// CHECK-LABEL: func.func @opt(
// CHECK-SAME: %[[O:.*]]: tensor<4xf32>)
// CHECK: %[[ZEROS:.*]] = arith.constant dense<0.0{{.*}}> : tensor<4xf32>
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index
// CHECK: arith.cmpi ne, %[[P]]
// CHECK: scf.if
// CHECK-NEXT: func.call @kiln_run_fail
// CHECK: arith.select %{{.*}}, %[[O]], %[[ZEROS]] : tensor<4xf32>
func.func @opt(%o: !onnx.opt<tensor<4xf32>>) -> (tensor<i1>, tensor<4xf32>) {
  %h = onnx.OptionalHasElement %o : (!onnx.opt<tensor<4xf32>>) -> tensor<i1>
  %v = onnx.OptionalGetElement %o : (!onnx.opt<tensor<4xf32>>) -> tensor<4xf32>
  return %h, %v : tensor<i1>, tensor<4xf32>
}
