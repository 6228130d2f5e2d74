// Wiring check for the lit suite: kiln-opt parses, verifies and prints a
// module holding the onnx dialect and upstream dialects.
// RUN: kiln-opt %s | FileCheck %s
// RUN: kiln-opt --help | FileCheck %s --check-prefix=HELP

// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[ARG:.*]]: tensor<2xf32>)
// CHECK: return %[[ARG]]
func.func @identity(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  return %arg0 : tensor<2xf32>
}

// HELP: Kiln optimizer driver
