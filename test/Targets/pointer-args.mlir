// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-pointer-args)' -split-input-file -verify-diagnostics | FileCheck %s

// A flat buffer of dynamic size (an input, output or arena of a model whose
// dims have no bound) becomes a bare pointer, and the memref is rebuilt
// from it inside: offset 0, size 0 (never read), stride 1. Static buffers
// and other arguments stay.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[P:[a-z0-9]+]]: !llvm.ptr, %[[N:[a-z0-9]+]]: index, %[[OUT:[a-z0-9]+]]: memref<4xf32>)
// CHECK: %[[D0:.*]] = llvm.insertvalue %[[P]], %{{.*}}[0] : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[D1:.*]] = llvm.insertvalue %[[P]], %[[D0]][1]
// CHECK: %[[X:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<?xf32>
// CHECK: memref.subview %[[X]][0] [%[[N]]] [1]
func.func @main_graph(%x: memref<?xf32>, %n: index, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %s = memref.subview %x[0] [%n] [1] : memref<?xf32> to memref<?xf32, strided<[1]>>
  %v = memref.load %s[%c0] : memref<?xf32, strided<[1]>>
  memref.store %v, %out[%c0] : memref<4xf32>
  return
}

// -----

// The size of such an argument is not known inside: reading it is an error.
// expected-error @+1 {{argument 0 is passed as a bare pointer, but the code reads its size}}
func.func @main_graph(%x: memref<?xf32>, %out: memref<index>) {
  %c0 = arith.constant 0 : index
  %d = memref.dim %x, %c0 : memref<?xf32>
  memref.store %d, %out[] : memref<index>
  return
}

// -----

// A static memref with no elements, zero not its first dim (a zero-size
// input or output): the bare-pointer convention of convert-func-to-llvm
// refuses it, so it is passed as a pointer too, its descriptor rebuilt with
// the static sizes and row-major strides. Other static arguments stay.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[P:[a-z0-9]+]]: !llvm.ptr, %{{[a-z0-9]+}}: memref<i64>)
// CHECK: %[[C0:.*]] = llvm.mlir.constant(0 : i64)
// CHECK: llvm.insertvalue %[[C0]], %{{.*}}[2] : !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>
// CHECK: %[[C3:.*]] = llvm.mlir.constant(3 : i64)
// CHECK: llvm.insertvalue %[[C3]], %{{.*}}[3, 0]
// CHECK: llvm.insertvalue %[[C0]], %{{.*}}[4, 0]
// CHECK: llvm.insertvalue %[[C0]], %{{.*}}[3, 1]
// CHECK: %[[C5:.*]] = llvm.mlir.constant(5 : i64)
// CHECK: llvm.insertvalue %[[C5]], %{{.*}}[4, 1]
// CHECK: llvm.insertvalue %[[C5]], %{{.*}}[3, 2]
// CHECK: %[[C1:.*]] = llvm.mlir.constant(1 : i64)
// CHECK: llvm.insertvalue %[[C1]], %{{.*}}[4, 2]
// CHECK: %[[X:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<3x0x5xi64>
// CHECK: call @use(%[[X]])
func.func private @use(memref<3x0x5xi64>)
func.func @main_graph(%x: memref<3x0x5xi64>, %k: memref<i64>) {
  func.call @use(%x) : (memref<3x0x5xi64>) -> ()
  return
}
