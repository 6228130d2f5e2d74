//===- ShapeHelpers.h - shape arithmetic shared by inference and lowering -===//
//
// Free functions that compute ONNX shape rules (broadcasting, convolution
// windows, slices, reduction axes). Shape inference and the lowerings use the
// same functions, so the two can never disagree.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_DIALECTS_ONNX_SHAPEHELPERS_H
#define KILN_DIALECTS_ONNX_SHAPEHELPERS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <string>

namespace kiln::onnx {

using Shape = llvm::SmallVector<int64_t, 4>;

//===----------------------------------------------------------------------===//
// Small helpers of the verifiers and shape rules
//===----------------------------------------------------------------------===//

inline mlir::RankedTensorType ranked(mlir::Value v) {
  return mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
}
inline mlir::Type elemOf(mlir::Value v) {
  return mlir::cast<mlir::ShapedType>(v.getType()).getElementType();
}
inline bool isNone(mlir::Value v) { return mlir::isa<mlir::NoneType>(v.getType()); }
inline bool isFloat(mlir::Value v) { return mlir::isa<mlir::FloatType>(elemOf(v)); }
inline bool isBool(mlir::Value v) { return elemOf(v).isInteger(1); }
inline mlir::Type boolType(mlir::Operation *op) {
  return mlir::IntegerType::get(op->getContext(), 1);
}
inline mlir::Type i64Type(mlir::Operation *op) {
  return mlir::IntegerType::get(op->getContext(), 64);
}
/// Sets result `i` (0 by default) to a ranked or unranked tensor type.
inline void setResult(mlir::Operation *op, unsigned i,
                      llvm::ArrayRef<int64_t> shape, mlir::Type elem) {
  op->getResult(i).setType(mlir::RankedTensorType::get(shape, elem));
}
inline void setResult(mlir::Operation *op, llvm::ArrayRef<int64_t> shape,
                      mlir::Type elem) {
  setResult(op, 0, shape, elem);
}
inline void setUnranked(mlir::Operation *op, unsigned i, mlir::Type elem) {
  op->getResult(i).setType(mlir::UnrankedTensorType::get(elem));
}
inline mlir::LogicalResult setUnranked(mlir::Operation *op, mlir::Type elem) {
  setUnranked(op, 0, elem);
  return mlir::success();
}
/// A ranked operand that must hold one element (a scalar or a 1-element
/// tensor).
inline mlir::LogicalResult verifyScalar(mlir::Operation *op, mlir::Value v,
                                        llvm::StringRef what) {
  if (auto t = ranked(v))
    if (t.hasStaticShape() && t.getNumElements() != 1)
      return op->emitOpError(what) << " must be a scalar";
  return mlir::success();
}
/// An integer attribute that must be 0 or 1 where present.
inline mlir::LogicalResult verifyFlag(mlir::Operation *op,
                                      llvm::StringRef name) {
  auto a = op->getAttrOfType<mlir::IntegerAttr>(name);
  if (a && a.getInt() != 0 && a.getInt() != 1)
    return op->emitOpError(name) << " must be 0 or 1";
  return mlir::success();
}
/// Result 0 takes `v`'s shape, with element type `elem` (v's by default).
inline mlir::LogicalResult sameAsOperand(mlir::Operation *op, mlir::Value v,
                                         mlir::Type elem = nullptr) {
  if (!elem)
    elem = elemOf(v);
  if (auto t = ranked(v))
    setResult(op, 0, t.getShape(), elem);
  else
    setUnranked(op, 0, elem);
  return mlir::success();
}
/// An Einsum equation resolved against its inputs' ranks: one loop dim per
/// letter (and per dim of "..."); each input's and the output's dims as loop
/// dims; the size of each loop dim (dynamic where no input fixes it, 1 where
/// every input broadcasts it).
struct EinsumSpec {
  llvm::SmallVector<llvm::SmallVector<int64_t>> inputs;
  llvm::SmallVector<int64_t> output;
  llvm::SmallVector<int64_t> sizes;
};
std::optional<std::string>
resolveEinsum(llvm::StringRef equation,
              llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes, EinsumSpec &spec);

/// MeanVarianceNormalization's default axes.
inline constexpr int64_t kMvnAxes[] = {0, 2, 3};

/// MatMul's shape rule for result 0 of `op`, of element type `elem`.
mlir::LogicalResult inferMatMulShape(mlir::Operation *op, mlir::Value a,
                                     mlir::Value b, mlir::Type elem);
/// Conv's shape rule (input x, weights w, window attributes of `op`) for
/// result 0, of element type `elem`.
mlir::LogicalResult
inferConvShape(mlir::Operation *op, mlir::Value x, mlir::Value w,
               int64_t group, std::optional<llvm::ArrayRef<int64_t>> kernelShape,
               mlir::Type elem);
/// Ranked operand and result must have compatible shapes.
inline mlir::LogicalResult verifySameShape(mlir::Operation *op, mlir::Value in,
                                           mlir::Value out) {
  auto a = ranked(in), b = ranked(out);
  if (a && b && mlir::failed(mlir::verifyCompatibleShape(a.getShape(),
                                                         b.getShape())))
    return op->emitOpError("result shape differs from the operand shape");
  return mlir::success();
}
/// Result 0 takes the numpy broadcast of `values`' shapes.
mlir::LogicalResult broadcastAll(mlir::Operation *op, mlir::ValueRange values,
                                 mlir::Type elem);

/// Numpy broadcast of two shapes (dynamic dims allowed); nullopt when they
/// do not broadcast.
std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                     llvm::ArrayRef<int64_t> b);

/// The integer values of a constant operand (an onnx.Constant holding ints),
/// or nullopt.
std::optional<llvm::SmallVector<int64_t>> getConstantInts(mlir::Value v);

/// Where `indices` is a constant, that each entry lies in [-n, n), n being
/// bounds[i % bounds.size()] for entry i (one bound: Gather's axis; the
/// dims an index tuple addresses: GatherND/ScatterND). Dynamic bounds and
/// run-time indices are not checked here.
inline mlir::LogicalResult verifyIndicesWithin(mlir::Operation *op,
                                               mlir::Value indices,
                                               llvm::ArrayRef<int64_t> bounds) {
  if (bounds.empty() || llvm::any_of(bounds, mlir::ShapedType::isDynamic))
    return mlir::success();
  auto values = getConstantInts(indices);
  if (!values)
    return mlir::success();
  for (auto [i, v] : llvm::enumerate(*values)) {
    int64_t n = bounds[i % bounds.size()];
    if (v < -n || v >= n)
      return op->emitOpError("index ")
             << v << " (entry " << i
             << " of the constant indices) is out of range for a dimension "
                "of size "
             << n;
  }
  return mlir::success();
}
/// The dims [first, last) that onnx.Shape with `start` and `end` (ONNX's
/// optional attributes, negative from the end, clamped) takes of a tensor
/// of rank `rank`; last >= first.
std::pair<int64_t, int64_t> shapeOpRange(std::optional<int64_t> start,
                                         std::optional<int64_t> end,
                                         int64_t rank);

/// The values of a 0-D or 1-D integer tensor computed from shapes, where
/// they are known at compile time: each entry is the value, or
/// ShapedType::kDynamic where it depends on a dynamic dimension. Follows
/// onnx.Constant, Shape, Gather with constant indices, Concat, Unsqueeze,
/// Squeeze, Reshape and Identity of such values, Cast to an integer type,
/// and Add, Sub, Mul and Div of two of them. Nullopt for anything else (or
/// when no entry is known).
std::optional<llvm::SmallVector<int64_t>> getPartialInts(mlir::Value v);
/// Where a dynamic dimension comes from: a value (a function argument, or
/// the result of an op that tracing does not see through) and its dim. Two
/// dims with the same origin are equal at run time.
using DimOrigin = std::pair<mlir::Value, int64_t>;
/// The origin of dim `d` of `v` (nullopt when that dim is static), followed
/// back through ops that keep it: shape-preserving ops, the batch dim of
/// windows, Transpose, Concat and Slice off their axes, Reshape to a traced
/// target entry, MatMul, Gemm, Gather, Squeeze/Unsqueeze, and broadcasts
/// (the first operand dynamic there: Kiln takes dynamic dims that meet in a
/// broadcast to be equal).
std::optional<DimOrigin> traceDim(mlir::Value v, int64_t d);
/// The origin of entry `i` of a shape value computed from Shape (through
/// Gather, Concat, Unsqueeze/Squeeze/Reshape, Identity and Cast).
std::optional<DimOrigin> traceShapeEntry(mlir::Value shape, int64_t i);

/// The float value of a constant one-element operand, or nullopt.
std::optional<double> getConstantScalar(mlir::Value v);

/// Normalizes a possibly negative axis into [0, rank); nullopt when out of
/// range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// The kernel of a Conv or ConvTranspose: the weights' spatial dims, those
/// the weights leave dynamic from kernel_shape; nullopt when they disagree.
std::optional<Shape>
mergeKernel(mlir::RankedTensorType w,
            std::optional<llvm::ArrayRef<int64_t>> kernelShape);

/// Window geometry of Conv and the pooling ops for one input shape.
struct WindowGeometry {
  Shape kernel, strides, dilations, padBegin, padEnd;
  Shape outSpatial; // dynamic where the input dimension is
};

/// Computes the geometry from the ONNX attributes. `kernel` comes from
/// kernel_shape or the weights. Returns an error message on failure.
std::optional<std::string>
computeWindowGeometry(llvm::ArrayRef<int64_t> inSpatial,
                      llvm::ArrayRef<int64_t> kernel, llvm::StringRef autoPad,
                      std::optional<llvm::ArrayRef<int64_t>> pads,
                      std::optional<llvm::ArrayRef<int64_t>> strides,
                      std::optional<llvm::ArrayRef<int64_t>> dilations,
                      bool ceilMode, WindowGeometry &geometry);

/// One axis of a Slice after clamping: the result takes `size` elements
/// starting at `start`, `step` apart.
struct SliceAxis {
  int64_t start = 0, size = 0, step = 1;
};

/// Resolves ONNX Slice parameters against a static input shape.
std::optional<std::string>
computeSlice(llvm::ArrayRef<int64_t> inShape, llvm::ArrayRef<int64_t> starts,
             llvm::ArrayRef<int64_t> ends, llvm::ArrayRef<int64_t> axes,
             llvm::ArrayRef<int64_t> steps, llvm::SmallVector<SliceAxis> &out);

/// Normalized, sorted reduction axes for a Reduce* op; `all` when reducing
/// every axis. Returns an error message on failure.
std::optional<std::string> resolveReduceAxes(mlir::Operation *op, int64_t rank,
                                             llvm::SmallVector<int64_t> &axes);

/// Sizes of the parts of a Split op.
std::optional<std::string> resolveSplitSizes(mlir::Operation *op,
                                             int64_t dimSize,
                                             llvm::SmallVector<int64_t> &sizes);

/// Axes of Squeeze/Unsqueeze from the attribute or the constant input.
std::optional<llvm::SmallVector<int64_t>> getAxesOperandOrAttr(
    mlir::Value axesInput, std::optional<llvm::ArrayRef<int64_t>> axesAttr);

/// The start/end/axes/steps of a Slice op (inputs or opset-1 attributes).
/// With `runTimeEnds`, ends that are not constants (but of known length)
/// come back as ShapedType::kDynamic entries.
std::optional<std::string> getSliceParams(mlir::Operation *op, int64_t rank,
                                          llvm::SmallVector<int64_t> &starts,
                                          llvm::SmallVector<int64_t> &ends,
                                          llvm::SmallVector<int64_t> &axes,
                                          llvm::SmallVector<int64_t> &steps,
                                          bool runTimeEnds = false);

/// The softmax axis (normalized) and whether the op uses the pre-13
/// "flatten to 2-D" semantics.
int64_t getSoftmaxAxis(mlir::Operation *op, int64_t rank, bool &coerced2D);

/// Reads the integers of a constant operand; shape inference passes
/// getConstantInts, the lowerings a reader that also sees arith.constant.
using ConstantIntsFn =
    llvm::function_ref<std::optional<llvm::SmallVector<int64_t>>(mlir::Value)>;

/// Begin (`low`) and end (`high`) pads per dimension of a Pad op, from the
/// `pads` attribute or the constant pads and axes inputs.
std::optional<std::string> resolvePads(mlir::Operation *op, int64_t rank,
                                       llvm::SmallVector<int64_t> &low,
                                       llvm::SmallVector<int64_t> &high,
                                       ConstantIntsFn ints = getConstantInts);

//===----------------------------------------------------------------------===//
// ConvTranspose and Resize (defined in NNOps.cpp)
//===----------------------------------------------------------------------===//

/// Geometry of ConvTranspose for one input shape. The output is the full
/// transposed convolution, of size stride * (in - 1) + output_padding +
/// (kernel - 1) * dilation + 1, less padBegin cells at the start and padEnd
/// at the end; a negative pad (from output_shape) adds zero cells instead.
struct ConvTransposeGeometry {
  Shape kernel, strides, dilations, padBegin, padEnd;
  Shape outSpatial; // dynamic where the input dimension is
};

/// Computes the geometry from `op`'s ConvTranspose attributes; `kernel` comes
/// from kernel_shape or the weights. Returns an error message on failure.
std::optional<std::string>
computeConvTransposeGeometry(mlir::Operation *op,
                             llvm::ArrayRef<int64_t> inSpatial,
                             llvm::ArrayRef<int64_t> kernel,
                             ConvTransposeGeometry &geometry);

/// What a Resize or Upsample op computes, its opset differences resolved.
struct ResizeParams {
  std::string mode;        // nearest, linear or cubic
  std::string coordMode;   // half_pixel, asymmetric, align_corners, ...
  std::string nearestMode; // round_prefer_floor, ..., or simple (opset < 11)
  double cubicA = -0.75;
  bool excludeOutside = false;
  llvm::SmallVector<double> scales; // one per dimension
  Shape outShape;                   // dynamic where unknown
  /// With allowRuntime, the operand whose values are known at run time only
  /// (the other one null); `scales` and `outShape` then say nothing.
  mlir::Value runtimeScales, runtimeSizes;
  /// tf_crop_and_resize (run time only): the roi operand, and the value of
  /// output elements whose source lies outside the input.
  mlir::Value runtimeRoi;
  double extrapolation = 0;
};

/// Resolves the parameters of a Resize or Upsample op for an input shape
/// (`outShape` is dynamic where the input is). Returns an error message for
/// invalid or unsupported attributes, and when scales or sizes are not
/// constants (unless `allowRuntime`: then runtimeScales or runtimeSizes).
std::optional<std::string> resolveResize(mlir::Operation *op,
                                         llvm::ArrayRef<int64_t> inShape,
                                         ResizeParams &params,
                                         bool allowRuntime = false);


//===----------------------------------------------------------------------===//
// LSTM, GRU and RNN (defined in RNNOps.cpp)
//===----------------------------------------------------------------------===//

/// A gate activation of a recurrent op with its resolved alpha and beta.
struct RecurrentActivation {
  enum Kind {
    Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh,
    HardSigmoid, Elu, Softsign, Softplus
  };
  Kind kind = Tanh;
  float alpha = 0, beta = 0;
};

/// What a recurrent op computes, its attributes and shapes resolved.
struct RecurrentParams {
  int64_t gates = 1;         // 4 (LSTM), 3 (GRU) or 1 (RNN)
  int64_t numDirections = 1; // 2 when bidirectional
  bool reverse = false;      // direction "reverse" (one direction)
  bool batchFirst = false;   // layout 1
  int64_t seq = 0, batch = 0, input = 0, hidden = 0; // dynamic where unknown
  /// The activations of each direction back to back: 3 per direction for
  /// LSTM (f, g, h), 2 for GRU (f, g), 1 for RNN (f).
  llvm::SmallVector<RecurrentActivation> activations;
};

/// Resolves the attributes of an LSTM, GRU or RNN op and the dimensions of
/// its (ranked) operands, checking that they agree. Returns an error message
/// on failure.
std::optional<std::string> resolveRecurrent(mlir::Operation *op,
                                            RecurrentParams &params);

} // namespace kiln::onnx

#endif // KILN_DIALECTS_ONNX_SHAPEHELPERS_H
