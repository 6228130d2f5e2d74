//===- OnnxSequenceOps.td - sequences of tensors -----------*- tablegen -*-===//
//
// Included from OnnxOps.td. A sequence is a value of type !onnx.seq<T>.
// Kiln compiles sequences whose structure is known when it compiles: each
// is built from SequenceEmpty / SequenceConstruct / SplitToSequence by
// SequenceInsert / SequenceErase at constant positions, so every element
// is a known tensor value (`resolveSequence`, SequenceOps.cpp). SequenceAt,
// SequenceLength and ConcatFromSequence then become the element, a
// constant, a Concat (OnnxToLinalg/Sequence.cpp), and the sequence ops
// vanish. Sequences as graph inputs or outputs, or carried by a Loop, are
// not supported.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_SEQUENCE_OPS_TD
#define KILN_ONNX_SEQUENCE_OPS_TD

include "mlir/IR/AttrTypeBase.td"

def Onnx_SeqType : TypeDef<Onnx_Dialect, "Seq"> {
  let mnemonic = "seq";
  let summary = "an ONNX sequence of tensors";
  let description = [{
    A sequence of tensors of one element type; `elementType` covers every
    element (unranked or with dynamic dims where they differ).
  }];
  let parameters = (ins "::mlir::TensorType":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def Onnx_AnySeq : Type<CPred<"::llvm::isa<::kiln::onnx::SeqType>($_self)">,
                       "sequence", "::kiln::onnx::SeqType">;

def Onnx_OptType : TypeDef<Onnx_Dialect, "Opt"> {
  let mnemonic = "opt";
  let summary = "an ONNX optional: a tensor or a sequence, or nothing";
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def Onnx_AnyOpt : Type<CPred<"::llvm::isa<::kiln::onnx::OptType>($_self)">,
                       "optional", "::kiln::onnx::OptType">;

class Onnx_SeqOp<string mnemonic, string spec> : Onnx_Op<mnemonic> {
  let summary = spec;
  let description = "ONNX `" # mnemonic # "` (opset 11 on): " # spec # ".";
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_SequenceEmptyOp : Onnx_SeqOp<"SequenceEmpty",
    "a sequence with no elements, of the type `dtype` names (float)"> {
  let arguments = (ins OptionalAttr<I64Attr>:$dtype);
  let results = (outs Onnx_AnySeq:$output);
}

def Onnx_SequenceConstructOp : Onnx_SeqOp<"SequenceConstruct",
    "a sequence of the inputs, in order"> {
  let arguments = (ins Variadic<AnyTensor>:$inputs);
  let results = (outs Onnx_AnySeq:$output);
}

def Onnx_SequenceInsertOp : Onnx_SeqOp<"SequenceInsert",
    "the sequence with `tensor` inserted at `position` (a constant; the end "
    "without it; negative from the end)"> {
  let arguments = (ins Onnx_AnySeq:$input_sequence, AnyTensor:$tensor,
                   TensorOrNone:$position);
  let results = (outs Onnx_AnySeq:$output);
}

def Onnx_SequenceEraseOp : Onnx_SeqOp<"SequenceErase",
    "the sequence without its element at `position` (a constant; the last "
    "without it; negative from the end)"> {
  let arguments = (ins Onnx_AnySeq:$input_sequence, TensorOrNone:$position);
  let results = (outs Onnx_AnySeq:$output);
}

def Onnx_SequenceAtOp : Onnx_SeqOp<"SequenceAt",
    "the element at `position` (a constant; negative from the end)"> {
  let arguments = (ins Onnx_AnySeq:$input_sequence, AnyTensor:$position);
  let results = (outs AnyTensor:$tensor);
  let hasFolder = 1;
}

def Onnx_SequenceLengthOp : Onnx_SeqOp<"SequenceLength",
    "the number of elements, as an int64 scalar"> {
  let arguments = (ins Onnx_AnySeq:$input_sequence);
  let results = (outs AnyTensor:$length);
  let hasFolder = 1;
}

def Onnx_SplitToSequenceOp : Onnx_SeqOp<"SplitToSequence",
    "the input split along `axis` into a sequence: pieces of length 1 "
    "(squeezed unless `keepdims`), of a scalar `split` length (the last "
    "shorter), or of the lengths a 1-D `split` lists"> {
  let arguments = (ins AnyTensor:$input, TensorOrNone:$split,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims);
  let results = (outs Onnx_AnySeq:$output_sequence);
}

def Onnx_ConcatFromSequenceOp : Onnx_SeqOp<"ConcatFromSequence",
    "the elements concatenated along `axis` (stacked along a new one when "
    "`new_axis`)"> {
  let arguments = (ins Onnx_AnySeq:$input_sequence, I64Attr:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$new_axis);
  let results = (outs AnyTensor:$concat_result);
}

def Onnx_SequenceMapOp : Onnx_Op<"SequenceMap"> {
  let summary = "the body applied to each element of the input sequences";
  let description = [{
    ONNX `SequenceMap` (opset 17): for each position i of `input_sequence`,
    the body runs on element i of it and of every sequence among
    `additional_inputs` (tensors there are passed whole), and each of its
    outputs is appended to the matching output sequence.
  }];
  let arguments = (ins Onnx_AnySeq:$input_sequence,
                   Variadic<AnyType>:$additional_inputs);
  let results = (outs Variadic<Onnx_AnySeq>:$out_sequence);
  let regions = (region SizedRegion<1>:$body);
}

class Onnx_OptionalOp<string mnemonic, string spec> : Onnx_SeqOp<mnemonic, spec> {
  let description = "ONNX `" # mnemonic # "` (opset 15 on): " # spec # ".";
}

def Onnx_OptionalOp : Onnx_OptionalOp<"Optional",
    "an optional holding `input`, or, without it, an empty optional of the "
    "type `type` names"> {
  let arguments = (ins AnyType:$input, OptionalAttr<TypeAttr>:$type);
  let results = (outs Onnx_AnyOpt:$output);
}

def Onnx_OptionalHasElementOp : Onnx_OptionalOp<"OptionalHasElement",
    "whether the optional holds a value (a bool scalar; true for a tensor or "
    "sequence, false without an input)"> {
  let arguments = (ins AnyType:$input);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def Onnx_OptionalGetElementOp : Onnx_OptionalOp<"OptionalGetElement",
    "the value the optional holds (an error when empty; a tensor or "
    "sequence is its own value)"> {
  let arguments = (ins AnyType:$input);
  let results = (outs AnyType:$output);
  let hasFolder = 1;
}

#endif // KILN_ONNX_SEQUENCE_OPS_TD
