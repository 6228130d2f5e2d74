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

def OnnxCheckBatchSplit : Pass<"onnx-check-batch-split", "::mlir::func::FuncOp"> {
  let summary = "check that a graph computes each sample of a batch on its own";
  let description = [{
    The check `kiln compile` runs on a model whose inputs keep a symbolic
    batch dimension (dim 0, named by `onnx.dim_params`): an error at the first
    op that looks across samples, else a remark. See BatchSplit.h.
  }];
  let options = [
    Option<"dim", "dim", "std::string", "\"batch\"",
           "the name of the batch dimension">
  ];
}

#endif // KILN_ONNX_PASSES_TD
