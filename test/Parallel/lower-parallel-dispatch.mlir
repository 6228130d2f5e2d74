// RUN: kiln-opt %s --kiln-lower-parallel-dispatch | FileCheck %s

// The dispatch packs its captures (a buffer and a float) into a stack frame
// and hands the entry function to kiln_parallel_for; the entry unpacks them
// and runs the task on [begin, end).
// CHECK-LABEL: llvm.func @graph
// CHECK: llvm.call @f_par_dispatch
llvm.func @graph(%buf: !llvm.ptr, %s: f32) {
  %n = llvm.mlir.constant(64 : i64) : i64
  llvm.call @f_par_dispatch(%n, %buf, %s) : (i64, !llvm.ptr, f32) -> ()
  llvm.return
}

llvm.func @f_par(%begin: i64, %end: i64, %buf: !llvm.ptr, %s: f32) {
  llvm.return
}

// CHECK: llvm.func internal @f_par_dispatch(%[[N:.*]]: i64, %[[B:.*]]: !llvm.ptr, %[[S:.*]]: f32)
// CHECK-NOT: kiln.parallel_task
// CHECK: %[[FRAME:.*]] = llvm.alloca {{.*}} x !llvm.struct<(ptr, f32)>
// CHECK: %[[F0:.*]] = llvm.getelementptr %[[FRAME]][0, 0]
// CHECK: llvm.store %[[B]], %[[F0]]
// CHECK: %[[F1:.*]] = llvm.getelementptr %[[FRAME]][0, 1]
// CHECK: llvm.store %[[S]], %[[F1]]
// CHECK: %[[ENTRY:.*]] = llvm.mlir.addressof @f_par_dispatch_entry
// CHECK: llvm.call @kiln_parallel_for(%[[ENTRY]], %[[FRAME]], %[[N]])
llvm.func @f_par_dispatch(i64, !llvm.ptr, f32) attributes {kiln.parallel_task = @f_par}

// CHECK: llvm.func internal @f_par_dispatch_entry(%[[CTX:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK: %[[G0:.*]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK: %[[L0:.*]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[G1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: %[[L1:.*]] = llvm.load %[[G1]] : !llvm.ptr -> f32
// CHECK: llvm.call @f_par(%[[BEGIN]], %[[END]], %[[L0]], %[[L1]])

// The serial fallback the runtime's pool overrides.
// CHECK: llvm.func weak @kiln_parallel_for(%[[T:.*]]: !llvm.ptr, %[[C:.*]]: !llvm.ptr, %[[CN:.*]]: i64)
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i64)
// CHECK: llvm.call %[[T]](%[[C]], %[[ZERO]], %[[CN]])
