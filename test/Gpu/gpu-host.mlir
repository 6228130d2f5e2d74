// RUN: kiln-opt %s --kiln-gpu-host | FileCheck %s

// The host side of a GPU model after gpu-module-to-binary. The two weights
// go into one blob at multiples of 256 bytes and become views of a new
// argument (the device copy); each launch becomes a kiln_gpu_launch call
// with the kernel's index, the grid and block sizes and one 8-byte word
// per argument (a memref as its aligned pointer, an index as i64); the PTX,
// the kernel names and the blob size become module attributes.

// CHECK: module attributes {kiln.gpu_kernels = ["k0_conv", "k1_relu"], kiln.gpu_ptx = "// PTX of the kernels", kiln.gpu_weights_size = 272 : i64}
// CHECK-NOT: gpu.binary
// CHECK-NOT: memref.global "private" constant @w
// CHECK: func.func private @kiln_gpu_launch(!llvm.ptr, i32, i64, i64, i64, i64, i64, i64, i32, !llvm.ptr)
// CHECK: memref.global "private" constant @kiln_gpu_weights : memref<272xi8> = dense_resource<kiln_gpu_weights> {alignment = 256 : i64}
// CHECK: func.func @main_graph(%[[X:.*]]: memref<64xf32>, %[[Y:.*]]: memref<64xf32>, %[[ARENA:.*]]: memref<256xi8> {kiln.arena}, %[[W:.*]]: memref<272xi8> {kiln.gpu_weights}, %[[CTX:.*]]: !llvm.ptr {kiln.gpu_context})
// CHECK: %[[N:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK: %[[WORDS:.*]] = llvm.alloca %[[N]] x i64
// CHECK: %[[PARAMS:.*]] = llvm.alloca %[[N]] x !llvm.ptr
// CHECK: %[[WORD0:.*]] = llvm.getelementptr %[[WORDS]][0]
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[PARAMS]][0]
// CHECK: llvm.store %[[WORD0]], %[[SLOT0]]
// CHECK: %[[W0:.*]] = memref.view %[[W]][%{{.*}}][] : memref<272xi8> to memref<64xf32>
// CHECK: %[[W1:.*]] = memref.view %[[W]][%{{.*}}][] : memref<272xi8> to memref<4xf32>
// CHECK: %[[P0:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: %[[I0:.*]] = arith.index_cast %[[P0]] : index to i64
// CHECK: %[[AT0:.*]] = llvm.getelementptr %[[WORDS]][0]
// CHECK: llvm.store %[[I0]], %[[AT0]] : i64, !llvm.ptr
// CHECK: memref.extract_aligned_pointer_as_index %[[W0]]
// CHECK: llvm.getelementptr %[[WORDS]][1]
// CHECK: memref.extract_aligned_pointer_as_index %[[W1]]
// CHECK: llvm.getelementptr %[[WORDS]][2]
// CHECK: call @kiln_gpu_launch(%[[CTX]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[PARAMS]])
// CHECK: %[[SUB:.*]] = memref.subview %[[Y]][32] [32] [1]
// CHECK: memref.extract_aligned_pointer_as_index %[[SUB]]
// CHECK: arith.index_cast %{{.*}} : index to i64
// CHECK: llvm.getelementptr %[[WORDS]][1]
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr
// CHECK: call @kiln_gpu_launch
// CHECK-NOT: gpu.launch_func

module attributes {gpu.container_module} {
  memref.global "private" constant @w : memref<64xf32> = dense<1.0> {alignment = 64 : i64}
  memref.global "private" constant @b : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> {alignment = 64 : i64}
  gpu.binary @kiln_kernels [#gpu.object<#nvvm.target<chip = "sm_80">, "// PTX of the kernels">]
  func.func @main_graph(%x: memref<64xf32>, %y: memref<64xf32>, %arena: memref<256xi8> {kiln.arena}) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c32 = arith.constant 32 : index
    %f = arith.constant 0.5 : f32
    %w = memref.get_global @w : memref<64xf32>
    %b = memref.get_global @b : memref<4xf32>
    gpu.launch_func @kiln_kernels::@k0_conv blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%x : memref<64xf32>, %w : memref<64xf32>, %b : memref<4xf32>)
    %sub = memref.subview %y[32] [32] [1] : memref<64xf32> to memref<32xf32, strided<[1], offset: 32>>
    gpu.launch_func @kiln_kernels::@k1_relu blocks in (%c1, %c1, %c1) threads in (%c32, %c1, %c1) args(%c32 : index, %sub : memref<32xf32, strided<[1], offset: 32>>, %f : f32)
    return
  }
}
