// RUN: kiln-opt %s --split-input-file --verify-diagnostics --kiln-gpu-host

// A global the host does not treat as constant: the kernels cannot see it.
module attributes {gpu.container_module} {
  memref.global "private" @state : memref<4xi64> = dense<0>
  gpu.binary @kiln_kernels [#gpu.object<#nvvm.target, "ptx">]
  func.func @main_graph(%y: memref<4xi64>) {
    %c1 = arith.constant 1 : index
    // expected-error @below {{a global the host does not treat as constant cannot be used on the GPU}}
    %s = memref.get_global @state : memref<4xi64>
    gpu.launch_func @kiln_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%s : memref<4xi64>, %y : memref<4xi64>)
    return
  }
}

// -----

// Launches outside main_graph.
module attributes {gpu.container_module} {
  gpu.binary @kiln_kernels [#gpu.object<#nvvm.target, "ptx">]
  // expected-error @below {{GPU launches outside main_graph are not supported}}
  func.func @helper(%y: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kiln_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%y : memref<4xf32>)
    return
  }
  func.func @main_graph(%y: memref<4xf32>) {
    return
  }
}

// -----

// A kernel argument wider than a launch word.
module attributes {gpu.container_module} {
  gpu.binary @kiln_kernels [#gpu.object<#nvvm.target, "ptx">]
  func.func @main_graph(%y: memref<4xf32>, %v: vector<4xf32>) {
    %c1 = arith.constant 1 : index
    // expected-error @below {{a kernel argument of type 'vector<4xf32>' cannot be passed to the GPU}}
    gpu.launch_func @kiln_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%y : memref<4xf32>, %v : vector<4xf32>)
    return
  }
}
