// NVIDIA GPUs without a GPU or a CUDA toolkit: the example model's kernels
// as PTX text for the SM asked for, each named after its ONNX node, with
// its block size as launch bounds, and nothing external (no libdevice, no
// host functions).

// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_90 -o %t.ptx
// RUN: FileCheck %s --input-file=%t.ptx --implicit-check-not=.extern
// CHECK: .target sm_90
// CHECK: .address_size 64
// CHECK: .visible .entry k0_conv(
// CHECK: .maxntid 54, 1, 1
// CHECK: .visible .entry k2_conv(
// CHECK: .maxntid 256, 1, 1
// The convolution proper, over the padded input's windows (no im2col
// buffer on the GPU), too small for shared-memory tiles (8 filters): one
// thread per output element, which writes the bias, then sums the 27
// products in a register with fused multiply-adds (kiln-hoist-accumulators,
// kiln-gpu-contract) and writes the sum.
// CHECK: .visible .entry k3_conv(
// CHECK-NOT: .shared
// CHECK: st.global.b32
// CHECK-COUNT-27: fma.rn.f32
// CHECK-NOT: .entry
// CHECK: st.global.b32
// CHECK-NOT: st.global
// CHECK: ret;
// CHECK: .visible .entry k7_softmax(

// The default SM is sm_80; -o NAME.ptx chooses --emit=ptx.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda -o %t.80.ptx
// RUN: FileCheck %s --input-file=%t.80.ptx --check-prefix=SM80
// SM80: .target sm_80

// The kernels, in the NVVM dialect: one gpu.module, and no calls.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --compile-to=llvm | FileCheck %s --check-prefix=NVVM
// NVVM: gpu.launch_func @kiln_kernels::@k0_conv
// NVVM: gpu.module @kiln_kernels [#nvvm.target<chip = "sm_80">] {
// NVVM-NOT: gpu.module
// NVVM-NOT: llvm.call
// NVVM: llvm.func @k0_conv({{.*}}nvvm.kernel, nvvm.maxntid = array<i32: 54, 1, 1>

// Refused: --emit=ptx for a CPU, an unknown SM.
// RUN: not kiln compile %S/../../examples/tinynet/model.onnx --emit=ptx -o %t.host.ptx 2>&1 | FileCheck %s --check-prefix=HOST
// HOST: error: --emit=ptx is for GPU targets (--target=nvptx64-nvidia-cuda)
// RUN: not kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_1000 -o %t.bad.ptx 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: unknown CPU 'sm_1000' for target 'nvptx64-nvidia-cuda' (for example: sm_80 (A100)
