// Checks made while a GPU model runs (here a Gather's indices, read at run
// time) write their status in the device arena: kiln-plan-arena places the
// status slot there (status-in-arena), kiln-map-to-gpu makes main_graph
// return 0 and records the slot's offset, and the runtime copies the
// status back after the run. An index out of range fails the run with
// status 10 and writes no output, as on the CPU; indices in range run.

// RUN: rm -rf %t && mkdir -p %t && %python %S/Inputs/gather.py %t
// RUN: kiln compile %t/model.onnx --target=nvptx64-nvidia-cuda --gpu-emulate -o %t/gpu
// RUN: env KILN_CUDA_DRIVER=%fake_cuda %t/gpu %t/x.npy %t/i_ok.npy --output-dir %t/ok
// RUN: test -s %t/ok/output_0.pb
// RUN: not env KILN_CUDA_DRIVER=%fake_cuda %t/gpu %t/x.npy %t/i_bad.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: model 'model' failed: an index or sequence position out of range, or an empty optional read (status 10)
// RUN: not test -e %t/bad

// The slot is the arena's first bytes (offset 0, the model's last field),
// written by the kernels only: main_graph returns 0.
// RUN: kiln compile %t/model.onnx --target=nvptx64-nvidia-cuda --compile-to=llvm-ir | FileCheck %s --check-prefix=IR
// IR: @model_gpu_model = internal constant {{.*}} { ptr @model_ptx, i32 {{[0-9]+}}, {{.*}}, i32 80, i64 0 }
// RUN: kiln compile %t/model.onnx --target=nvptx64-nvidia-cuda --compile-to=llvm | FileCheck %s --check-prefix=GRAPH
// GRAPH: func.func @main_graph({{.*}}) -> i32 attributes {{{.*}}kiln.gpu_status_offset = 0 : i64}
// GRAPH: %[[ZERO:.*]] = arith.constant 0 : i32
// GRAPH: %[[SLOT:.*]] = memref.view %arg3[%c0][] {kiln.status} : memref<512xi8> to memref<i32>
// GRAPH: gpu.launch_func @kiln_kernels::@k0 {{.*}} args(%[[SLOT]] : memref<i32>,
// GRAPH-NOT: memref.load
// GRAPH: return %[[ZERO]] : i32
