//===- OnnxNNOps.td - normalization, ConvTranspose, Resize -*- tablegen -*-===//
//
// Included from OnnxOps.td, which defines the base classes. Verifiers and
// shape inference are in NNOps.cpp, the lowerings in OnnxToLinalg/NN.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_NN_OPS_TD
#define KILN_ONNX_NN_OPS_TD

//===----------------------------------------------------------------------===//
// Normalizations over trailing dimensions.
//===----------------------------------------------------------------------===//

def Onnx_LayerNormalizationOp : Onnx_Op<"LayerNormalization"> {
  let summary = "normalization over the dimensions from `axis` on";
  let description = [{
    ONNX `LayerNormalization` (opset 17): with the statistics taken over
    dimensions `axis`..rank-1 of X,

      Y = (X - Mean) * InvStdDev * Scale + B,
      Mean = mean(X), InvStdDev = 1 / sqrt(mean((X - Mean)^2) + epsilon).

    Scale and the optional B broadcast to X. The statistics are computed in
    the type named by `stash_type` (float32 by default); Mean and InvStdDev
    have X's shape with size 1 from `axis` on. The importer gives the op all
    three results whether or not the node names the last two.

    ```mlir
    %y:3 = onnx.LayerNormalization %x, %scale, %b {axis = -1 : i64}
        : (tensor<2x8x64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> (tensor<2x8x64xf32>, tensor<2x8x1xf32>, tensor<2x8x1xf32>)
    ```
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$Scale, TensorOrNone:$B,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y, AnyTensor:$Mean, AnyTensor:$InvStdDev);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_InstanceNormalizationOp : Onnx_Op<"InstanceNormalization"> {
  let summary = "per-image, per-channel normalization over spatial dimensions";
  let description = [{
    ONNX `InstanceNormalization` (opset 6): for each image n and channel c of
    an N x C x D1 x ... input, y = scale[c] * (x - mean) / sqrt(var + epsilon)
    + B[c], with mean and variance over the spatial dimensions.

    ```mlir
    %y = onnx.InstanceNormalization %x, %scale, %b
        : (tensor<1x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x8x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$scale, AnyTensor:$B,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_GroupNormalizationOp : Onnx_Op<"GroupNormalization"> {
  let summary = "normalization over groups of channels";
  let description = [{
    ONNX `GroupNormalization`: the C channels of an N x C x D1 x ... input
    form `num_groups` groups; each (image, group) is normalized with its own
    mean and variance, then scaled and shifted. Scale and bias have one value
    per group (opset 18) or per channel (opset 21); their size says which.

    ```mlir
    %y = onnx.GroupNormalization %x, %scale, %bias {num_groups = 2 : i64}
        : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale, AnyTensor:$bias,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   I64Attr:$num_groups,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_LRNOp : Onnx_Op<"LRN"> {
  let summary = "local response normalization across channels";
  let description = [{
    ONNX `LRN` (opset 13): `y = x / (bias + alpha / size * square_sum) ^
    beta`, square_sum[n, c, ...] the sum of x^2 over the channels
    c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2) that exist.
  }];
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "0.0001">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.75">:$beta,
                   DefaultValuedAttr<F32Attr, "1.0">:$bias, I64Attr:$size);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_MeanVarianceNormalizationOp : Onnx_Op<"MeanVarianceNormalization"> {
  let summary = "normalization to zero mean and unit variance over axes";
  let description = [{
    ONNX `MeanVarianceNormalization` (opset 13, its function body):
    `(X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)`, the expectations over
    `axes` (0, 2, 3 by default).
  }];
  let arguments = (ins AnyTensor:$X, OptionalAttr<DenseI64ArrayAttr>:$axes);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Transposed convolution.
//===----------------------------------------------------------------------===//

def Onnx_ConvTransposeOp : Onnx_WindowOp<"ConvTranspose"> {
  let summary = "N-d transposed convolution (the gradient of Conv)";
  let description = [{
    ONNX `ConvTranspose` on NC(spatial...) input X and C x M/group x
    (kernel...) weights W, with optional bias B of size M. Each spatial
    output size is

      stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1
        - pads[begin] - pads[end],

    or `output_shape`, in which case the pads are derived from it as the
    spec says (more at the end for SAME_UPPER, else at the beginning).
    `auto_pad` SAME_UPPER/SAME_LOWER make the output in * stride.

    ```mlir
    %y = onnx.ConvTranspose %x, %w, %b {strides = array<i64: 2, 2>}
        : (tensor<1x8x4x4xf32>, tensor<8x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x9x9xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$W, TensorOrNone:$B,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$output_padding,
                   OptionalAttr<DenseI64ArrayAttr>:$output_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
}

//===----------------------------------------------------------------------===//
// Resampling.
//===----------------------------------------------------------------------===//

def Onnx_ResizeOp : Onnx_Op<"Resize"> {
  let summary = "resamples a tensor by nearest, linear or cubic interpolation";
  let description = [{
    ONNX `Resize` (opsets 10 to 19). The output size comes from constant
    `sizes`, or from constant `scales` as floor(in * scale); empty constants
    count as absent. Each output coordinate maps back to the input by
    `coordinate_transformation_mode` (half_pixel, pytorch_half_pixel,
    align_corners, asymmetric, tf_half_pixel_for_nn); `nearest` then rounds
    it by `nearest_mode`, `linear` and `cubic` (coefficient
    `cubic_coeff_a`, optionally `exclude_outside`) interpolate every resized
    dimension, reading edge values past the border. `roi` is ignored;
    tf_crop_and_resize, `antialias` and keep_aspect_ratio_policy other than
    "stretch" are rejected.

    Opset 10 has only (X, scales), so its scales sit in the `roi` slot; its
    coordinates are asymmetric and nearest rounds down when enlarging, up when
    shrinking, as in Upsample.

    ```mlir
    %y = onnx.Resize %x, %none, %scales, %none {mode = "linear"}
        : (tensor<1x3x8x8xf32>, none, tensor<4xf32>, none) -> tensor<1x3x16x16xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$X, TensorOrNone:$roi, TensorOrNone:$scales,
                   TensorOrNone:$sizes,
                   DefaultValuedAttr<I64Attr, "0">:$antialias,
                   OptionalAttr<DenseI64ArrayAttr>:$axes,
                   DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                   DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                   DefaultValuedAttr<I64Attr, "0">:$exclude_outside,
                   DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                   DefaultValuedStrAttr<StrAttr, "stretch">:$keep_aspect_ratio_policy,
                   DefaultValuedStrAttr<StrAttr, "nearest">:$mode,
                   DefaultValuedStrAttr<StrAttr, "round_prefer_floor">:$nearest_mode);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_UpsampleOp : Onnx_Op<"Upsample"> {
  let summary = "resize by scales (deprecated form of Resize)";
  let description = [{
    ONNX `Upsample` (opsets 7 to 9): scales come from the `scales`
    attribute (opset 7) or a constant second input (opset 9); the output is
    floor(in * scale). Coordinates are asymmetric; `nearest` rounds down when
    enlarging and up when shrinking, `linear` interpolates.

    ```mlir
    %y = onnx.Upsample %x, %none {scales = array<f32: 1.0, 1.0, 2.0, 2.0>}
        : (tensor<1x3x8x8xf32>, none) -> tensor<1x3x16x16xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$X, TensorOrNone:$scales_input,
                   DefaultValuedStrAttr<StrAttr, "nearest">:$mode,
                   OptionalAttr<DenseF32ArrayAttr>:$scales);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_GridSampleOp : Onnx_Op<"GridSample"> {
  let summary = "samples an image at the points of a grid";
  let description = [{
    ONNX `GridSample` (opset 16): X is N x C x H x W, grid N x Ho x Wo x 2
    of (x, y) points normalized to [-1, 1] (the corner pixels' centres with
    `align_corners`, their outer edges without); Y (N x C x Ho x Wo) takes X
    at each point by `mode` bilinear, nearest (half to even) or bicubic (A =
    -0.75), with points outside read as 0 (`padding_mode` zeros), clamped
    to the border, or reflected at it.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$grid,
                   DefaultValuedAttr<I64Attr, "0">:$align_corners,
                   DefaultValuedStrAttr<StrAttr, "bilinear">:$mode,
                   DefaultValuedStrAttr<StrAttr, "zeros">:$padding_mode);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_MaxUnpoolOp : Onnx_Op<"MaxUnpool"> {
  let summary = "scatters pooled maxima back to where MaxPool found them";
  let description = [{
    ONNX `MaxUnpool` (opsets 9, 11): a zero tensor of the unpooled shape
    ((in - 1) * stride + kernel - pads per spatial dim, or `output_shape`,
    which may be read at run time) takes X[i] where I[i] (MaxPool's
    Indices) points: a row-major position in the default unpooled shape,
    whose coordinates are kept in a larger `output_shape` (the extra
    cells at the end of each dim stay 0). Positions outside the result are
    skipped.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$I, TensorOrNone:$output_shape,
                   DenseI64ArrayAttr:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_RoiAlignOp : Onnx_Op<"RoiAlign"> {
  let summary = "pools regions of interest by bilinear sampling";
  let description = [{
    ONNX `RoiAlign` (opsets 10, 16): X is N x C x H x W, rois R x 4 boxes
    (x1, y1, x2, y2) in input coordinates times `spatial_scale`, and
    batch_indices (R) the image of each. Y (R x C x output_height x
    output_width) averages (`mode` avg) or takes the largest weighted corner
    of (max) a grid of bilinear samples per bin: `sampling_ratio` per side,
    or ceil(bin size) when 0. `coordinate_transformation_mode` half_pixel
    (opset 16's default) shifts the boxes by -0.5; output_half_pixel (opset
    10's behaviour) does not, and makes boxes at least 1 x 1.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$rois,
                   AnyTensor:$batch_indices,
                   OptionalAttr<StrAttr>:$coordinate_transformation_mode,
                   DefaultValuedStrAttr<StrAttr, "avg">:$mode,
                   DefaultValuedAttr<I64Attr, "1">:$output_height,
                   DefaultValuedAttr<I64Attr, "1">:$output_width,
                   DefaultValuedAttr<I64Attr, "0">:$sampling_ratio,
                   DefaultValuedAttr<F32Attr, "1.0">:$spatial_scale);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_NonMaxSuppressionOp : Onnx_Op<"NonMaxSuppression"> {
  let summary = "boxes kept by greedy non-maximum suppression, per batch and class";
  let description = [{
    ONNX `NonMaxSuppression` (opset 10, 11). For each batch and class, the
    boxes by descending score (above `score_threshold`), each kept unless
    its intersection over union with one kept before exceeds
    `iou_threshold`, at most `max_output_boxes_per_class` of them (0 or
    absent: none). `boxes` are [y1, x1, y2, x2] corners in either order, or
    [x_center, y_center, width, height] with `center_point_box` = 1. The
    result holds one [batch, class, box] row per kept box; how many is
    known only once the model runs, bounded by batches x classes x boxes.

    ```mlir
    %y = onnx.NonMaxSuppression %boxes, %scores, %max, %iou, %score : (tensor<1x6x4xf32>, tensor<1x1x6xf32>, tensor<1xi64>, tensor<1xf32>, tensor<1xf32>) -> tensor<?x3xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$boxes, AnyTensor:$scores,
                   TensorOrNone:$max_output_boxes_per_class,
                   TensorOrNone:$iou_threshold, TensorOrNone:$score_threshold,
                   DefaultValuedAttr<I64Attr, "0">:$center_point_box);
  let results = (outs AnyTensor:$selected_indices);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}


def Onnx_NegativeLogLikelihoodLossOp : Onnx_Op<"NegativeLogLikelihoodLoss"> {
  let summary = "the negative log-likelihood of the target classes";
  let description = [{
    ONNX `NegativeLogLikelihoodLoss` (opset 12, 13): for `input` N x C
    (x d1 ... dk) and `target` N (x d1 ... dk) of class indices,
    `loss[n][d] = -input[n][target[n][d]][d] * weight[target[n][d]]`
    (weight 1 without `weight`), 0 where the target is `ignore_index`.
    `reduction` "none" gives that tensor, "sum" its sum, "mean" (the
    default) its sum divided by the sum of the weights taken. A target out
    of [0, C) that is not `ignore_index` (an invalid input) reads the
    nearest class, never out of bounds.

    ```mlir
    %l = onnx.NegativeLogLikelihoodLoss %x, %t, %none {reduction = "sum"} : (tensor<3x5xf32>, tensor<3xi64>, none) -> tensor<f32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$target,
                   TensorOrNone:$weight, OptionalAttr<I64Attr>:$ignore_index,
                   DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs AnyTensor:$loss);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_SoftmaxCrossEntropyLossOp : Onnx_Op<"SoftmaxCrossEntropyLoss"> {
  let summary = "cross entropy of a softmax over the classes";
  let description = [{
    ONNX `SoftmaxCrossEntropyLoss` (opset 12, 13): `log_prob` is the log of
    the softmax of `scores` (N x C x d1 ... dk) over the classes (dim 1),
    and the loss is `NegativeLogLikelihoodLoss(log_prob, labels, weights)`
    with the same `ignore_index` and `reduction`. The second result,
    `log_prob`, is optional.

    ```mlir
    %l, %p = onnx.SoftmaxCrossEntropyLoss %x, %t, %none : (tensor<3x5xf32>, tensor<3xi64>, none) -> (tensor<f32>, tensor<3x5xf32>)
    ```
  }];
  let arguments = (ins AnyTensor:$scores, AnyTensor:$labels,
                   TensorOrNone:$weights, OptionalAttr<I64Attr>:$ignore_index,
                   DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs AnyTensor:$output, Optional<AnyTensor>:$log_prob);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_ONNX_NN_OPS_TD
