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
// CHECK: llvm.mlir.global internal constant @kiln_gpu_emu_image() {{.*}} : !llvm.struct<(array<8 x i8>, i64, array<1 x struct<(ptr, ptr)>>)>
// CHECK: llvm.mlir.addressof @kiln_emu_name0
// CHECK: llvm.mlir.addressof @kiln_emu_k0_scale_entry

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

// Threads that wait for one another cannot run one after the other.
module attributes {gpu.container_module} {
  gpu.module @kiln_kernels {
    llvm.func @k0_sync() attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @below {{a kernel with 'nvvm.barrier' cannot be emulated one thread at a time}}
      nvvm.barrier
      llvm.return
    }
  }
}
