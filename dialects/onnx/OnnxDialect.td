//===- OnnxDialect.td - the onnx dialect ------------------------*- tablegen -*-===//
//
// The dialect that mirrors ONNX operators one to one. The importer builds it
// from a ModelProto; lowering/OnnxToLinalg takes it to linalg on tensors.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_DIALECT_TD
#define KILN_ONNX_DIALECT_TD

include "mlir/IR/OpBase.td"

def Onnx_Dialect : Dialect {
  let name = "onnx";
  let summary = "ONNX operators as MLIR operations";
  let description = [{
    Each operation corresponds to one ONNX operator of the default domain
    (`ai.onnx`), with the operator's attributes as MLIR attributes and its
    inputs and outputs as tensors. Absent optional inputs are values of type
    `none` produced by `onnx.NoValue`. Result types are computed by the
    `ShapeInferenceOpInterface`; the opset a model imports is kept in the
    module attribute `onnx.opset`.
  }];
  let cppNamespace = "::kiln::onnx";
  let hasConstantMaterializer = 1;
  let useDefaultTypePrinterParser = 1;
}

#endif // KILN_ONNX_DIALECT_TD
