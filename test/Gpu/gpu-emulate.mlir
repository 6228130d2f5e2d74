// A GPU model run without a GPU: --gpu-emulate compiles its kernels for the
// host, and the tests' fake CUDA driver (%fake_cuda) runs them one thread
// at a time. The same driver plays the failures a machine can have; each
// is one line, and no output is written.

// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --gpu-emulate -o %t/emulated
// RUN: env KILN_CUDA_DRIVER=%fake_cuda %t/emulated %S/../../examples/tinynet/input_0.pb --output-dir %t/out
// RUN: test -s %t/out/output_0.pb

// RUN: not env KILN_CUDA_DRIVER=%fake_cuda KILN_FAKE_CUDA=no-device %t/emulated %S/../../examples/tinynet/input_0.pb --output-dir %t/out1 2> %t/err1.txt
// RUN: FileCheck %s --check-prefix=NODEVICE --input-file=%t/err1.txt
// NODEVICE: error: model 'model' failed: no usable NVIDIA GPU (cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected)
// RUN: not env KILN_CUDA_DRIVER=%fake_cuda KILN_FAKE_CUDA=sm_75 %t/emulated %S/../../examples/tinynet/input_0.pb --output-dir %t/out2 2> %t/err2.txt
// RUN: FileCheck %s --check-prefix=OLDGPU --input-file=%t/err2.txt
// OLDGPU: error: model 'model' failed: GPU 0 (Kiln fake GPU) has compute capability 7.5; model 'model' was compiled for sm_80 and newer
// RUN: not env KILN_CUDA_DRIVER=%fake_cuda KILN_FAKE_CUDA=launch-fails %t/emulated %S/../../examples/tinynet/input_0.pb --output-dir %t/out3 2> %t/err3.txt
// RUN: FileCheck %s --check-prefix=LAUNCH --input-file=%t/err3.txt
// LAUNCH: error: model 'model' failed: launching kernel k0_conv of model 'model': CUDA_ERROR_LAUNCH_FAILED: unspecified launch failure
// RUN: cat %t/err1.txt %t/err2.txt %t/err3.txt | count 3
// RUN: not test -e %t/out1
// RUN: not test -e %t/out2
// RUN: not test -e %t/out3

// A real GPU build hands the driver PTX, which the fake one cannot run.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda -o %t/real
// RUN: not env KILN_CUDA_DRIVER=%fake_cuda %t/real %S/../../examples/tinynet/input_0.pb --output-dir %t/out4 2>&1 | FileCheck %s --check-prefix=PTX
// PTX: error: model 'model' failed: the CUDA driver cannot load model 'model' on GPU 0 (Kiln fake GPU): CUDA_ERROR_INVALID_IMAGE: device kernel image is invalid: the fake CUDA driver runs --gpu-emulate images only, not PTX

// RUN: not kiln compile %S/../../examples/tinynet/model.onnx --gpu-emulate -o %t/cpu 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: --gpu-emulate is for GPU targets (--target=nvptx64-nvidia-cuda)
// RUN: not kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --gpu-emulate -o %t/k.ptx 2>&1 | FileCheck %s --check-prefix=NOPTX
// NOPTX: error: --gpu-emulate writes no PTX
