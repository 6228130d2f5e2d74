// RUN: kiln-opt %s --kiln-gpu-tile-contractions -canonicalize -cse -split-input-file | FileCheck %s

// A 100x70 by 70x130 matmul after a fill. At 64 x 64 per block it would be
// 6 blocks, too few to fill a GPU: 32 x 32 per block instead (5 x 4
// blocks of 16 x 16 threads, 2 x 2 sums each). Tiles of A and B in
// workgroup memory, the sums starting at the fill's value (the fill is
// gone). A's tile is loaded with k fastest (its rows are contiguous in k),
// B's with n fastest, 2 elements per thread each, only where in range
// (100, 130 and 70 are no multiples of 32 and 16), and the last k step is
// a partial one.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: gpu.launch blocks(%[[BX:[^,]*]], %[[BY:[^,]*]], %{{[^)]*}}) in (%{{[^ ]*}} = %c5, %{{[^ ]*}} = %c4, %{{[^ ]*}} = %c1) threads(%[[TX:[^,]*]], %[[TY:[^,]*]], %{{[^)]*}}) in (%{{[^ ]*}} = %c16, %{{[^ ]*}} = %c16, %{{[^ ]*}} = %c1) module(@kiln_kernels) function(@tiled0) workgroup(%[[AS:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>>) {
// CHECK: %[[T:.*]] = arith.addi %{{.*}}, %[[TX]] : index
// CHECK: scf.for %[[K0:.*]] = %c0 to %c70 step %c16 iter_args(%{{[^ ]*}} = %[[ZERO]], {{.*}}) -> (f32, f32, f32, f32)
// CHECK: %[[KK:.*]] = arith.remui %[[T]], %c16
// CHECK: %[[R:.*]] = arith.divui %[[T]], %c16
// CHECK: %[[ROW:.*]] = arith.addi %{{.*}}, %[[R]]
// CHECK: %[[K:.*]] = arith.addi %[[K0]], %[[KK]]
// CHECK: arith.cmpi ult, %[[ROW]], %c100
// CHECK: arith.cmpi ult, %[[K]], %c70
// CHECK: scf.if
// CHECK-NEXT: %[[V:.*]] = memref.load %arg0[%[[ROW]], %[[K]]] : memref<100x70xf32>
// CHECK-NEXT: memref.store %[[V]], %[[AS]][%[[KK]], %[[R]]]
// CHECK: arith.addi %[[T]], %c256
// CHECK: memref.store %{{.*}}, %[[AS]]
// CHECK: arith.remui %[[T]], %c32
// CHECK: memref.load %arg1[
// CHECK: memref.store %{{.*}}, %[[BS]]
// CHECK: gpu.barrier
// CHECK: %[[LEFT:.*]] = arith.subi %c70, %[[K0]]
// CHECK: %[[STEPS:.*]] = arith.minui %[[LEFT]], %c16
// CHECK: scf.for %[[I:.*]] = %c0 to %[[STEPS]] step %c1
// CHECK: %[[A0:.*]] = memref.load %[[AS]][%[[I]], %[[TY]]]
// CHECK: %[[B0:.*]] = memref.load %[[BS]][%[[I]], %[[TX]]]
// CHECK-COUNT-4: arith.mulf
// CHECK-NOT: arith.mulf
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}] : memref<100x130xf32>
// CHECK-COUNT-3: memref.store %{{.*}}, %arg2
// CHECK: gpu.terminator
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<100x70xf32>, %b: memref<70x130xf32>, %c: memref<100x130xf32>) {
  %cst = arith.constant 0.0 : f32
  linalg.fill ins(%cst : f32) outs(%c : memref<100x130xf32>)
  linalg.matmul ins(%a, %b : memref<100x70xf32>, memref<70x130xf32>) outs(%c : memref<100x130xf32>)
  return
}

// -----

// A batched integer matmul (MatMulInteger): the batch is the grid's z, the
// payload's casts and zero point come along into the inner loop, and with
// no fill the sums start from C. Every size is a multiple of the tiles'
// (32 x 32 here): no bound checks, and full k steps.
// CHECK-LABEL: func.func @batched_int
// CHECK: %[[Z:.*]] = arith.extsi
// CHECK: gpu.launch blocks(%{{[^,]*}}, %{{[^,]*}}, %[[BZ:[^)]*]]) in (%{{[^ ]*}} = %c4, %{{[^ ]*}} = %c2, %{{[^ ]*}} = %c3) {{.*}} workgroup(%[[AS:.*]] : memref<16x32xi8, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x32xi8, #gpu.address_space<workgroup>>)
// CHECK-NOT: scf.if
// CHECK-COUNT-4: memref.load %arg2[%[[BZ]], %{{.*}}, %{{.*}}] : memref<3x64x128xi32>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16
// CHECK: memref.load %arg0[%[[BZ]], %{{.*}}, %{{.*}}] : memref<3x64x32xi8>
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c1
// CHECK: %[[X:.*]] = memref.load %[[AS]]
// CHECK: %[[XE:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK: %[[XS:.*]] = arith.subi %[[XE]], %[[Z]] : i32
// CHECK: arith.muli %[[XS]]
// CHECK: arith.addi
// CHECK-NOT: scf.if
// CHECK-COUNT-4: memref.store %{{.*}}, %arg2[%[[BZ]], %{{.*}}, %{{.*}}] : memref<3x64x128xi32>
func.func @batched_int(%a: memref<3x64x32xi8>, %b: memref<3x32x128xi8>, %c: memref<3x64x128xi32>, %za: memref<i8>) {
  %zp = memref.load %za[] : memref<i8>
  %z = arith.extsi %zp : i8 to i32
  linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : memref<3x64x32xi8>, memref<3x32x128xi8>) outs(%c : memref<3x64x128xi32>) {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %xe = arith.extsi %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %xs = arith.subi %xe, %z : i32
    %p = arith.muli %xs, %ye : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// A convolution as the GPU lowering gives it: the input's windows gathered
// into an im2col buffer, then the weights (64 filters of 3x7x7) times that
// buffer, out[f, p] for 112x112 positions p. The rows are the filters
// (grid y: 1), the columns the 12,544 positions (grid x: 196 blocks of
// 64 x 64) and k the 147 products of a window, flattened: each index comes
// back from a flat one by division. The weights' tile is loaded with k
// fastest, the windows' with the positions fastest, and straight from the
// input: the gather (used by the product alone) is gone, and with it a
// kernel and the buffer's traffic.
// CHECK-LABEL: func.func @conv_im2col
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]*}} = %c196, %{{[^ ]*}} = %c1, %{{[^ ]*}} = %c1) {{.*}} workgroup(%{{.*}} : memref<16x64xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x64xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %c0 to %c147 step %c16
// CHECK: arith.remui %{{.*}}, %c16
// CHECK: arith.remui %{{.*}}, %c7
// CHECK: memref.load %arg0[%c0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x64x3x7x7xf32>
// CHECK: arith.remui %{{.*}}, %c64
// CHECK: %[[OW:.*]] = arith.remui %{{.*}}, %c112
// CHECK: %[[OH:.*]] = arith.divui %{{.*}}, %c112
// CHECK: %[[KW:.*]] = arith.remui %{{.*}}, %c7
// CHECK: %[[KH:.*]] = arith.remui %{{.*}}, %c7
// CHECK: %[[C:.*]] = arith.divui %{{.*}}, %c7
// CHECK: %[[H:.*]] = affine.apply #{{.*}}(%[[KH]])[%[[OH]]]
// CHECK: %[[W:.*]] = affine.apply #{{.*}}(%[[KW]])[%[[OW]]]
// CHECK: memref.load %arg1[%c0, %[[C]], %[[H]], %[[W]]] : memref<1x3x229x229xf32>
// CHECK: gpu.barrier
// CHECK-NOT: linalg.generic
func.func @conv_im2col(%w: memref<1x64x3x7x7xf32>, %x: memref<1x3x229x229xf32>, %out: memref<1x64x112x112xf32>, %cols: memref<3x7x7x112x112xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d3 * 2 + d1, d4 * 2 + d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<1x3x229x229xf32>) outs(%cols : memref<3x7x7x112x112xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d4, d5, d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d2, d3)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%w, %cols : memref<1x64x3x7x7xf32>, memref<3x7x7x112x112xf32>) outs(%out : memref<1x64x112x112xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution's padded input (kiln-decompose-pads: the border strips
// filled with 0, the interior written by a ReLU): the kernel computes each
// element itself as it loads it, 0 outside the interior and the ReLU of
// the input inside, and the padded buffer, its fills and the ReLU are gone.
// CHECK-LABEL: func.func @padded
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK: %[[H:.*]] = affine.apply
// CHECK: %[[W:.*]] = affine.apply
// CHECK-DAG: %[[H0:.*]] = arith.cmpi uge, %[[H]], %c1
// CHECK-DAG: %[[H1:.*]] = arith.cmpi ult, %[[H]], %c21
// CHECK-DAG: %[[W0:.*]] = arith.cmpi uge, %[[W]], %c1
// CHECK-DAG: %[[W1:.*]] = arith.cmpi ult, %[[W]], %c21
// CHECK: %[[IN:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK: %[[X:.*]] = memref.load %arg0[%c0, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x16x20x20xf32>
// CHECK: %[[R:.*]] = arith.maximumf %[[X]], %{{.*}} : f32
// CHECK: scf.yield %[[R]] : f32
// CHECK: } else {
// CHECK: scf.yield %{{.*}} : f32
// CHECK: memref.store %[[IN]], %{{.*}} : memref<16x32xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: linalg.
func.func @padded(%x: memref<1x16x20x20xf32>, %w: memref<1x32x16x3x3xf32>, %out: memref<1x1x32x20x20xf32>) {
  %cst = arith.constant 0.0 : f32
  %pad = memref.alloc() : memref<1x16x22x22xf32>
  %s0 = memref.subview %pad[0, 0, 0, 0] [1, 16, 1, 22] [1, 1, 1, 1] : memref<1x16x22x22xf32> to memref<1x16x1x22xf32, strided<[7744, 484, 22, 1]>>
  linalg.fill ins(%cst : f32) outs(%s0 : memref<1x16x1x22xf32, strided<[7744, 484, 22, 1]>>)
  %s1 = memref.subview %pad[0, 0, 21, 0] [1, 16, 1, 22] [1, 1, 1, 1] : memref<1x16x22x22xf32> to memref<1x16x1x22xf32, strided<[7744, 484, 22, 1], offset: 462>>
  linalg.fill ins(%cst : f32) outs(%s1 : memref<1x16x1x22xf32, strided<[7744, 484, 22, 1], offset: 462>>)
  %s2 = memref.subview %pad[0, 0, 1, 0] [1, 16, 20, 1] [1, 1, 1, 1] : memref<1x16x22x22xf32> to memref<1x16x20x1xf32, strided<[7744, 484, 22, 1], offset: 22>>
  linalg.fill ins(%cst : f32) outs(%s2 : memref<1x16x20x1xf32, strided<[7744, 484, 22, 1], offset: 22>>)
  %s3 = memref.subview %pad[0, 0, 1, 21] [1, 16, 20, 1] [1, 1, 1, 1] : memref<1x16x22x22xf32> to memref<1x16x20x1xf32, strided<[7744, 484, 22, 1], offset: 43>>
  linalg.fill ins(%cst : f32) outs(%s3 : memref<1x16x20x1xf32, strided<[7744, 484, 22, 1], offset: 43>>)
  %s4 = memref.subview %pad[0, 0, 1, 1] [1, 16, 20, 20] [1, 1, 1, 1] : memref<1x16x22x22xf32> to memref<1x16x20x20xf32, strided<[7744, 484, 22, 1], offset: 23>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<1x16x20x20xf32>) outs(%s4 : memref<1x16x20x20xf32, strided<[7744, 484, 22, 1], offset: 23>>) {
  ^bb0(%in: f32, %o: f32):
    %r = arith.maximumf %in, %cst : f32
    linalg.yield %r : f32
  }
  %e = memref.expand_shape %pad [[0], [1, 2], [3], [4]] output_shape [1, 1, 16, 22, 22] : memref<1x16x22x22xf32> into memref<1x1x16x22x22xf32>
  linalg.fill ins(%cst : f32) outs(%out : memref<1x1x32x20x20xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d3, d4 + d6, d5 + d7)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d3, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6, d7)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]} ins(%e, %w : memref<1x1x16x22x22xf32>, memref<1x32x16x3x3xf32>) outs(%out : memref<1x1x32x20x20xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The gather stays where its buffer has another reader, or where something
// between writes its source.
// CHECK-LABEL: func.func @gather_kept
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: memref.load %{{.*}} : memref<64x64xf32>
// CHECK: linalg.generic
// CHECK: linalg.fill
// CHECK: gpu.launch
func.func @gather_kept(%w: memref<64x64xf32>, %x: memref<64x64xf32>, %out: memref<64x64xf32>, %out2: memref<64x64xf32>, %other: memref<64x64xf32>, %cols: memref<64x64xf32>, %cols2: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<64x64xf32>) outs(%cols : memref<64x64xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%w, %cols : memref<64x64xf32>, memref<64x64xf32>) outs(%out : memref<64x64xf32>)
  linalg.copy ins(%cols : memref<64x64xf32>) outs(%other : memref<64x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<64x64xf32>) outs(%cols2 : memref<64x64xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  %cst = arith.constant 1.0 : f32
  linalg.fill ins(%cst : f32) outs(%x : memref<64x64xf32>)
  linalg.matmul ins(%w, %cols2 : memref<64x64xf32>, memref<64x64xf32>) outs(%out2 : memref<64x64xf32>)
  return
}

// -----

// A broadcast into the output just before (a convolution's bias): the sums
// start at its elements, read where the broadcast read them, and the
// broadcast goes.
// CHECK-LABEL: func.func @bias
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks(%{{[^,]*}}, %[[BY:[^,]*]], {{.*}} threads(%{{[^,]*}}, %[[TY:[^,]*]],
// CHECK: %[[M0:.*]] = arith.muli %[[BY]], %c32 : index
// CHECK: %[[ROW:.*]] = arith.addi %[[M0]], %[[TY]] : index
// CHECK: memref.load %arg2[%[[ROW]], %c0] : memref<64x1xf32>
// CHECK: scf.for
// CHECK-NOT: linalg.matmul
func.func @bias(%a: memref<64x32xf32>, %b: memref<32x200xf32>, %bias: memref<64x1xf32>, %c: memref<64x200xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, 0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias : memref<64x1xf32>) outs(%c : memref<64x200xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %b : memref<64x32xf32>, memref<32x200xf32>) outs(%c : memref<64x200xf32>)
  return
}

// -----

// When C's innermost dim is a row of the GEMM (A^T B^T = (BA)^T here), the
// roles swap: consecutive threads still write consecutive addresses.
// CHECK-LABEL: func.func @transposed_out
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]*}} = %c4, %{{[^ ]*}} = %c2, %{{[^ ]*}} = %c1)
// CHECK-SAME: workgroup(%{{.*}} : memref<16x32xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x32xf32, #gpu.address_space<workgroup>>)
func.func @transposed_out(%a: memref<128x32xf32>, %b: memref<32x48xf16>, %c: memref<48x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (n, m)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<128x32xf32>, memref<32x48xf16>) outs(%c : memref<48x128xf32>) {
  ^bb0(%x: f32, %y: f16, %o: f32):
    %ye = arith.extf %y : f16 to f32
    %p = arith.mulf %x, %ye : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Left as they are: a reduction that is no contraction (one input), a
// payload that is not a sum of products into the output (a max), and a
// matmul whose output is one of its inputs' memory. The fill stays.
// CHECK-LABEL: func.func @not_contractions
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.fill
// CHECK: linalg.matmul
func.func @not_contractions(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, k) -> (m, k)>, affine_map<(m, k) -> (m)>], iterator_types = ["parallel", "reduction"]} ins(%a : memref<64x64xf32>) outs(%c : memref<64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %o, %x : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, k) -> (m, k)>, affine_map<(m, k) -> (m, k)>, affine_map<(m, k) -> (m)>], iterator_types = ["parallel", "reduction"]} ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.maximumf %o, %p : f32
    linalg.yield %s : f32
  }
  %cst = arith.constant 0.0 : f32
  linalg.fill ins(%cst : f32) outs(%b : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%b : memref<64x64xf32>)
  return
}
