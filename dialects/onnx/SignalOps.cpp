//===- SignalOps.cpp - verifiers and shape rules of the signal ops --------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;

static constexpr int64_t kDyn = ShapedType::kDynamic;

/// A scalar operand holding integers.
static LogicalResult verifyIntScalar(Operation *op, Value v, StringRef what) {
  if (!isa<IntegerType>(elemOf(v)) || isBool(v))
    return op->emitOpError(what) << " must hold an integer";
  return verifyScalar(op, v, what);
}

/// The value of a constant integer scalar operand, or kDyn.
static int64_t constantSize(Value v) {
  if (auto c = getConstantInts(v); c && c->size() == 1)
    return (*c)[0];
  return kDyn;
}

/// The float element type `dataType` names, or null.
static Type floatType(Operation *op, int64_t dataType) {
  Type t = getElementTypeForOnnx(op->getContext(), dataType);
  return t && isa<FloatType>(t) ? t : Type();
}

LogicalResult kiln::onnx::verifyCosineWindow(Operation *op, Value size,
                                       int64_t dataType) {
  if (failed(verifyIntScalar(op, size, "size")) ||
      failed(verifyFlag(op, "periodic")))
    return failure();
  if (!floatType(op, dataType))
    return op->emitOpError("output_datatype ")
           << dataType << " does not name a float type";
  return success();
}

LogicalResult kiln::onnx::inferCosineWindow(Operation *op, Value size,
                                      int64_t dataType) {
  int64_t n = constantSize(size);
  if (n != kDyn && n < 0)
    return op->emitOpError("size must not be negative, got ") << n;
  setResult(op, {n}, floatType(op, dataType));
  return success();
}

//===----------------------------------------------------------------------===//
// DFT
//===----------------------------------------------------------------------===//

/// The transformed axis of a DFT input of rank `rank`: any dim but the
/// last (complex) one.
static std::optional<int64_t> dftAxis(DFTOp op, int64_t rank) {
  auto axis = normalizeAxis(op.getAxis(), rank);
  if (!axis || *axis == rank - 1)
    return std::nullopt;
  return axis;
}

LogicalResult DFTOp::verify() {
  if (!isFloat(getInput()))
    return emitOpError("input must hold floats");
  if (failed(verifyFlag(*this, "inverse")) ||
      failed(verifyFlag(*this, "onesided")))
    return failure();
  if (!isNone(getDftLength()) &&
      failed(verifyIntScalar(*this, getDftLength(), "dft_length")))
    return failure();
  if (auto t = ranked(getInput())) {
    int64_t last = t.getRank() ? t.getShape().back() : 0;
    if (t.getRank() < 2 || (last != kDyn && last != 1 && last != 2))
      return emitOpError("input must be [batch, ..., 1 or 2] (real or "
                         "complex values in the last dim)");
    if (!dftAxis(*this, t.getRank()))
      return emitOpError("axis ") << getAxis() << " is out of range for rank "
                                  << t.getRank() << " (the last dim holds "
                                  << "the complex parts)";
  }
  return success();
}

LogicalResult DFTOp::inferShapes() {
  auto t = ranked(getInput());
  if (!t)
    return setUnranked(*this, elemOf(getInput()));
  int64_t axis = *dftAxis(*this, t.getRank());
  Shape out(t.getShape());
  int64_t n = isNone(getDftLength()) ? t.getDimSize(axis)
                                     : constantSize(getDftLength());
  if (n != kDyn && n < 1)
    return emitOpError("dft_length must be positive, got ") << n;
  if (getOnesided() && n != kDyn)
    n = n / 2 + 1;
  out[axis] = n;
  out.back() = 2;
  setResult(*this, out, elemOf(getInput()));
  return success();
}

//===----------------------------------------------------------------------===//
// STFT
//===----------------------------------------------------------------------===//

LogicalResult STFTOp::verify() {
  if (!isFloat(getSignal()))
    return emitOpError("signal must hold floats");
  if (failed(verifyFlag(*this, "onesided")) ||
      failed(verifyIntScalar(*this, getFrameStep(), "frame_step")))
    return failure();
  if (isNone(getWindow()) && isNone(getFrameLength()))
    return emitOpError("needs a window or a frame_length");
  if (!isNone(getFrameLength()) &&
      failed(verifyIntScalar(*this, getFrameLength(), "frame_length")))
    return failure();
  if (auto t = ranked(getSignal())) {
    int64_t last = t.getRank() == 3 ? t.getShape().back() : 0;
    if (last != kDyn && last != 1 && last != 2)
      return emitOpError("signal must be [batch, length, 1 or 2]");
  }
  if (!isNone(getWindow()))
    if (auto w = ranked(getWindow()); w && w.getRank() != 1)
      return emitOpError("window must be 1-D");
  return success();
}

LogicalResult STFTOp::inferShapes() {
  auto t = ranked(getSignal());
  if (!t)
    return setUnranked(*this, elemOf(getSignal()));
  int64_t length = kDyn;
  if (!isNone(getWindow())) {
    if (auto w = ranked(getWindow()))
      length = w.getDimSize(0);
  } else {
    length = constantSize(getFrameLength());
  }
  if (!isNone(getWindow()) && !isNone(getFrameLength())) {
    int64_t given = constantSize(getFrameLength());
    if (length != kDyn && given != kDyn && given != length)
      return emitOpError("frame_length ")
             << given << " differs from the window's length " << length;
  }
  int64_t step = constantSize(getFrameStep());
  if (step != kDyn && step < 1)
    return emitOpError("frame_step must be positive, got ") << step;
  if (length != kDyn && length < 1)
    return emitOpError("frame_length must be positive, got ") << length;
  int64_t n = t.getDimSize(1), frames = kDyn, bins = kDyn;
  if (n != kDyn && length != kDyn && length > n)
    return emitOpError("frame_length ")
           << length << " exceeds the signal's length " << n;
  if (n != kDyn && length != kDyn && step != kDyn)
    frames = (n - length) / step + 1;
  if (length != kDyn)
    bins = getOnesided() ? length / 2 + 1 : length;
  setResult(*this, {t.getDimSize(0), frames, bins, 2}, elemOf(getSignal()));
  return success();
}

//===----------------------------------------------------------------------===//
// MelWeightMatrix
//===----------------------------------------------------------------------===//

LogicalResult MelWeightMatrixOp::verify() {
  if (failed(verifyIntScalar(*this, getNumMelBins(), "num_mel_bins")) ||
      failed(verifyIntScalar(*this, getDftLength(), "dft_length")) ||
      failed(verifyIntScalar(*this, getSampleRate(), "sample_rate")) ||
      failed(verifyScalar(*this, getLowerEdgeHertz(), "lower_edge_hertz")) ||
      failed(verifyScalar(*this, getUpperEdgeHertz(), "upper_edge_hertz")))
    return failure();
  if (!isFloat(getLowerEdgeHertz()) || !isFloat(getUpperEdgeHertz()))
    return emitOpError("the edge frequencies must be floats");
  if (!floatType(*this, getOutputDatatype()))
    return emitOpError("output_datatype ")
           << getOutputDatatype() << " does not name a float type";
  return success();
}

LogicalResult MelWeightMatrixOp::inferShapes() {
  int64_t mel = constantSize(getNumMelBins());
  int64_t dft = constantSize(getDftLength());
  if ((mel != kDyn && mel < 1) || (dft != kDyn && dft < 1))
    return emitOpError("num_mel_bins and dft_length must be positive");
  setResult(*this, {dft == kDyn ? kDyn : dft / 2 + 1, mel},
            floatType(*this, getOutputDatatype()));
  return success();
}
