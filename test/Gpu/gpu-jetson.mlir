// REQUIRES: qemu-aarch64
// The Jetson Orin (sm_87) runs its host code on Arm cores: the GPU model's
// executable is for aarch64 Linux. Run here under qemu-aarch64, with its
// kernels emulated by the aarch64 build of the fake CUDA driver.

// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_87 --gpu-emulate -o %t/jetson
// RUN: env KILN_CUDA_DRIVER=%fake_cuda_aarch64 qemu-aarch64 -L /usr/aarch64-linux-gnu %t/jetson %S/../../examples/tinynet/input_0.pb --output-dir %t/out
// RUN: test -s %t/out/output_0.pb
// Kernels that wait at barriers (shared-memory tiles) run there too, their
// threads as fibers of the aarch64 fake driver: the outputs agree with the
// host CPU build's.
// RUN: mkdir -p %t/c && %python %S/Inputs/contractions.py make %t/c
// RUN: kiln compile %t/c/model.onnx -o %t/c/cpu
// RUN: kiln compile %t/c/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_87 --gpu-emulate -o %t/c/jetson
// RUN: %t/c/cpu %t/c/input_0.pb %t/c/input_1.pb %t/c/input_2.pb %t/c/input_3.pb --output-dir %t/c/out-cpu
// RUN: env KILN_CUDA_DRIVER=%fake_cuda_aarch64 qemu-aarch64 -L /usr/aarch64-linux-gnu %t/c/jetson %t/c/input_0.pb %t/c/input_1.pb %t/c/input_2.pb %t/c/input_3.pb --output-dir %t/c/out-jetson
// RUN: %python %S/Inputs/contractions.py compare %t/c/out-cpu %t/c/out-jetson | FileCheck %s --check-prefix=SAME
// SAME-COUNT-4: agree
// RUN: qemu-aarch64 -L /usr/aarch64-linux-gnu %t/jetson --info | FileCheck %s --check-prefix=INFO
// INFO: device: NVIDIA GPU (CUDA)

// The default host follows the SM; --gpu-host chooses another.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_87 --compile-to=llvm-ir | FileCheck %s --check-prefix=ARM
// ARM: target triple = "aarch64
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_80 --gpu-host=aarch64-linux-gnu --compile-to=llvm-ir | FileCheck %s --check-prefix=ARM
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --cpu=sm_87 --gpu-host=x86_64-linux-gnu --compile-to=llvm-ir | FileCheck %s --check-prefix=X86
// X86: target triple = "x86_64

// RUN: not kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --gpu-host=thumbv7em-none-eabihf -o %t/bad 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: --gpu-host thumbv7em-none-eabihf: the host code of a GPU model is for a 64-bit Linux target (x86_64-linux-gnu, aarch64-linux-gnu)
// RUN: not kiln compile %S/../../examples/tinynet/model.onnx --gpu-host=aarch64-linux-gnu -o %t/cpu 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: --gpu-host is for GPU targets (--target=nvptx64-nvidia-cuda)
