//===- OnnxControlFlowOps.td - If, Loop, Scan ---------------*- tablegen -*-===//
//
// Included from OnnxOps.td. ONNX subgraphs are regions of one block that end
// in onnx.Yield; a subgraph uses the values of the graphs around it
// directly (MLIR's regions see the values defined above them). Verifiers
// and shape rules are in ControlFlowOps.cpp, the lowerings to scf in
// OnnxToLinalg/ControlFlow.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_CONTROL_FLOW_OPS_TD
#define KILN_ONNX_CONTROL_FLOW_OPS_TD

def Onnx_YieldOp : Op<Onnx_Dialect, "Yield",
    [Pure, Terminator, ParentOneOf<["IfOp", "LoopOp", "ScanOp", "SequenceMapOp"]>]> {
  let summary = "the outputs of a subgraph";
  let description = [{
    Ends the region of an If branch or a Loop or Scan body with the
    subgraph's outputs, in order.
  }];
  let arguments = (ins Variadic<AnyType>:$outputs);
  let assemblyFormat = "($outputs^ `:` type($outputs))? attr-dict";
}

def Onnx_IfOp : Onnx_Op<"If"> {
  let summary = "runs one of two subgraphs by a boolean";
  let description = [{
    ONNX `If`: `cond` (a one-element bool tensor) picks `then_branch` or
    `else_branch`; the results are the picked branch's outputs. Both
    branches yield as many values, of one element type each; a result's
    shape is the branches' where they agree, dynamic where they differ.
  }];
  let arguments = (ins AnyTensor:$cond);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$then_branch,
                        SizedRegion<1>:$else_branch);
  let assemblyFormat = [{
    $cond `:` type($cond) `->` type($outputs) $then_branch `else` $else_branch
    attr-dict
  }];
}

def Onnx_LoopOp : Onnx_Op<"Loop"> {
  let summary = "runs a subgraph while a trip count and a condition allow";
  let description = [{
    ONNX `Loop`: the body (arguments: iteration number (int64 scalar), the
    condition (bool scalar), then the loop-carried values) runs while the
    iteration number is below `M` (no limit without it) and the condition
    holds (`cond`, true without it, then what the body yields first). The
    body yields the next condition, the next loop-carried values, then one
    value per scan output. Results: the last loop-carried values, then each
    scan output stacked along a new first dim, one row per iteration run.
  }];
  let arguments = (ins TensorOrNone:$M, TensorOrNone:$cond,
                   Variadic<AnyType>:$v_initial);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $M `,` $cond `)` `init` `(` $v_initial `)` `:` functional-type(operands, results)
    $body attr-dict
  }];
  let extraClassDeclaration = [{
    /// How many of the results are scan outputs (after the carried values).
    unsigned getNumScanOutputs() {
      return getNumResults() - getVInitial().size();
    }
    /// Whether the body passes its condition argument through unchanged,
    /// so that the trip count is M, or 0 when `cond` is false.
    bool conditionPassesThrough();
  }];
}

def Onnx_ScanOp : Onnx_Op<"Scan"> {
  let summary = "runs a subgraph over slices of its scan inputs";
  let description = [{
    ONNX `Scan` (opset 9 on): the operands are the initial state values,
    then `num_scan_inputs` scan inputs. The body runs once per slice of the
    scan inputs along their scan axis (`scan_input_axes`, 0 by default;
    `scan_input_directions` 1 runs backwards), with the state then one slice
    per scan input as arguments; it yields the next state, then one value
    per scan output. Results: the last state, then the scan outputs stacked
    along `scan_output_axes` (reversed where `scan_output_directions` is 1).
    Opset 8's form (a batch dim first and an optional `sequence_lens`,
    which must be absent) is imported as a Scan with a leading batch: the
    `kiln.batched` attribute runs it once per batch entry.
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, I64Attr:$num_scan_inputs,
                   OptionalAttr<DenseI64ArrayAttr>:$scan_input_axes,
                   OptionalAttr<DenseI64ArrayAttr>:$scan_input_directions,
                   OptionalAttr<DenseI64ArrayAttr>:$scan_output_axes,
                   OptionalAttr<DenseI64ArrayAttr>:$scan_output_directions,
                   OptionalAttr<DenseI64ArrayAttr>:$directions,
                   UnitAttr:$batched);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` `:` functional-type(operands, results) $body attr-dict
  }];
  let extraClassDeclaration = [{
    unsigned getNumState() { return getInputs().size() - getNumScanInputs(); }
    /// The scan axis of scan input `i` / scan output `i` (normalized), for
    /// one batch entry.
    int64_t inputAxis(unsigned i);
    int64_t outputAxis(unsigned i);
    bool inputReversed(unsigned i);
    bool outputReversed(unsigned i);
  }];
}

#endif // KILN_ONNX_CONTROL_FLOW_OPS_TD
