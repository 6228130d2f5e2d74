// Matmuls and convolutions as shared-memory tiled kernels
// (kiln-gpu-tile-contractions), end to end: a model of two convolutions, a
// MatMul, a batched MatMul, a Gemm with a transposed B and a MatMulInteger
// with zero points, at sizes that are no multiples of the tiles. Run with
// the fake CUDA driver (the blocks' threads as fibers that meet at each
// barrier, workgroup memory as host memory), its outputs agree with the
// CPU build's.

// RUN: rm -rf %t && %python %S/Inputs/contractions.py make %t
// RUN: kiln compile %t/model.onnx -o %t/cpu
// RUN: kiln compile %t/model.onnx --target=nvptx64-nvidia-cuda --gpu-emulate -o %t/gpu
// RUN: %t/cpu %t/input_0.pb %t/input_1.pb %t/input_2.pb %t/input_3.pb --output-dir %t/out-cpu
// RUN: env KILN_CUDA_DRIVER=%fake_cuda %t/gpu %t/input_0.pb %t/input_1.pb %t/input_2.pb %t/input_3.pb --output-dir %t/out-gpu
// RUN: %python %S/Inputs/contractions.py compare %t/out-cpu %t/out-gpu | FileCheck %s --check-prefix=SAME
// SAME: output_0 20x70 agree
// SAME: output_1 3x33x72 agree
// SAME: output_2 50x100 agree
// SAME: output_3 40x48 agree

// The kernels in PTX: the 3x3 convolution's is one block of 16 x 16
// threads per 64 x 64 tile, two 4 KiB tiles in shared memory, filled from
// global memory and read back between two barriers per step of k, the sums
// in registers (fused multiply-adds). Its 24 filters make 24 rows: the
// threads' third and fourth rows are never in range, and LLVM drops them
// (8 sums per thread).
// RUN: kiln compile %t/model.onnx --target=nvptx64-nvidia-cuda -o %t/model.ptx
// RUN: FileCheck %s --input-file=%t/model.ptx
// CHECK: .visible .entry k5_Conv_0(
// CHECK: .maxntid 16, 16, 1
// CHECK: .shared .align 4 .b8 __wg_k5_Conv_0_0[4096];
// CHECK: .shared .align 4 .b8 __wg_k5_Conv_0_1[4096];
// CHECK: ld.global
// CHECK: st.shared.b32
// CHECK: bar.sync 0;
// CHECK: ld.shared.b32
// CHECK-COUNT-8: fma.rn.f32
// CHECK-NOT: fma.rn.f32
// CHECK: bar.sync 0;
// CHECK: st.global.b32
// CHECK: .visible .entry k6_Relu_1(
// The Gemm's 50 x 100: all 16 sums of a thread in use.
// CHECK: .visible .entry k13_Gemm_6(
// CHECK: .maxntid 16, 16, 1
// CHECK: bar.sync 0;
// CHECK-COUNT-16: fma.rn.f32
// CHECK-NOT: fma.rn.f32
// CHECK: bar.sync 0;
// The integer one, on the operands less their zero points (i32).
// CHECK: .entry k{{[0-9]+}}_MatMulInteger_7(
// CHECK: .maxntid 16, 16, 1
// CHECK: .shared .align 4 .b8 __wg_k{{[0-9]+}}_MatMulInteger_7_0[4096];
// CHECK: bar.sync 0;
// CHECK: mad.lo.s32
