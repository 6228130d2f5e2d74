//===- OnnxTensorOps.td - more onnx operations -----------*- tablegen -*-===//
//
// Included from OnnxOps.td, which defines the base classes. Tensor
// operators beyond the core set: type matching, triangles, element gathers
// and scatters, scans, block rearrangements, padding and generated tensors.
// Each prints as its operands and attributes (the Onnx_ShapeOp form).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_TENSOR_OPS_TD
#define KILN_ONNX_TENSOR_OPS_TD

def Onnx_CastLikeOp : Onnx_ShapeOp<"CastLike"> {
  let summary = "element type conversion to the type of another tensor";
  let description = [{
    ONNX `CastLike` (opset 15): `Cast` of `input` to the element type of
    `target_type`, whose values and shape are ignored.

    ```mlir
    %y = onnx.CastLike %x, %like : (tensor<3xf64>, tensor<1xf32>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$target_type,
                   OptionalAttr<I64Attr>:$saturate);
  let results = (outs AnyTensor:$output);
}

def Onnx_TriluOp : Onnx_ShapeOp<"Trilu"> {
  let summary = "upper or lower triangle of the last two dimensions";
  let description = [{
    ONNX `Trilu` (opset 14): keeps the elements on and above (`upper` = 1)
    or on and below (`upper` = 0) the `k`-th diagonal of each matrix in the
    last two dimensions and zeroes the rest. `k` is an optional int64 scalar
    input (0 when absent) and may be computed at run time.

    ```mlir
    %y = onnx.Trilu %x, %k {upper = 0 : i64} : (tensor<4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, TensorOrNone:$k,
                   DefaultValuedAttr<I64Attr, "1">:$upper);
  let results = (outs AnyTensor:$output);
}

def Onnx_GatherElementsOp : Onnx_ShapeOp<"GatherElements"> {
  let summary = "takes one element per index along an axis";
  let description = [{
    ONNX `GatherElements` (opset 11, 13): `output[i][j][k] =
    data[indices[i][j][k]][j][k]` for `axis` = 0, and so on. The output has
    the shape of `indices`; negative indices count from the end. An index
    out of range (an invalid model) is clamped, never read out of bounds.

    ```mlir
    %y = onnx.GatherElements %data, %idx {axis = 1 : i64} : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
}

def Onnx_CumSumOp : Onnx_ShapeOp<"CumSum"> {
  let summary = "cumulative sum along an axis";
  let description = [{
    ONNX `CumSum` (opset 11, 14): running sums along the axis given by the
    scalar `axis` input. `exclusive` leaves out the element itself,
    `reverse` sums from the end.

    ```mlir
    %y = onnx.CumSum %x, %axis {exclusive = 1 : i64} : (tensor<5xf64>, tensor<i32>) -> tensor<5xf64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$exclusive,
                   DefaultValuedAttr<I64Attr, "0">:$reverse);
  let results = (outs AnyTensor:$y);
}

def Onnx_HardmaxOp : Onnx_ShapeOp<"Hardmax"> {
  let summary = "1 at the first largest element along an axis, else 0";
  let description = [{
    ONNX `Hardmax`. Before opset 13 the input is treated as 2-D, flattened
    at `axis` (default 1); from 13 it is along the single axis (default -1),
    as for `Softmax`.

    ```mlir
    %y = onnx.Hardmax %x {axis = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, OptionalAttr<I64Attr>:$axis);
  let results = (outs AnyTensor:$output);
}

def Onnx_DepthToSpaceOp : Onnx_ShapeOp<"DepthToSpace"> {
  let summary = "moves channel blocks into spatial blocks";
  let description = [{
    ONNX `DepthToSpace` (opset 11, 13) on an N x C x H x W tensor: the
    result is N x C/(b*b) x H*b x W*b for `blocksize` b. `mode` DCR takes
    the block offset from the high channel bits (depth-column-row), CRD from
    the low ones (column-row-depth).

    ```mlir
    %y = onnx.DepthToSpace %x {blocksize = 2 : i64, mode = "CRD"} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$blocksize,
                   DefaultValuedStrAttr<StrAttr, "DCR">:$mode);
  let results = (outs AnyTensor:$output);
}

def Onnx_SpaceToDepthOp : Onnx_ShapeOp<"SpaceToDepth"> {
  let summary = "moves spatial blocks into channels";
  let description = [{
    ONNX `SpaceToDepth` (opset 13), the inverse of DCR `DepthToSpace`: an
    N x C x H x W tensor becomes N x C*b*b x H/b x W/b.

    ```mlir
    %y = onnx.SpaceToDepth %x {blocksize = 2 : i64} : (tensor<1x1x4x6xf32>) -> tensor<1x4x2x3xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$blocksize);
  let results = (outs AnyTensor:$output);
}

def Onnx_OneHotOp : Onnx_ShapeOp<"OneHot"> {
  let summary = "one-hot encoding along a new axis";
  let description = [{
    ONNX `OneHot` (opset 11): a new axis of size `depth` (a constant scalar)
    is inserted at `axis`; the result holds `values[1]` where its index
    along that axis equals the index (negative ones count from `depth`),
    `values[0]` elsewhere. Indices out of range give an all-off row.

    ```mlir
    %y = onnx.OneHot %idx, %depth, %values : (tensor<3xi64>, tensor<f32>, tensor<2xf32>) -> tensor<3x10xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$indices, AnyTensor:$depth, AnyTensor:$values,
                   DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
}

def Onnx_PadOp : Onnx_ShapeOp<"Pad"> {
  let summary = "pads (or crops) each dimension";
  let description = [{
    ONNX `Pad`. Before opset 11 the `pads` (begins then ends, one per
    dimension) and the constant `value` are attributes; from 11 they are
    inputs (`pads` a constant int64 tensor, `constant_value` an optional
    scalar), and from 18 an optional constant `axes` input says which
    dimensions `pads` covers. Negative pads remove elements. `mode` is
    `constant`, `reflect` (mirror without repeating the edge), `edge`
    (repeat the edge) or `wrap` (opset 19, cyclic).

    ```mlir
    %y = onnx.Pad %x, %pads, %value, %none {mode = "constant"} : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>, none) -> tensor<3x6xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, TensorOrNone:$pads_input,
                   TensorOrNone:$constant_value, TensorOrNone:$axes,
                   DefaultValuedStrAttr<StrAttr, "constant">:$mode,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<F32Attr>:$value);
  let results = (outs AnyTensor:$output);
}

class Onnx_ScatterBase<string mnemonic> : Onnx_ShapeOp<mnemonic> {
  let summary = "writes elements into a copy of data at indices along an axis";
  let results = (outs AnyTensor:$output);
}

def Onnx_ScatterElementsOp : Onnx_ScatterBase<"ScatterElements"> {
  let description = [{
    ONNX `ScatterElements` (opset 11, 13, 16, 18): the output is `data` with
    `output[indices[i][j]][j] = updates[i][j]` for `axis` = 0, and so on;
    `indices` and `updates` have one shape. With `reduction` add, mul (16)
    or max, min (18) the update is combined with the value there, in index
    order. Negative indices count from the end; out-of-range ones (an
    invalid model) are clamped.

    ```mlir
    %y = onnx.ScatterElements %data, %idx, %upd {axis = 1 : i64, reduction = "add"} : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedStrAttr<StrAttr, "none">:$reduction);
}

def Onnx_ScatterOp : Onnx_ScatterBase<"Scatter"> {
  let description = [{
    ONNX `Scatter` (opset 9 to 10, deprecated): `ScatterElements` without
    a reduction.
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
}

def Onnx_GatherNDOp : Onnx_ShapeOp<"GatherND"> {
  let summary = "takes slices of data at index tuples";
  let description = [{
    ONNX `GatherND` (opsets 11-13): the last dim of `indices` (k entries)
    indexes the first k dims of data after the `batch_dims` shared leading
    dims; the result has shape indices.shape[:-1] + data.shape[batch_dims +
    k:]. Negative indices count from the end; an index out of range (an
    invalid input) is clamped, never read out of bounds.
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs AnyTensor:$output);
}

def Onnx_ScatterNDOp : Onnx_ShapeOp<"ScatterND"> {
  let summary = "writes slices into a copy of data at index tuples";
  let description = [{
    ONNX `ScatterND` (opsets 11-16): for each index tuple (the last dim of
    `indices`, k entries), the slice of `updates` at the tuple's position
    replaces (or with `reduction` add, mul, max, min combines with) the
    slice of data it names; updates has shape indices.shape[:-1] +
    data.shape[k:]. Tuples are applied in order. Indices out of range are
    clamped.
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                   DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyTensor:$output);
}

def Onnx_ReverseSequenceOp : Onnx_ShapeOp<"ReverseSequence"> {
  let summary = "reverses the first sequence_lens[b] steps of each batch entry";
  let description = [{
    ONNX `ReverseSequence` (opset 10): along `time_axis`, batch entry b
    (along `batch_axis`) has its first sequence_lens[b] elements reversed
    and the rest copied. Lengths are clamped to [0, the time axis' size].
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$sequence_lens,
                   DefaultValuedAttr<I64Attr, "1">:$batch_axis,
                   DefaultValuedAttr<I64Attr, "0">:$time_axis);
  let results = (outs AnyTensor:$Y);
}

def Onnx_EyeLikeOp : Onnx_ShapeOp<"EyeLike"> {
  let summary = "a 2-D tensor with ones on a diagonal";
  let description = [{
    ONNX `EyeLike` (opset 9): zeros of the input's shape with ones where
    column - row = `k`. The element type is `dtype` (a TensorProto.DataType
    code) or else the input's.

    ```mlir
    %y = onnx.EyeLike %x {dtype = 1 : i64, k = 1 : i64} : (tensor<4x5xi32>) -> tensor<4x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, OptionalAttr<I64Attr>:$dtype,
                   DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs AnyTensor:$output);
}

//===----------------------------------------------------------------------===//
// Outputs whose size depends on the values
//===----------------------------------------------------------------------===//

def Onnx_TopKOp : Onnx_ShapeOp<"TopK"> {
  let summary = "the k largest (or smallest) elements along an axis, with their indices";
  let description = [{
    ONNX `TopK`. Before opset 10 `k` is an attribute (`k_attr` here); from
    10 it is the `K` input (one int64), which may be known at run time only: the result's
    dim along `axis` is then a derived dim. Equal elements keep their order
    (the lower index first); the results are sorted whatever `sorted` says.

    ```mlir
    %v, %i = onnx.TopK %x, %k {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>)
    ```
  }];
  let arguments = (ins AnyTensor:$X, TensorOrNone:$K,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$largest,
                   DefaultValuedAttr<I64Attr, "1">:$sorted,
                   OptionalAttr<I64Attr>:$k_attr);
  let results = (outs AnyTensor:$Values, AnyTensor:$Indices);
}

def Onnx_CompressOp : Onnx_ShapeOp<"Compress"> {
  let summary = "the slices along an axis where a condition holds";
  let description = [{
    ONNX `Compress` (opset 9, 11): the slices of `input` along `axis` (or
    the elements of the flattened input, without `axis`) whose entry of the
    1-D bool `condition` is true; entries past the condition's end count as
    false. The result's size along the axis is the number of true entries,
    known only once the model runs: it is bounded by the input's.

    ```mlir
    %y = onnx.Compress %x, %c {axis = 0 : i64} : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<?x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$condition,
                   OptionalAttr<I64Attr>:$axis);
  let results = (outs AnyTensor:$output);
}

def Onnx_NonZeroOp : Onnx_ShapeOp<"NonZero"> {
  let summary = "the indices of the nonzero elements";
  let description = [{
    ONNX `NonZero` (opset 9, 13): an int64 tensor of shape [rank, n], column
    j the coordinates of the j-th nonzero element in row-major order. n is
    known only once the model runs: it is bounded by the element count.

    ```mlir
    %y = onnx.NonZero %x : (tensor<2x2xi1>) -> tensor<2x?xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
}

def Onnx_UniqueOp : Onnx_ShapeOp<"Unique"> {
  let summary = "the distinct slices (or elements) of a tensor";
  let description = [{
    ONNX `Unique` (opset 11): the distinct slices of `X` along `axis` (the
    distinct elements of the flattened X without `axis`), sorted ascending
    (lexicographically for slices) or, with `sorted` = 0, in the order they
    first appear; `indices`, where each first appears; `inverse_indices`,
    for each slice of X its place in Y; `counts`, how often each appears.
    The number of distinct ones is known only once the model runs: it is
    bounded by the number of slices.

    ```mlir
    %y, %i, %v, %c = onnx.Unique %x {sorted = 1 : i64} : (tensor<6xf32>) -> (tensor<?xf32>, tensor<?xi64>, tensor<6xi64>, tensor<?xi64>)
    ```
  }];
  let arguments = (ins AnyTensor:$X, OptionalAttr<I64Attr>:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$sorted);
  let results = (outs AnyTensor:$Y, AnyTensor:$indices,
                 AnyTensor:$inverse_indices, AnyTensor:$counts);
}

#endif // KILN_ONNX_TENSOR_OPS_TD
