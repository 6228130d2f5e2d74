//===- OnnxRandomOps.td - ops with random outputs ---------*- tablegen -*-===//
//
// Included from OnnxOps.td. Verifiers and shape inference are in
// RandomOps.cpp, the lowerings in OnnxToLinalg/Random.cpp: each element's
// number is a counter-based hash of the op's seed and the element's
// position (the same on every run and every target; without a `seed`
// attribute the seed is derived from the node's name).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_RANDOM_OPS_TD
#define KILN_ONNX_RANDOM_OPS_TD

class Onnx_RandomLikeOp<string mnemonic, string spec> : Onnx_Op<mnemonic> {
  let summary = "random numbers shaped like the input";
  let description = "ONNX `" # mnemonic # "`: " # spec # [{ The result
    has the input's shape and the type named by `dtype` (the input's type
    without it).}];
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_RandomUniformLikeOp : Onnx_RandomLikeOp<"RandomUniformLike",
    "numbers drawn uniformly from [low, high)."> {
  let arguments = (ins AnyTensor:$input, OptionalAttr<I64Attr>:$dtype,
                   DefaultValuedAttr<F32Attr, "1.0">:$high,
                   DefaultValuedAttr<F32Attr, "0.0">:$low,
                   OptionalAttr<F32Attr>:$seed);
}

def Onnx_RandomNormalLikeOp : Onnx_RandomLikeOp<"RandomNormalLike",
    "numbers drawn from a normal distribution of `mean` and `scale`."> {
  let arguments = (ins AnyTensor:$input, OptionalAttr<I64Attr>:$dtype,
                   DefaultValuedAttr<F32Attr, "0.0">:$mean,
                   DefaultValuedAttr<F32Attr, "1.0">:$scale,
                   OptionalAttr<F32Attr>:$seed);
}

def Onnx_BernoulliOp : Onnx_RandomLikeOp<"Bernoulli",
    "1 with the probability the input holds at each place, else 0."> {
  let arguments = (ins AnyTensor:$input, OptionalAttr<I64Attr>:$dtype,
                   OptionalAttr<F32Attr>:$seed);
}

class Onnx_RandomShapedOp<string mnemonic, string spec> : Onnx_Op<mnemonic> {
  let summary = "random numbers of a given shape";
  let description = "ONNX `" # mnemonic # "`: " # spec # [{ The result
    has the shape `shape` and the type `dtype` (float by default).}];
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "attr-dict `:` type(results)";
}

def Onnx_RandomUniformOp : Onnx_RandomShapedOp<"RandomUniform",
    "numbers drawn uniformly from [low, high)."> {
  let arguments = (ins DenseI64ArrayAttr:$shape,
                   DefaultValuedAttr<I64Attr, "1">:$dtype,
                   DefaultValuedAttr<F32Attr, "1.0">:$high,
                   DefaultValuedAttr<F32Attr, "0.0">:$low,
                   OptionalAttr<F32Attr>:$seed);
}

def Onnx_RandomNormalOp : Onnx_RandomShapedOp<"RandomNormal",
    "numbers drawn from a normal distribution of `mean` and `scale`."> {
  let arguments = (ins DenseI64ArrayAttr:$shape,
                   DefaultValuedAttr<I64Attr, "1">:$dtype,
                   DefaultValuedAttr<F32Attr, "0.0">:$mean,
                   DefaultValuedAttr<F32Attr, "1.0">:$scale,
                   OptionalAttr<F32Attr>:$seed);
}

#endif // KILN_ONNX_RANDOM_OPS_TD
