// A GPU model as an executable, libraries and an object, built with no CUDA
// toolkit: host code for this machine that loads the CUDA driver when it
// runs. Where there is no driver (as here: KILN_CUDA_DRIVER names a file
// that does not exist) a run fails with one line and writes nothing.

// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda -o %t/tinynet
// RUN: %t/tinynet --info | FileCheck %s --check-prefix=INFO
// INFO: abi_version: 6
// INFO: arena: 15616 bytes of GPU memory (align 256)
// INFO: device: NVIDIA GPU (CUDA)

// RUN: not env KILN_CUDA_DRIVER=%t/no-such-libcuda.so.1 %t/tinynet %S/../../examples/tinynet/input_0.pb --output-dir %t/out 2> %t/err.txt
// RUN: FileCheck %s --check-prefix=NODRIVER --input-file=%t/err.txt
// RUN: count 1 < %t/err.txt
// RUN: not test -e %t/out
// NODRIVER: error: model 'model' failed: cannot load the CUDA driver ({{.*}}no-such-libcuda.so.1): {{.*}}; is the NVIDIA driver installed?

// The libraries get the header, which says where the model runs.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda -o %t/libtinynet.so
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda -o %t/libtinynet.a
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda -o %t/tinynet.o
// RUN: FileCheck %s --check-prefix=HEADER --input-file=%t/tinynet.h
// HEADER: #define MODEL_ARENA_SIZE 15616u
// HEADER: #define MODEL_ARENA_ALIGN 256u
// HEADER: Runs the model on an NVIDIA GPU
// HEADER: int32_t model_run(const void *const *inputs, void *const *outputs, void *arena);

// The host code: P_run hands the model (PTX, kernel names, weights, the
// graph's arena, SM) to the runtime; the graph launches kernels by index.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=nvptx64-nvidia-cuda --compile-to=llvm-ir | FileCheck %s --check-prefix=IR
// IR-DAG: @model_kernel_name0 = private unnamed_addr constant [8 x i8] c"k0_conv\00"
// IR-DAG: @model_ptx = private unnamed_addr constant {{.*}}.target sm_80
// IR-DAG: @model_gpu_model = internal constant {{.*}} { ptr @model_ptx, i32 9, ptr @model_kernel_names, ptr @kiln_gpu_weights, i64 1568, i64 12288, ptr @model_info, ptr @model_gpu_graph, ptr @model_gpu_state, i32 80, i64 -1 }
// IR-DAG: define i32 @model_run(ptr {{.*}}, ptr {{.*}}, ptr {{.*}})
// IR-DAG: call i32 @kiln_gpu_run(ptr {{.*}}@model_gpu_model, ptr
// IR-DAG: call void @kiln_gpu_launch(ptr %{{.*}}, i32 8, i64 1, i64 1, i64 1, i64 5, i64 1, i64 1, i32 0, ptr
