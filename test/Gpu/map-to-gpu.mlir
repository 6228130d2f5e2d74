// RUN: kiln-opt %s --kiln-map-to-gpu -cse -split-input-file | FileCheck %s

// A 2-D parallel loop: 6,400 iterations, one thread each, in 25 blocks of
// 256 threads (no bound check: 25 x 256 = 6,400). The thread's number
// gives (i, j), j fastest, and the kernel is named after the ONNX node.
// CHECK-LABEL: func.func @grid
// CHECK-DAG: %[[C25:.*]] = arith.constant 25 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C100:.*]] = arith.constant 100 : index
// CHECK: gpu.launch blocks(%[[BX:[^,]*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C25]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:[^,]*]], %{{.*}}, %{{.*}}) in (%[[BS:[^ ]*]] = %[[C256]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) module(@kiln_kernels) function(@k0_add1)
// CHECK-NEXT: %[[B:.*]] = arith.muli %[[BX]], %[[BS]]
// CHECK-NEXT: %[[N:.*]] = arith.addi %[[B]], %[[TX]]
// CHECK-NEXT: %[[J:.*]] = arith.remui %[[N]], %[[C100]]
// CHECK-NEXT: %[[I:.*]] = arith.divui %[[N]], %[[C100]]
// CHECK-NOT: scf.if
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}]
// CHECK: arith.addf
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @grid(%a: memref<64x100xf32>, %b: memref<64x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c100) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<64x100xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %b[%i, %j] : memref<64x100xf32>
    scf.reduce
  } loc("add1")
  return
}

// -----

// 1,000 iterations of step 2 from 4: 4 blocks of 256 threads, and the 24
// past the end return (the bound check).
// CHECK-LABEL: func.func @tail
// CHECK-DAG: %[[C1000:.*]] = arith.constant 1000 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]*}} = %[[C4]], {{.*}}) threads({{.*}}) in (%{{[^ ]*}} = %c256,
// CHECK: %[[N:.*]] = arith.addi
// CHECK-NEXT: %[[IN:.*]] = arith.cmpi ult, %[[N]], %[[C1000]]
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: %[[S:.*]] = arith.muli %[[N]], %c2
// CHECK-NEXT: %[[I:.*]] = arith.addi %c4{{.*}}, %[[S]]
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[I]]]
func.func @tail(%b: memref<2004xf32>) {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c2004 = arith.constant 2004 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c4) to (%c2004) step (%c2) {
    memref.store %f, %b[%i] : memref<2004xf32>
    scf.reduce
  }
  return
}

// -----

// A sequential loop nest runs on one thread; the views of the arena stay on
// the host and reach the kernel as captured values.
// CHECK-LABEL: func.func @serial
// CHECK: %[[V:.*]] = memref.view
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]*}} = %[[ONE:[^,]*]], %{{[^ ]*}} = %[[ONE]], %{{[^ ]*}} = %[[ONE]]) threads({{.*}}) in (%{{[^ ]*}} = %[[ONE]], %{{[^ ]*}} = %[[ONE]], %{{[^ ]*}} = %[[ONE]]) module(@kiln_kernels) function(@k0_scan)
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[V]]
// CHECK: gpu.terminator
func.func @serial(%arena: memref<64xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 0.5 : f32
  %v = memref.view %arena[%c0][] : memref<64xi8> to memref<16xf32>
  scf.for %i = %c1 to %c16 step %c1 {
    %p = arith.subi %i, %c1 : index
    %x = memref.load %v[%p] : memref<16xf32>
    %y = arith.addf %x, %f : f32
    memref.store %y, %v[%i] : memref<16xf32>
  } loc("scan")
  return
}

// -----

// A scalar read from an input that only the loop uses (Trilu's k) is read
// by each thread, with the arithmetic on it, not by the host.
// CHECK-LABEL: func.func @scalar_input
// CHECK-NOT: memref.load
// CHECK: gpu.launch
// CHECK: %[[K:.*]] = memref.load %{{.*}}[] : memref<i64>
// CHECK: %[[K1:.*]] = arith.addi %[[K]]
// CHECK: arith.cmpi sge, %{{.*}}, %[[K1]]
// CHECK: gpu.terminator
func.func @scalar_input(%x: memref<16xi64>, %k: memref<i64>, %y: memref<16xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1 : i64
  %zero = arith.constant 0 : i64
  %kv = memref.load %k[] : memref<i64>
  %k1 = arith.addi %kv, %one : i64
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %v = memref.load %x[%i] : memref<16xi64>
    %ii = arith.index_cast %i : index to i64
    %keep = arith.cmpi sge, %ii, %k1 : i64
    %r = arith.select %keep, %v, %zero : i64
    memref.store %r, %y[%i] : memref<16xi64>
    scf.reduce
  }
  return
}

// -----

// A 0-d op (a zero point widened into the arena): load, extend and store
// are one single-thread kernel.
// CHECK-LABEL: func.func @zero_d
// CHECK: gpu.launch
// CHECK-NEXT: memref.load
// CHECK-NEXT: arith.extui
// CHECK-NEXT: memref.store
// CHECK-NEXT: gpu.terminator
func.func @zero_d(%zp: memref<i8>, %arena: memref<256xi8>) {
  %c0 = arith.constant 0 : index
  %view = memref.view %arena[%c0][] : memref<256xi8> to memref<i32>
  %v = memref.load %zp[] : memref<i8>
  %w = arith.extui %v : i8 to i32
  memref.store %w, %view[] : memref<i32>
  return
}

// -----

// A fill and the reduction into it, apart only by a view: the view moves
// up, the two nests fuse, and they are one kernel.
// CHECK-LABEL: func.func @fill_then_reduce
// CHECK: memref.expand_shape
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<8xf32>
// CHECK: scf.for
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @fill_then_reduce(%x: memref<64xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %zero, %y[%i] : memref<8xf32>
    scf.reduce
  }
  %x2 = memref.expand_shape %x [[0, 1]] output_shape [8, 8] : memref<64xf32> into memref<8x8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %k = %c0 to %c8 step %c1 {
      %a = memref.load %x2[%i, %k] : memref<8x8xf32>
      %s = memref.load %y[%i] : memref<8xf32>
      %t = arith.addf %s, %a : f32
      memref.store %t, %y[%i] : memref<8xf32>
    }
    scf.reduce
  }
  return
}
