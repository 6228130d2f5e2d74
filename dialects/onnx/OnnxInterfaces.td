//===- OnnxInterfaces.td - onnx op interfaces -------------------*- tablegen -*-===//
#ifndef KILN_ONNX_INTERFACES_TD
#define KILN_ONNX_INTERFACES_TD

include "mlir/IR/OpBase.td"

def ShapeInferenceOpInterface : OpInterface<"ShapeInferenceOpInterface"> {
  let cppNamespace = "::kiln::onnx";
  let description = [{
    Computes an op's result types (element type and shape) from its operand
    types, its attributes and, where ONNX takes shapes as tensors (Reshape's
    target shape, Slice's starts), from constant operands. The importer
    creates ops with placeholder result types and calls this right away, in
    graph order, so that every value has its inferred type.
  }];
  let methods = [
    InterfaceMethod<[{Refines the result types in place; emits an error and
      fails when the operands are inconsistent.}],
      "::mlir::LogicalResult", "inferShapes", (ins)>,
  ];
}

#endif // KILN_ONNX_INTERFACES_TD
