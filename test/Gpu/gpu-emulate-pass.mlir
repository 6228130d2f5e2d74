// RUN: kiln-opt %s --split-input-file --verify-diagnostics --kiln-gpu-emulate | FileCheck %s

// Each kernel becomes a host function that reads its thread and block ids
// from one more argument (tid, ntid, ctaid, nctaid; x, y, z), plus an entry
// that unpacks cuLaunchKernel's parameters; the image names them for the
// fake driver, and an empty gpu.binary keeps the launches valid.

// CHECK: module attributes {gpu.container_module, kiln.gpu_emulated}
// CHECK: gpu.binary @kiln_kernels  [#gpu.object<#nvvm.target, assembly = "">]
// CHECK-NOT: gpu.module
// CHECK: llvm.func internal @kiln_emu_k0_scale(%[[P:.*]]: !llvm.ptr, %[[N:.*]]: i64, %[[IDS:.*]]: !llvm.ptr)
// CHECK: %[[AT0:.*]] = llvm.getelementptr %[[IDS]][0] : (!llvm.ptr) -> !llvm.ptr, i32
// CHECK: llvm.load %[[AT0]] : !llvm.ptr -> i32
// CHECK: %[[AT6:.*]] = llvm.getelementptr %[[IDS]][6] : (!llvm.ptr) -> !llvm.ptr, i32
// CHECK: llvm.load %[[AT6]] : !llvm.ptr -> i32
// CHECK: %[[AT3:.*]] = llvm.getelementptr %[[IDS]][3] : (!llvm.ptr) -> !llvm.ptr, i32
// CHECK: llvm.load %[[AT3]] : !llvm.ptr -> i32
// CHECK-NOT: nvvm.read
// CHECK: llvm.func internal @kiln_emu_k0_scale_entry(%[[PARAMS:.*]]: !llvm.ptr, %[[IDS2:.*]]: !llvm.ptr)
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[PARAMS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[W0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[A0:.*]] = llvm.load %[[W0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[PARAMS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[W1:.*]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[A1:.*]] = llvm.load %[[W1]] : !llvm.ptr -> i64
// CHECK: llvm.call @kiln_emu_k0_scale(%[[A0]], %[[A1]], %[[IDS2]])
// CHECK: llvm.mlir.global private constant @kiln_emu_name0("k0_scale\00")
// CHECK: llvm.mlir.global internal constant @kiln_gpu_emu_image() {{.*}} : !llvm.struct<(array<8 x i8>, i64, array<1 x struct<(ptr, ptr, i64)>>)>
// CHECK: llvm.mlir.addressof @kiln_emu_name0
// CHECK: llvm.mlir.addressof @kiln_emu_k0_scale_entry
// CHECK: %[[FLAGS:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.insertvalue %[[FLAGS]], %{{.*}}[2, 0, 2]

module attributes {gpu.container_module} {
  func.func @main_graph(%x: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kiln_kernels::@k0_scale blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%x : memref<64xf32>, %c64 : index)
    return
  }
  gpu.module @kiln_kernels {
    llvm.func @k0_scale(%p: !llvm.ptr, %n: i64) attributes {gpu.kernel, nvvm.kernel} {
      %t = nvvm.read.ptx.sreg.tid.x : i32
      %b = nvvm.read.ptx.sreg.ctaid.x : i32
      %d = nvvm.read.ptx.sreg.ntid.x : i32
      %bd = llvm.mul %b, %d : i32
      %i32 = llvm.add %bd, %t : i32
      %i = llvm.zext %i32 : i32 to i64
      %in = llvm.icmp "ult" %i, %n : i64
      llvm.cond_br %in, ^body, ^end
    ^body:
      %a = llvm.getelementptr %p[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
      %v = llvm.load %a : !llvm.ptr -> f32
      %w = llvm.fadd %v, %v : f32
      llvm.store %w, %a : f32, !llvm.ptr
      llvm.br ^end
    ^end:
      llvm.return
    }
  }
}

// -----

// Workgroup memory becomes a zeroed host global, which the blocks share
// (the driver runs one after the other), its pointers host pointers; a
// barrier calls the function at byte 48 of the ids block (the driver's:
// back to its scheduler of the block's fibers), and the kernel's flags say
// that it waits (1).
// CHECK: llvm.mlir.global internal @kiln_emu___wg_k0_tile_0() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<256 x f32> {
// CHECK-NEXT: llvm.mlir.zero : !llvm.array<256 x f32>
// CHECK: llvm.func internal @kiln_emu_k0_tile(%[[P:.*]]: !llvm.ptr, %[[IDS:.*]]: !llvm.ptr)
// CHECK: %[[T:.*]] = llvm.mlir.addressof @kiln_emu___wg_k0_tile_0 : !llvm.ptr
// CHECK: %[[AT:.*]] = llvm.getelementptr %[[T]][%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: llvm.store %{{.*}}, %[[AT]] : f32, !llvm.ptr
// CHECK: %[[SLOT:.*]] = llvm.getelementptr %[[IDS]][48] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: %[[WAIT:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call %[[WAIT]]() : !llvm.ptr, () -> ()
// CHECK-NOT: nvvm.barrier
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK: llvm.mlir.addressof @kiln_emu_k0_tile_entry
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: llvm.insertvalue %[[ONE]], %{{.*}}[2, 0, 2]
module attributes {gpu.container_module} {
  gpu.module @kiln_kernels {
    llvm.mlir.global internal @__wg_k0_tile_0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<256 x f32>
    llvm.func @k0_tile(%p: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      %t = nvvm.read.ptx.sreg.tid.x : i32
      %i = llvm.zext %t : i32 to i64
      %g = llvm.getelementptr %p[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
      %v = llvm.load %g : !llvm.ptr -> f32
      %tile = llvm.mlir.addressof @__wg_k0_tile_0 : !llvm.ptr<3>
      %s = llvm.getelementptr %tile[%i] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
      llvm.store %v, %s : f32, !llvm.ptr<3>
      nvvm.barrier0
      %c255 = llvm.mlir.constant(255 : i64) : i64
      %j = llvm.sub %c255, %i : i64
      %r = llvm.getelementptr %tile[%j] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
      %w = llvm.load %r : !llvm.ptr<3> -> f32
      llvm.store %w, %g : f32, !llvm.ptr
      llvm.return
    }
  }
}

// -----

// Other NVVM ops (the lane id, shuffles, votes) are refused.
module attributes {gpu.container_module} {
  gpu.module @kiln_kernels {
    llvm.func @k0_lane() attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @below {{a kernel with 'nvvm.read.ptx.sreg.laneid' cannot be emulated}}
      %l = nvvm.read.ptx.sreg.laneid : i32
      llvm.return
    }
  }
}
