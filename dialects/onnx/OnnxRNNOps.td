//===- OnnxRNNOps.td - LSTM, GRU and RNN -------------------*- tablegen -*-===//
//
// Included from OnnxOps.td, which defines the base classes. Verifiers and
// shape inference are in RNNOps.cpp, the lowerings in OnnxToLinalg/RNN.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_RNN_OPS_TD
#define KILN_ONNX_RNN_OPS_TD

// The attributes every recurrent op shares. `activations` names the gate
// functions (Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu,
// ScaledTanh, HardSigmoid, Elu, Softsign, Softplus), one list per direction
// back to back; activation_alpha/beta are consumed in that order by the
// functions that take them. `clip` bounds the input of every activation.
class Onnx_RecurrentOp<string mnemonic, dag extraArgs, dag outs>
    : Onnx_Op<mnemonic> {
  let arguments = !con(
      (ins AnyTensor:$X, AnyTensor:$W, AnyTensor:$R, TensorOrNone:$B,
           TensorOrNone:$sequence_lens, TensorOrNone:$initial_h),
      extraArgs,
      (ins OptionalAttr<DenseF32ArrayAttr>:$activation_alpha,
           OptionalAttr<DenseF32ArrayAttr>:$activation_beta,
           OptionalAttr<StrArrayAttr>:$activations,
           OptionalAttr<F32Attr>:$clip,
           DefaultValuedStrAttr<StrAttr, "forward">:$direction,
           OptionalAttr<I64Attr>:$hidden_size,
           DefaultValuedAttr<I64Attr, "0">:$layout));
  let results = outs;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_LSTMOp : Onnx_RecurrentOp<"LSTM",
    (ins TensorOrNone:$initial_c, TensorOrNone:$P,
         DefaultValuedAttr<I64Attr, "0">:$input_forget),
    (outs AnyTensor:$Y, AnyTensor:$Y_h, AnyTensor:$Y_c)> {
  let summary = "one long short-term memory layer";
  let description = [{
    ONNX `LSTM` (opsets 7 and 14). With gates in the order i, o, f, c of W
    (num_directions x 4*hidden x input), R (num_directions x 4*hidden x
    hidden) and B (num_directions x 8*hidden: Wb then Rb), and the peepholes
    P (num_directions x 3*hidden, order i, o, f):

      it = f(Xt*Wi^T + Ht-1*Ri^T + Pi (.) Ct-1 + Wbi + Rbi)
      ft = f(Xt*Wf^T + Ht-1*Rf^T + Pf (.) Ct-1 + Wbf + Rbf)
      ct = g(Xt*Wc^T + Ht-1*Rc^T + Wbc + Rbc)
      Ct = ft (.) Ct-1 + it (.) ct
      ot = f(Xt*Wo^T + Ht-1*Ro^T + Po (.) Ct + Wbo + Rbo)
      Ht = ot (.) h(Ct)

    f, g, h default to Sigmoid, Tanh, Tanh. `input_forget` couples the gates
    (ft = 1 - it). With `sequence_lens`, batch entry b runs for its own number
    of steps: Y is zero past it and Y_h, Y_c hold the last state. Layout 0:
    X is seq x batch x input, Y seq x num_directions x batch x hidden and Y_h,
    Y_c num_directions x batch x hidden; layout 1 puts batch first in all of
    them (Y: batch x seq x num_directions x hidden). The importer gives the op
    all three results whether or not the node names them.

    ```mlir
    %y:3 = onnx.LSTM %x, %w, %r, %b, %none, %none, %none, %none {hidden_size = 16 : i64}
        : (tensor<5x2x8xf32>, tensor<1x64x8xf32>, tensor<1x64x16xf32>,
           tensor<1x128xf32>, none, none, none, none)
        -> (tensor<5x1x2x16xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>)
    ```
  }];
}

def Onnx_GRUOp : Onnx_RecurrentOp<"GRU",
    (ins DefaultValuedAttr<I64Attr, "0">:$linear_before_reset),
    (outs AnyTensor:$Y, AnyTensor:$Y_h)> {
  let summary = "one gated recurrent unit layer";
  let description = [{
    ONNX `GRU` (opsets 7 and 14). Gates z, r, h in that order in W
    (num_directions x 3*hidden x input), R and B (Wb then Rb):

      zt = f(Xt*Wz^T + Ht-1*Rz^T + Wbz + Rbz)
      rt = f(Xt*Wr^T + Ht-1*Rr^T + Wbr + Rbr)
      ht = g(Xt*Wh^T + (rt (.) Ht-1)*Rh^T + Rbh + Wbh)      linear_before_reset = 0
      ht = g(Xt*Wh^T + rt (.) (Ht-1*Rh^T + Rbh) + Wbh)      linear_before_reset != 0
      Ht = (1 - zt) (.) ht + zt (.) Ht-1

    f and g default to Sigmoid and Tanh. Shapes, layouts and
    `sequence_lens` as for LSTM.

    ```mlir
    %y:2 = onnx.GRU %x, %w, %r, %none, %none, %none {hidden_size = 16 : i64}
        : (tensor<5x2x8xf32>, tensor<1x48x8xf32>, tensor<1x48x16xf32>, none, none, none)
        -> (tensor<5x1x2x16xf32>, tensor<1x2x16xf32>)
    ```
  }];
}

def Onnx_RNNOp : Onnx_RecurrentOp<"RNN", (ins),
    (outs AnyTensor:$Y, AnyTensor:$Y_h)> {
  let summary = "one simple recurrent layer";
  let description = [{
    ONNX `RNN` (opsets 7 and 14): Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi),
    f defaulting to Tanh. Shapes, layouts and `sequence_lens` as for LSTM.

    ```mlir
    %y:2 = onnx.RNN %x, %w, %r, %none, %none, %none {hidden_size = 16 : i64}
        : (tensor<5x2x8xf32>, tensor<1x16x8xf32>, tensor<1x16x16xf32>, none, none, none)
        -> (tensor<5x1x2x16xf32>, tensor<1x2x16xf32>)
    ```
  }];
}

#endif // KILN_ONNX_RNN_OPS_TD
