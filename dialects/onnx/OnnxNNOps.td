//===- OnnxNNOps.td - more onnx operations -----------*- tablegen -*-===//
//
// Included from OnnxOps.td, which defines the base classes.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_NN_OPS_TD
#define KILN_ONNX_NN_OPS_TD

#endif // KILN_ONNX_NN_OPS_TD
