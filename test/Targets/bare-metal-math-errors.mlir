// RUN: kiln-opt %s --kiln-pipeline="target=thumbv7em-none-eabihf" -split-input-file -verify-diagnostics

// f32 functions are generated inline on a target without libm ...
func.func @main_graph(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = onnx.Exp %x : (tensor<8xf32>) -> tensor<8xf32>
  %s = onnx.Sin %e : (tensor<8xf32>) -> tensor<8xf32>
  %f = onnx.Floor %s : (tensor<8xf32>) -> tensor<8xf32>
  return %f : tensor<8xf32>
}

// -----

// ... but f64 ones would be libm calls: refused, with the op named.
func.func @main_graph(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{'math.exp' on 'f64' needs the C math library, which thumbv7em-none-eabihf does not have}}
  %e = onnx.Exp %x : (tensor<8xf64>) -> tensor<8xf64>
  return %e : tensor<8xf64>
}
