//===- OnnxOps.td - onnx operations -----------------------------*- tablegen -*-===//
//
// Operations are grouped by shape family. Each family is a small base class;
// an operator is then one line plus its summary and description, which name
// the ONNX operator spec it follows.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_OPS_TD
#define KILN_ONNX_OPS_TD

include "dialects/onnx/OnnxDialect.td"
include "dialects/onnx/OnnxInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def TensorOrNone : AnyTypeOf<[AnyTensor, NoneType]>;

class Onnx_Op<string mnemonic, list<Trait> traits = []>
    : Op<Onnx_Dialect, mnemonic,
         !listconcat(traits, [Pure,
           DeclareOpInterfaceMethods<ShapeInferenceOpInterface>])> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Values without an operator: constants and absent optional inputs.
//===----------------------------------------------------------------------===//

def Onnx_NoValueOp : Op<Onnx_Dialect, "NoValue", [Pure, ConstantLike]> {
  let summary = "an absent optional input";
  let description = [{
    Stands for an ONNX input whose name is empty or that was left off the end
    of a node's input list.

    ```mlir
    %none = onnx.NoValue
    ```
  }];
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict";
  let hasFolder = 1;
}

def Onnx_ConstantOp : Onnx_Op<"Constant", [ConstantLike]> {
  let summary = "a constant tensor (ONNX Constant, and graph initializers)";
  let description = [{
    Holds a tensor value. The importer turns `Constant` nodes (any of their
    `value*` attributes) and graph initializers into this op. Large tensors
    are held as `dense_resource` blobs so their bytes are not copied again.

    ```mlir
    %c = onnx.Constant(dense<[1, 3]> : tensor<2xi64>) : tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "`(` $value `)` attr-dict `:` type($output)";
  let hasFolder = 1;
}

include "dialects/onnx/OnnxElementwiseOps.td"

//===----------------------------------------------------------------------===//
// Linear algebra and convolution.
//===----------------------------------------------------------------------===//

def Onnx_MatMulOp : Onnx_Op<"MatMul"> {
  let summary = "matrix product, batched and broadcast as numpy.matmul";
  let description = [{
    ONNX `MatMul`: 1-D operands are promoted to matrices and the added
    dimension removed from the result; leading dimensions broadcast.
  }];
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "$A `,` $B attr-dict `:` functional-type(operands, results)";
}

def Onnx_GemmOp : Onnx_Op<"Gemm"> {
  let summary = "general matrix multiply: alpha * A' * B' + beta * C";
  let description = [{
    ONNX `Gemm` on 2-D A and B (transposed when transA/transB is set) with an
    optional C that broadcasts to the result.
  }];
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, TensorOrNone:$C,
                   DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0">:$beta,
                   DefaultValuedAttr<I64Attr, "0">:$transA,
                   DefaultValuedAttr<I64Attr, "0">:$transB);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_EinsumOp : Onnx_Op<"Einsum"> {
  let summary = "a sum of products named by an Einstein summation equation";
  let description = [{
    ONNX `Einsum` (opset 12): `equation` names each input's dims with
    letters ("bij,bjk->bik"); letters missing from the output (after "->",
    or without it those that appear once, in alphabetical order) are summed
    over. A repeated letter in one input takes its diagonal; "..." stands
    for the dims not named, which broadcast.
  }];
  let arguments = (ins Variadic<AnyTensor>:$Inputs, StrAttr:$equation);
  let results = (outs AnyTensor:$Output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_DetOp : Onnx_Op<"Det"> {
  let summary = "determinants of square matrices";
  let description = [{
    ONNX `Det` (opset 11): X is [*, M, M]; the result [*] holds each
    matrix's determinant (Gaussian elimination with partial pivoting).
  }];
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

class Onnx_WindowOp<string mnemonic> : Onnx_Op<mnemonic> {
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_ConvOp : Onnx_WindowOp<"Conv"> {
  let summary = "N-d convolution with groups, strides, dilations and padding";
  let description = [{
    ONNX `Conv` on NC(spatial...) input X and M x C/group x (kernel...) weights
    W, with optional bias B. `auto_pad` SAME_UPPER/SAME_LOWER/VALID overrides
    `pads`.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$W, TensorOrNone:$B,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
}

def Onnx_MaxPoolOp : Onnx_WindowOp<"MaxPool"> {
  let summary = "N-d max pooling";
  let description = [{
    ONNX `MaxPool` over windows of `kernel_shape` with strides, dilations,
    padding (padded cells never win) and `ceil_mode`. The optional second
    result `Indices` (int64) holds where each maximum is, as a row-major
    index into X (`storage_order` 1: the spatial dims column-major); the
    first of equal maxima wins.
  }];
  let results = (outs AnyTensor:$Y, Optional<AnyTensor>:$Indices);
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DenseI64ArrayAttr:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   DefaultValuedAttr<I64Attr, "0">:$storage_order,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
}

def Onnx_AveragePoolOp : Onnx_WindowOp<"AveragePool"> {
  let summary = "N-d average pooling";
  let description = [{
    ONNX `AveragePool`; padded cells count in the divisor only when
    `count_include_pad` is 1.
  }];
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                   DefaultValuedAttr<I64Attr, "0">:$count_include_pad,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DenseI64ArrayAttr:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
}

def Onnx_GlobalAveragePoolOp : Onnx_WindowOp<"GlobalAveragePool"> {
  let summary = "mean over all spatial dimensions";
  let description = "ONNX `GlobalAveragePool`: N x C x 1 x ... x 1 result.";
  let arguments = (ins AnyTensor:$X);
}

def Onnx_GlobalMaxPoolOp : Onnx_WindowOp<"GlobalMaxPool"> {
  let summary = "max over all spatial dimensions";
  let description = "ONNX `GlobalMaxPool`: N x C x 1 x ... x 1 result.";
  let arguments = (ins AnyTensor:$X);
}

def Onnx_BatchNormalizationOp : Onnx_Op<"BatchNormalization"> {
  let summary = "batch normalization";
  let description = [{
    ONNX `BatchNormalization`: y = scale * (x - mean) / sqrt(var + epsilon)
    + B, per channel (axis 1). In inference, mean and var are the inputs;
    with `training_mode` they are the batch's (over every axis but 1,
    population variance), and the two further results are the running
    statistics input_mean * momentum + mean * (1 - momentum), and so for var.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale, AnyTensor:$B,
                   AnyTensor:$input_mean, AnyTensor:$input_var,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.9">:$momentum,
                   DefaultValuedAttr<I64Attr, "0">:$training_mode);
  let results = (outs AnyTensor:$Y, Variadic<AnyTensor>:$running_stats);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations along an axis.
//===----------------------------------------------------------------------===//

class Onnx_ReduceOp<string mnemonic, string spec> : Onnx_Op<mnemonic> {
  let summary = mnemonic # " over the given axes";
  let description = "ONNX `" # mnemonic # "`: " # spec # [{
    The axes come from the `axes` attribute (older opsets) or the optional
    second input (a constant); none means all axes unless
    `noop_with_empty_axes` is set.
  }];
  let arguments = (ins AnyTensor:$data, TensorOrNone:$axes_input,
                   OptionalAttr<DenseI64ArrayAttr>:$axes,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs AnyTensor:$reduced);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_ReduceSumOp : Onnx_ReduceOp<"ReduceSum", "sum.">;
def Onnx_ReduceMeanOp : Onnx_ReduceOp<"ReduceMean", "arithmetic mean.">;
def Onnx_ReduceMaxOp : Onnx_ReduceOp<"ReduceMax", "maximum.">;
def Onnx_ReduceMinOp : Onnx_ReduceOp<"ReduceMin", "minimum.">;
def Onnx_ReduceProdOp : Onnx_ReduceOp<"ReduceProd", "product.">;
def Onnx_ReduceL1Op : Onnx_ReduceOp<"ReduceL1", "sum of absolute values.">;
def Onnx_ReduceL2Op : Onnx_ReduceOp<"ReduceL2", "square root of the sum of squares.">;
def Onnx_ReduceSumSquareOp : Onnx_ReduceOp<"ReduceSumSquare", "sum of squares.">;
def Onnx_ReduceLogSumOp : Onnx_ReduceOp<"ReduceLogSum", "log of the sum.">;
def Onnx_ReduceLogSumExpOp : Onnx_ReduceOp<"ReduceLogSumExp", "log of the sum of exponentials.">;

class Onnx_ArgOp<string mnemonic, string spec> : Onnx_Op<mnemonic> {
  let summary = "index of the " # spec # " element along an axis";
  let description = "ONNX `" # mnemonic # "`: int64 indices of the " # spec #
      " element; ties go to the first index unless `select_last_index`.";
  let arguments = (ins AnyTensor:$data, DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedAttr<I64Attr, "0">:$select_last_index);
  let results = (outs AnyTensor:$reduced);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}
def Onnx_ArgMaxOp : Onnx_ArgOp<"ArgMax", "largest">;
def Onnx_ArgMinOp : Onnx_ArgOp<"ArgMin", "smallest">;

class Onnx_SoftmaxBase<string mnemonic, string spec> : Onnx_Op<mnemonic> {
  let summary = spec;
  let description = "ONNX `" # mnemonic # "`: " # spec # [{ along `axis`.
    Before opset 13 the input is treated as 2-D, flattened at `axis`
    (default 1); from 13 it is along the single axis (default -1). The
    importer records the opset in the module's `onnx.opset` attribute.
  }];
  let arguments = (ins AnyTensor:$input, OptionalAttr<I64Attr>:$axis);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}
def Onnx_SoftmaxOp : Onnx_SoftmaxBase<"Softmax", "exp(x) / sum(exp(x))">;
def Onnx_LogSoftmaxOp : Onnx_SoftmaxBase<"LogSoftmax", "log(softmax(x))">;

//===----------------------------------------------------------------------===//
// Shape and data movement.
//===----------------------------------------------------------------------===//

class Onnx_ShapeOp<string mnemonic> : Onnx_Op<mnemonic> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_ShapeOfOp : Onnx_ShapeOp<"Shape"> {
  let summary = "the shape of a tensor as an int64 tensor";
  let description = "ONNX `Shape`, with the `start`/`end` slice of opset 15. Folds when the input shape is static.";
  let arguments = (ins AnyTensor:$data, OptionalAttr<I64Attr>:$start, OptionalAttr<I64Attr>:$end);
  let results = (outs AnyTensor:$shape);
  let hasFolder = 1;
}

def Onnx_SizeOp : Onnx_ShapeOp<"Size"> {
  let summary = "the number of elements as an int64 scalar";
  let description = "ONNX `Size`. Folds when the input shape is static.";
  let arguments = (ins AnyTensor:$data);
  let results = (outs AnyTensor:$size);
  let hasFolder = 1;
}

def Onnx_ReshapeOp : Onnx_ShapeOp<"Reshape"> {
  let summary = "same data, new shape";
  let description = [{
    ONNX `Reshape`; the target shape must be a constant. 0 copies the input's
    dimension (unless `allowzero`), -1 is inferred.
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$shape, DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs AnyTensor:$reshaped);
  let hasFolder = 1;
}

def Onnx_FlattenOp : Onnx_ShapeOp<"Flatten"> {
  let summary = "reshape to 2-D at an axis";
  let description = "ONNX `Flatten`: dimensions before `axis` form the rows, the rest the columns.";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs AnyTensor:$output);
}

def Onnx_SqueezeOp : Onnx_ShapeOp<"Squeeze"> {
  let summary = "removes size-1 dimensions";
  let description = "ONNX `Squeeze`; axes from the attribute (opset < 13) or a constant input; none means every size-1 dimension.";
  let arguments = (ins AnyTensor:$data, TensorOrNone:$axes_input, OptionalAttr<DenseI64ArrayAttr>:$axes);
  let results = (outs AnyTensor:$squeezed);
  let hasFolder = 1;
}

def Onnx_UnsqueezeOp : Onnx_ShapeOp<"Unsqueeze"> {
  let summary = "inserts size-1 dimensions";
  let description = "ONNX `Unsqueeze`; axes (of the result) from the attribute (opset < 13) or a constant input.";
  let arguments = (ins AnyTensor:$data, TensorOrNone:$axes_input, OptionalAttr<DenseI64ArrayAttr>:$axes);
  let results = (outs AnyTensor:$expanded);
  let hasFolder = 1;
}

def Onnx_TransposeOp : Onnx_ShapeOp<"Transpose"> {
  let summary = "permutes dimensions";
  let description = "ONNX `Transpose`; `perm` defaults to reversing the dimensions.";
  let arguments = (ins AnyTensor:$data, OptionalAttr<DenseI64ArrayAttr>:$perm);
  let results = (outs AnyTensor:$transposed);
}

def Onnx_ConcatOp : Onnx_ShapeOp<"Concat"> {
  let summary = "joins tensors along an axis";
  let description = "ONNX `Concat`. Folds when every input is a constant.";
  let arguments = (ins Variadic<AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyTensor:$concat_result);
  let hasFolder = 1;
}

def Onnx_SplitOp : Onnx_ShapeOp<"Split"> {
  let summary = "cuts a tensor into parts along an axis";
  let description = [{
    ONNX `Split`: part sizes come from the `split` input (opset 13), the
    `split` attribute (older), or equal parts (the last one smaller when
    `num_outputs` does not divide the dimension).
  }];
  let arguments = (ins AnyTensor:$input, TensorOrNone:$split_input,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   OptionalAttr<DenseI64ArrayAttr>:$split,
                   OptionalAttr<I64Attr>:$num_outputs);
  let results = (outs Variadic<AnyTensor>:$outputs);
}

def Onnx_SliceOp : Onnx_ShapeOp<"Slice"> {
  let summary = "strided slice with clamped bounds";
  let description = [{
    ONNX `Slice` (opset 10+: starts, ends, axes and steps as constant inputs;
    opset 1: as attributes). Bounds clamp as in numpy; steps may be negative.
  }];
  let arguments = (ins AnyTensor:$data, TensorOrNone:$starts, TensorOrNone:$ends,
                   TensorOrNone:$axes_input, TensorOrNone:$steps,
                   OptionalAttr<DenseI64ArrayAttr>:$starts_attr,
                   OptionalAttr<DenseI64ArrayAttr>:$ends_attr,
                   OptionalAttr<DenseI64ArrayAttr>:$axes);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def Onnx_GatherOp : Onnx_ShapeOp<"Gather"> {
  let summary = "takes slices along an axis by index";
  let description = "ONNX `Gather`; negative indices count from the end. Folds on constant operands.";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def Onnx_ExpandOp : Onnx_ShapeOp<"Expand"> {
  let summary = "broadcasts to a shape";
  let description = "ONNX `Expand`: the result shape is the numpy broadcast of the input shape and the constant `shape`.";
  let arguments = (ins AnyTensor:$input, AnyTensor:$shape);
  let results = (outs AnyTensor:$output);
}

def Onnx_TileOp : Onnx_ShapeOp<"Tile"> {
  let summary = "repeats a tensor along each axis";
  let description = "ONNX `Tile` with constant `repeats`.";
  let arguments = (ins AnyTensor:$input, AnyTensor:$repeats);
  let results = (outs AnyTensor:$output);
}

def Onnx_ConstantOfShapeOp : Onnx_ShapeOp<"ConstantOfShape"> {
  let summary = "a tensor of a given shape filled with one value";
  let description = "ONNX `ConstantOfShape`: the shape is a constant int64 input; `value` is a one-element tensor (0.0f by default).";
  let arguments = (ins AnyTensor:$input, OptionalAttr<ElementsAttr>:$value);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def Onnx_RangeOp : Onnx_ShapeOp<"Range"> {
  let summary = "a 1-D arithmetic sequence";
  let description = "ONNX `Range` with constant scalar start, limit and delta.";
  let arguments = (ins AnyTensor:$start, AnyTensor:$limit, AnyTensor:$delta);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def Onnx_DropoutOp : Onnx_ShapeOp<"Dropout"> {
  let summary = "identity in inference";
  let description = "ONNX `Dropout` in inference mode: the output is the input; the optional mask is all true.";
  let arguments = (ins AnyTensor:$data, TensorOrNone:$ratio, TensorOrNone:$training_mode,
                   OptionalAttr<I64Attr>:$seed);
  let results = (outs AnyTensor:$output, AnyTensor:$mask);
}

include "dialects/onnx/OnnxTensorOps.td"
include "dialects/onnx/OnnxNNOps.td"
include "dialects/onnx/OnnxRNNOps.td"
include "dialects/onnx/OnnxQuantOps.td"
include "dialects/onnx/OnnxRandomOps.td"
include "dialects/onnx/OnnxSignalOps.td"
include "dialects/onnx/OnnxTextOps.td"
include "dialects/onnx/OnnxControlFlowOps.td"
include "dialects/onnx/OnnxSequenceOps.td"

#endif // KILN_ONNX_OPS_TD
