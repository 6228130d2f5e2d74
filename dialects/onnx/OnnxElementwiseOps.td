//===- OnnxElementwiseOps.td - elementwise ops ------------*- tablegen -*-===//
//
// Included from OnnxOps.td. Each family's base class carries the family's
// verifier and shape inference (the rules are in ElementwiseOps.cpp, the
// lowerings in OnnxToLinalg/Elementwise.cpp), so a new elementwise operator
// is one line here and one scalar body there.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_ELEMENTWISE_OPS_TD
#define KILN_ONNX_ELEMENTWISE_OPS_TD

// Each result element depends only on the elements at the same position of
// the (numpy-broadcast) operands: batch splitting and shape tracing take
// such ops as a whole family.
def Onnx_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::kiln::onnx::OnnxTrait";
}

//===----------------------------------------------------------------------===//
// Unary: the result has the operand's shape and, but for the predicates, its
// element type. `operands` names what the operand may hold: Float, Numeric
// (not bool), Bool or Any.
//===----------------------------------------------------------------------===//

class Onnx_UnaryOp<string mnemonic, string spec, string operands = "Float",
                   bit boolResult = 0>
    : Onnx_Op<mnemonic, [Onnx_Elementwise]> {
  let summary = "elementwise " # mnemonic;
  let description = "Applies ONNX `" # mnemonic # "` to each element: " # spec;
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "$X attr-dict `:` functional-type(operands, results)";
  // Checks beyond the family's: the body of a function of `op`.
  code extraVerify = "return ::mlir::success();";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      if (::mlir::failed(::kiln::onnx::verifyUnary(
              *this, ::kiln::onnx::OperandKind::}] # operands # [{)))
        return ::mlir::failure();
      [[maybe_unused]] $cppClass op = *this;
      }] # extraVerify # [{
    }
    ::mlir::LogicalResult $cppClass::inferShapes() {
      return ::kiln::onnx::inferUnary(*this, }] # !if(boolResult, "true", "false") # [{);
    }
  }];
}

def Onnx_ReluOp : Onnx_UnaryOp<"Relu", "y = max(x, 0).", "Numeric">;
def Onnx_SigmoidOp : Onnx_UnaryOp<"Sigmoid", "y = 1 / (1 + exp(-x)).">;
def Onnx_TanhOp : Onnx_UnaryOp<"Tanh", "y = tanh(x).">;
def Onnx_ExpOp : Onnx_UnaryOp<"Exp", "y = exp(x).">;
def Onnx_LogOp : Onnx_UnaryOp<"Log", "y = log(x).">;
def Onnx_SqrtOp : Onnx_UnaryOp<"Sqrt", "y = sqrt(x).">;
def Onnx_NegOp : Onnx_UnaryOp<"Neg", "y = -x.", "Numeric"> { let hasFolder = 1; }
def Onnx_AbsOp : Onnx_UnaryOp<"Abs", "y = |x|.", "Numeric">;
def Onnx_ErfOp : Onnx_UnaryOp<"Erf", "y = erf(x).">;
def Onnx_CeilOp : Onnx_UnaryOp<"Ceil", "y = ceil(x).">;
def Onnx_FloorOp : Onnx_UnaryOp<"Floor", "y = floor(x).">;
def Onnx_RoundOp : Onnx_UnaryOp<"Round", "rounds half to even.">;
def Onnx_ReciprocalOp : Onnx_UnaryOp<"Reciprocal", "y = 1 / x.">;
def Onnx_SignOp : Onnx_UnaryOp<"Sign", "y = -1, 0 or 1 by the sign of x.", "Numeric">;
def Onnx_SinOp : Onnx_UnaryOp<"Sin", "y = sin(x).">;
def Onnx_CosOp : Onnx_UnaryOp<"Cos", "y = cos(x).">;
def Onnx_TanOp : Onnx_UnaryOp<"Tan", "y = tan(x).">;
def Onnx_AsinOp : Onnx_UnaryOp<"Asin", "y = asin(x).">;
def Onnx_AcosOp : Onnx_UnaryOp<"Acos", "y = acos(x).">;
def Onnx_AtanOp : Onnx_UnaryOp<"Atan", "y = atan(x).">;
def Onnx_SinhOp : Onnx_UnaryOp<"Sinh", "y = sinh(x).">;
def Onnx_CoshOp : Onnx_UnaryOp<"Cosh", "y = cosh(x).">;
def Onnx_AsinhOp : Onnx_UnaryOp<"Asinh", "y = asinh(x).">;
def Onnx_AcoshOp : Onnx_UnaryOp<"Acosh", "y = acosh(x).">;
def Onnx_AtanhOp : Onnx_UnaryOp<"Atanh", "y = atanh(x).">;
def Onnx_SoftsignOp : Onnx_UnaryOp<"Softsign", "y = x / (1 + |x|).">;
def Onnx_SoftplusOp : Onnx_UnaryOp<"Softplus", "y = log(exp(x) + 1).">;
def Onnx_HardSwishOp : Onnx_UnaryOp<"HardSwish", "y = x * max(0, min(1, x / 6 + 1 / 2)).">;
def Onnx_MishOp : Onnx_UnaryOp<"Mish", "y = x * tanh(softplus(x)).">;
def Onnx_NotOp : Onnx_UnaryOp<"Not", "logical negation of a bool tensor.", "Bool">;
def Onnx_IdentityOp : Onnx_UnaryOp<"Identity", "y = x.", "Any"> { let hasFolder = 1; }
def Onnx_IsNaNOp : Onnx_UnaryOp<"IsNaN", "true where x is NaN.", "Float", 1>;
def Onnx_IsInfOp : Onnx_UnaryOp<"IsInf", "true where x is +inf (with detect_positive) or -inf (with detect_negative).", "Float", 1> {
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<I64Attr, "1">:$detect_negative,
                   DefaultValuedAttr<I64Attr, "1">:$detect_positive);
}
def Onnx_ShrinkOp : Onnx_UnaryOp<"Shrink", "y = x < -lambd ? x + bias : x > lambd ? x - bias : 0.", "Numeric"> {
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "0.0">:$bias,
                   DefaultValuedAttr<F32Attr, "0.5">:$lambd);
}

class Onnx_UnaryAlphaOp<string mnemonic, string spec, string alpha>
    : Onnx_UnaryOp<mnemonic, spec> {
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, alpha>:$alpha);
}

def Onnx_LeakyReluOp : Onnx_UnaryAlphaOp<"LeakyRelu", "y = x < 0 ? alpha * x : x.", "0.01">;
def Onnx_EluOp : Onnx_UnaryAlphaOp<"Elu", "y = x < 0 ? alpha * (exp(x) - 1) : x.", "1.0">;
def Onnx_CeluOp : Onnx_UnaryAlphaOp<"Celu", "y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).", "1.0"> {
  let extraVerify = [{
    if (op.getAlpha().convertToFloat() == 0.0f)
      return op.emitOpError("alpha must not be 0");
    return ::mlir::success();
  }];
}
def Onnx_ThresholdedReluOp : Onnx_UnaryAlphaOp<"ThresholdedRelu", "y = x > alpha ? x : 0.", "1.0">;

def Onnx_SeluOp : Onnx_UnaryOp<"Selu", "y = gamma * (x <= 0 ? alpha * (exp(x) - 1) : x).">  {
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma);
}
def Onnx_HardSigmoidOp : Onnx_UnaryOp<"HardSigmoid", "y = max(0, min(1, alpha * x + beta)).">  {
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.5">:$beta);
}

//===----------------------------------------------------------------------===//
// Binary and variadic, with numpy broadcasting of all operands. Binary
// operands have one element type (`operands` Same), bool (Bool) or any
// (Any: Pow's exponent).
//===----------------------------------------------------------------------===//

class Onnx_BinaryOp<string mnemonic, string spec, string operands = "Same",
                    bit boolResult = 0>
    : Onnx_Op<mnemonic, [Onnx_Elementwise]> {
  let summary = "elementwise " # mnemonic # " with numpy broadcasting";
  let description = "ONNX `" # mnemonic # "`: " # spec #
      " The shapes broadcast as in numpy.";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$C);
  let assemblyFormat = "$A `,` $B attr-dict `:` functional-type(operands, results)";
  // Checks beyond the family's: the body of a function of `op`.
  code extraVerify = "return ::mlir::success();";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      if (::mlir::failed(::kiln::onnx::verifyBinary(
              *this, ::kiln::onnx::OperandKind::}] # operands # [{)))
        return ::mlir::failure();
      [[maybe_unused]] $cppClass op = *this;
      }] # extraVerify # [{
    }
    ::mlir::LogicalResult $cppClass::inferShapes() {
      return ::kiln::onnx::inferBroadcast(*this, }] # !if(boolResult, "true", "false") # [{);
    }
  }];
}

def Onnx_AddOp : Onnx_BinaryOp<"Add", "c = a + b."> { let hasFolder = 1; }
def Onnx_SubOp : Onnx_BinaryOp<"Sub", "c = a - b."> { let hasFolder = 1; }
def Onnx_MulOp : Onnx_BinaryOp<"Mul", "c = a * b."> { let hasFolder = 1; }
def Onnx_DivOp : Onnx_BinaryOp<"Div", "c = a / b (integer division truncates)."> { let hasFolder = 1; }
def Onnx_PowOp : Onnx_BinaryOp<"Pow", "c = a ^ b; the result has a's type.", "Any">;
def Onnx_AndOp : Onnx_BinaryOp<"And", "logical and of bool tensors.", "Bool", 1>;
def Onnx_OrOp : Onnx_BinaryOp<"Or", "logical or of bool tensors.", "Bool", 1>;
def Onnx_XorOp : Onnx_BinaryOp<"Xor", "logical xor of bool tensors.", "Bool", 1>;
def Onnx_EqualOp : Onnx_BinaryOp<"Equal", "c = (a == b), a bool tensor.", "Same", 1>;
def Onnx_LessOp : Onnx_BinaryOp<"Less", "c = (a < b), a bool tensor.", "Same", 1>;
def Onnx_LessOrEqualOp : Onnx_BinaryOp<"LessOrEqual", "c = (a <= b), a bool tensor.", "Same", 1>;
def Onnx_GreaterOp : Onnx_BinaryOp<"Greater", "c = (a > b), a bool tensor.", "Same", 1>;
def Onnx_GreaterOrEqualOp : Onnx_BinaryOp<"GreaterOrEqual", "c = (a >= b), a bool tensor.", "Same", 1>;
def Onnx_PReluOp : Onnx_BinaryOp<"PRelu", "c = a < 0 ? b * a : a (b is the slope).">;
def Onnx_ModOp : Onnx_BinaryOp<"Mod", "the remainder; with fmod = 1 it takes the dividend's sign, else the divisor's."> {
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, DefaultValuedAttr<I64Attr, "0">:$fmod);
}

def Onnx_BitShiftOp : Onnx_BinaryOp<"BitShift", "c = a << b (direction LEFT) or a >> b (RIGHT), of unsigned integers; shifts by the width or more give 0."> {
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, StrAttr:$direction);
  let extraVerify = [{
    if (!elemOf(op.getA()).isUnsignedInteger())
      return op.emitOpError("expects unsigned integer operands");
    if (op.getDirection() != "LEFT" && op.getDirection() != "RIGHT")
      return op.emitOpError("direction must be LEFT or RIGHT");
    return ::mlir::success();
  }];
}

class Onnx_VariadicOp<string mnemonic, string spec>
    : Onnx_Op<mnemonic, [Onnx_Elementwise]> {
  let summary = "elementwise " # mnemonic # " of any number of tensors";
  let description = "ONNX `" # mnemonic # "`: " # spec # " The inputs broadcast as in numpy.";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$data_0 attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return ::kiln::onnx::verifyVariadic(*this);
    }
    ::mlir::LogicalResult $cppClass::inferShapes() {
      return ::kiln::onnx::inferBroadcast(*this, false);
    }
  }];
}

def Onnx_MaxOp : Onnx_VariadicOp<"Max", "the largest element.">;
def Onnx_MinOp : Onnx_VariadicOp<"Min", "the smallest element.">;
def Onnx_SumOp : Onnx_VariadicOp<"Sum", "the sum.">;
def Onnx_MeanOp : Onnx_VariadicOp<"Mean", "the mean.">;

//===----------------------------------------------------------------------===//
// Elementwise ops with their own rules (ElementwiseOps.cpp).
//===----------------------------------------------------------------------===//

def Onnx_WhereOp : Onnx_Op<"Where", [Onnx_Elementwise]> {
  let summary = "selects from X where the condition holds, else from Y";
  let description = "ONNX `Where`, with numpy broadcasting of all three inputs.";
  let arguments = (ins AnyTensor:$condition, AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_CastOp : Onnx_Op<"Cast"> {
  let summary = "element type conversion";
  let description = [{
    ONNX `Cast`: converts each element to the type named by `to` (a
    TensorProto.DataType code). Float to integer truncates toward zero.
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$to, OptionalAttr<I64Attr>:$saturate);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Onnx_ClipOp : Onnx_Op<"Clip"> {
  let summary = "clamps to [min, max]";
  let description = [{
    ONNX `Clip`. From opset 11 the bounds are optional scalar inputs; before,
    attributes `min` and `max`. Absent bounds mean no limit.
  }];
  let arguments = (ins AnyTensor:$input, TensorOrNone:$min, TensorOrNone:$max,
                   OptionalAttr<F32Attr>:$min_attr, OptionalAttr<F32Attr>:$max_attr);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_ONNX_ELEMENTWISE_OPS_TD
