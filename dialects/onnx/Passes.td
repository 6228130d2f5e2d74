//===- Passes.td - passes on the onnx dialect -------------------*- tablegen -*-===//
#ifndef KILN_ONNX_PASSES_TD
#define KILN_ONNX_PASSES_TD

include "mlir/Pass/PassBase.td"

def OnnxInferShapes : Pass<"onnx-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "infer result types of onnx ops and fold constant shape arithmetic";
  let description = [{
    Visits the ops of each function in order, calls their
    `ShapeInferenceOpInterface::inferShapes`, and folds ops whose operands are
    constants (Shape, Gather, Unsqueeze, Concat, Reshape chains become static
    shapes). The function's result types are updated to match.
  }];
  let dependentDialects = ["::kiln::onnx::OnnxDialect"];
}

#endif // KILN_ONNX_PASSES_TD
