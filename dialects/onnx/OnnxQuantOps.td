//===- OnnxQuantOps.td - quantization ops -----------------*- tablegen -*-===//
//
// Included from OnnxOps.td. Verifiers and shape inference are in
// QuantOps.cpp, the lowerings in OnnxToLinalg/Quant.cpp: QuantizeLinear and
// DequantizeLinear are elementwise bodies; the integer products and the
// QLinear ops become products on int32 around them.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_QUANT_OPS_TD
#define KILN_ONNX_QUANT_OPS_TD

def Onnx_QuantizeLinearOp : Onnx_Op<"QuantizeLinear"> {
  let summary = "float to 8-bit integers with a scale and a zero point";
  let description = [{
    ONNX `QuantizeLinear` (opsets 10, 13): `y = saturate(round(x / y_scale)
    + y_zero_point)`, rounding half to even, saturating to the range of
    y_zero_point's type (uint8 without it). A 1-D scale and zero point apply
    along `axis` (per channel), a scalar one to all.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$y_scale,
                   TensorOrNone:$y_zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   OptionalAttr<I64Attr>:$saturate);
  let results = (outs AnyTensor:$y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_DequantizeLinearOp : Onnx_Op<"DequantizeLinear"> {
  let summary = "8-bit (or int32) integers to float";
  let description = [{
    ONNX `DequantizeLinear` (opsets 10, 13): `y = (x - x_zero_point) *
    x_scale`, per channel along `axis` with 1-D scale and zero point.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$x_scale,
                   TensorOrNone:$x_zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs AnyTensor:$y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_DynamicQuantizeLinearOp : Onnx_Op<"DynamicQuantizeLinear"> {
  let summary = "uint8 quantization with scale and zero point from the data";
  let description = [{
    ONNX `DynamicQuantizeLinear` (opset 11): the range [min(0, min(x)),
    max(0, max(x))] maps onto [0, 255]: `y_scale = (max - min) / 255`,
    `y_zero_point = saturate(round(-min / y_scale))`, and `y` is
    `QuantizeLinear(x, y_scale, y_zero_point)`.
  }];
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y, AnyTensor:$y_scale, AnyTensor:$y_zero_point);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_MatMulIntegerOp : Onnx_Op<"MatMulInteger"> {
  let summary = "MatMul of 8-bit integers with zero points, into int32";
  let description = [{
    ONNX `MatMulInteger` (opset 10): `(A - a_zero_point) x (B -
    b_zero_point)` accumulated in int32, with MatMul's shapes. a_zero_point
    is a scalar or one value per row of A, b_zero_point a scalar or one per
    column of B.
  }];
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, TensorOrNone:$a_zero_point,
                   TensorOrNone:$b_zero_point);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_ConvIntegerOp : Onnx_WindowOp<"ConvInteger"> {
  let summary = "Conv of 8-bit integers with zero points, into int32";
  let description = [{
    ONNX `ConvInteger` (opset 10): Conv of `x - x_zero_point` (a scalar)
    and `w - w_zero_point` (a scalar or one per output channel), summed in
    int32; padding adds x_zero_point, i.e. zeros after the shift.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$w, TensorOrNone:$x_zero_point,
                   TensorOrNone:$w_zero_point,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
}

def Onnx_QLinearMatMulOp : Onnx_Op<"QLinearMatMul"> {
  let summary = "MatMul of quantized tensors into a quantized tensor";
  let description = [{
    ONNX `QLinearMatMul` (opset 10): the int32 product of `a - a_zero_point`
    and `b - b_zero_point`, scaled by `a_scale * b_scale`, then quantized
    with `y_scale` and `y_zero_point`.
  }];
  let arguments = (ins AnyTensor:$a, AnyTensor:$a_scale, AnyTensor:$a_zero_point,
                   AnyTensor:$b, AnyTensor:$b_scale, AnyTensor:$b_zero_point,
                   AnyTensor:$y_scale, AnyTensor:$y_zero_point);
  let results = (outs AnyTensor:$y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_QLinearConvOp : Onnx_WindowOp<"QLinearConv"> {
  let summary = "Conv of quantized tensors into a quantized tensor";
  let description = [{
    ONNX `QLinearConv` (opset 10): ConvInteger of x and w with their zero
    points, plus the int32 bias B, scaled by `x_scale * w_scale` (w_scale a
    scalar or one per output channel), then quantized with `y_scale` and
    `y_zero_point`.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$x_scale, AnyTensor:$x_zero_point,
                   AnyTensor:$w, AnyTensor:$w_scale, AnyTensor:$w_zero_point,
                   AnyTensor:$y_scale, AnyTensor:$y_zero_point, TensorOrNone:$B,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
}

#endif // KILN_ONNX_QUANT_OPS_TD
