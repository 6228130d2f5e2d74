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
// SAME: output_2 520x1030 agree
// SAME: output_3 40x48 agree

// The kernels in PTX: one per contraction, and nothing else but
// MatMulInteger's zero points. The 3x3 convolution is one contraction over
// its windows (no im2col buffer on the GPU) whose kernel pads the input
// itself: it reads x where the window is inside it and takes 0 elsewhere,
// with no padded buffer to fill and copy; its sums start at the bias. Its
// 24 x 400 output makes few 64 x 64 tiles, so its blocks of 16 x 16
// threads take 32 x 32 each: two 2 KiB tiles in shared memory, filled from
// global memory and read back between two barriers per step of k, and
// each thread 2 x 2 sums in registers, fused multiply-adds.
// RUN: kiln compile %t/model.onnx --target=nvptx64-nvidia-cuda -o %t/model.ptx
// RUN: FileCheck %s --input-file=%t/model.ptx
// CHECK: .visible .entry k0_Conv_0(
// CHECK: .maxntid 16, 16, 1
// CHECK: .shared .align 4 .b8 __wg_k0_Conv_0_0[2048];
// CHECK: .shared .align 4 .b8 __wg_k0_Conv_0_1[2048];
// CHECK: ld.global
// CHECK: st.shared.b32
// CHECK: bar.sync 0;
// CHECK: ld.shared.b32
// CHECK-COUNT-4: fma.rn.f32
// CHECK-NOT: fma.rn.f32
// CHECK: bar.sync 0;
// CHECK: st.global.b32
// The 1x1 convolution computes the ReLU before it as it loads (max.NaN.f32).
// CHECK: .visible .entry k1_Conv_2(
// CHECK: max.NaN.f32
// CHECK: bar.sync 0;
// The Gemm's 520 x 1030 makes 153 tiles of 64 x 64: 4 KiB tiles, and all
// 16 sums of a thread in use.
// CHECK: .visible .entry k6_Gemm_6(
// CHECK: .maxntid 16, 16, 1
// CHECK: .shared .align 4 .b8 __wg_k6_Gemm_6_0[4096];
// CHECK: bar.sync 0;
// CHECK-COUNT-16: fma.rn.f32
// CHECK-NOT: fma.rn.f32
// CHECK: bar.sync 0;
// The integer one, on the operands less their zero points (i32).
// CHECK: .entry k{{[0-9]+}}_MatMulInteger_7(
// CHECK: .maxntid 16, 16, 1
// CHECK: .shared .align 4 .b8 __wg_k{{[0-9]+}}_MatMulInteger_7_0[2048];
// CHECK: bar.sync 0;
// CHECK: mad.lo.s32
// CHECK-NOT: .entry
