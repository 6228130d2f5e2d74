//===- OnnxSignalOps.td - windows, DFT, STFT, mel filters --*- tablegen -*-===//
//
// Included from OnnxOps.td. Verifiers and shape rules are in SignalOps.cpp,
// the lowerings in OnnxToLinalg/Signal.cpp. Sizes that come from scalar
// inputs read at run time (a window's size, STFT's frame step and length,
// MelWeightMatrix's bin counts) are derived dims (DerivedDims.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_SIGNAL_OPS_TD
#define KILN_ONNX_SIGNAL_OPS_TD

//===----------------------------------------------------------------------===//
// Cosine-sum windows: w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N),
// N = size (periodic) or size - 1 (symmetric).
//===----------------------------------------------------------------------===//

class Onnx_CosineWindowOp<string mnemonic, string coefficients>
    : Onnx_Op<mnemonic> {
  let summary = "a " # mnemonic # " of the given size";
  let description = "ONNX `" # mnemonic # "` (opset 17): a 1-D tensor of "
    # "`size` (an integer scalar) elements, w[n] = a0 - a1 cos(2 pi n / N) + "
    # "a2 cos(4 pi n / N) with " # coefficients # ", N = size when "
    # "`periodic`, else size - 1; of the type `output_datatype` names.";
  let arguments = (ins AnyTensor:$size,
                   DefaultValuedAttr<I64Attr, "1">:$output_datatype,
                   DefaultValuedAttr<I64Attr, "1">:$periodic);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return ::kiln::onnx::verifyCosineWindow(*this, getSize(), getOutputDatatype());
    }
    ::mlir::LogicalResult $cppClass::inferShapes() {
      return ::kiln::onnx::inferCosineWindow(*this, getSize(), getOutputDatatype());
    }
  }];
}

def Onnx_HannWindowOp : Onnx_CosineWindowOp<"HannWindow", "a0 = a1 = 0.5, a2 = 0">;
def Onnx_HammingWindowOp : Onnx_CosineWindowOp<"HammingWindow",
    "a0 = 25/46, a1 = 21/46, a2 = 0">;
def Onnx_BlackmanWindowOp : Onnx_CosineWindowOp<"BlackmanWindow",
    "a0 = 0.42, a1 = 0.5, a2 = 0.08">;

//===----------------------------------------------------------------------===//
// Fourier transforms. Complex values are a last dim of 2 (real, imaginary);
// a real input has a last dim of 1.
//===----------------------------------------------------------------------===//

def Onnx_DFTOp : Onnx_Op<"DFT"> {
  let summary = "discrete Fourier transform along one axis";
  let description = [{
    ONNX `DFT` (opset 17): input [batch, ..., n, ..., 1 or 2], the transform
    along `axis` (not the last dim) of length `dft_length` (a constant
    scalar; the input is cut or zero-padded to it; n without it). `inverse`
    computes the inverse transform (scaled by 1 / length); `onesided` keeps
    the first length / 2 + 1 frequencies of a real input's transform. The
    result is complex (last dim 2).

    ```mlir
    %y = onnx.DFT %x, %none {axis = 1 : i64} : (tensor<1x10x10x1xf32>, none) -> tensor<1x10x10x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, TensorOrNone:$dft_length,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$inverse,
                   DefaultValuedAttr<I64Attr, "0">:$onesided);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_STFTOp : Onnx_Op<"STFT"> {
  let summary = "short-time Fourier transform";
  let description = [{
    ONNX `STFT` (opset 17): signal [batch, length, 1 or 2]; frames of
    `frame_length` samples (the window's length where a window is given)
    every `frame_step` samples, each multiplied by `window` (ones without
    it) and transformed. Result [batch, frames, bins, 2], frames =
    (length - frame_length) / frame_step + 1, bins = frame_length / 2 + 1
    when `onesided` (the default), else frame_length. Step and length may
    be scalars read at run time.

    ```mlir
    %y = onnx.STFT %s, %step, %none, %len : (tensor<1x128x1xf32>, tensor<i64>, none, tensor<i64>) -> tensor<1x?x?x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$signal, AnyTensor:$frame_step,
                   TensorOrNone:$window, TensorOrNone:$frame_length,
                   DefaultValuedAttr<I64Attr, "1">:$onesided);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Onnx_MelWeightMatrixOp : Onnx_Op<"MelWeightMatrix"> {
  let summary = "triangular mel filter bank weights";
  let description = [{
    ONNX `MelWeightMatrix` (opset 17): a [dft_length / 2 + 1, num_mel_bins]
    matrix whose column i is a triangle (peak 1) over the spectrogram bins
    between mel points i and i + 2 of num_mel_bins + 2 points evenly spaced
    on the mel scale (mel(f) = 2595 log10(1 + f / 700)) from
    `lower_edge_hertz` to `upper_edge_hertz`, at `sample_rate`. Every input
    is a scalar, and may be read at run time.
  }];
  let arguments = (ins AnyTensor:$num_mel_bins, AnyTensor:$dft_length,
                   AnyTensor:$sample_rate, AnyTensor:$lower_edge_hertz,
                   AnyTensor:$upper_edge_hertz,
                   DefaultValuedAttr<I64Attr, "1">:$output_datatype);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_ONNX_SIGNAL_OPS_TD
