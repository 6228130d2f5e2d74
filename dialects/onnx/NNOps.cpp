//===- NNOps.cpp - normalization, ConvTranspose and Resize ops ------------===//
//
// Verifiers, shape inference and the shape rules (shared with the lowering
// through ShapeHelpers.h) of the ops in OnnxNNOps.td.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include <cmath>

using namespace mlir;
using namespace kiln::onnx;
using llvm::ArrayRef;
using llvm::SmallVector;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::optional<ArrayRef<int64_t>> arrayAttr(Operation *op, StringRef name) {
  if (auto a = op->getAttrOfType<DenseI64ArrayAttr>(name))
    return a.asArrayRef();
  return std::nullopt;
}

/// The values of a constant float (or integer) operand, or nullopt.
std::optional<SmallVector<double>> getConstantFloats(Value v) {
  auto cst = v ? v.getDefiningOp<ConstantOp>() : nullptr;
  if (!cst)
    return std::nullopt;
  SmallVector<double> out;
  if (auto f = dyn_cast<DenseFPElementsAttr>(cst.getValue())) {
    for (const APFloat &x : f.getValues<APFloat>())
      out.push_back(x.convertToDouble());
    return out;
  }
  if (auto ints = getConstantInts(v)) {
    for (int64_t x : *ints)
      out.push_back((double)x);
    return out;
  }
  return std::nullopt;
}

/// The operand must be a float tensor.
LogicalResult verifyFloat(Operation *op, Value v, StringRef what) {
  if (!isa<FloatType>(elemOf(v)))
    return op->emitOpError(what)
           << " must be a floating-point tensor, got " << elemOf(v);
  return success();
}

/// The stash_type attribute must name a float type.
LogicalResult verifyStashType(Operation *op, int64_t stashType) {
  if (!isa_and_nonnull<FloatType>(
          getElementTypeForOnnx(op->getContext(), stashType)))
    return op->emitOpError("stash_type ")
           << stashType << " is not a floating-point type";
  return success();
}

/// `v`, when ranked, must broadcast to `shape` without changing it.
LogicalResult checkBroadcastsTo(Operation *op, Value v, ArrayRef<int64_t> shape,
                                StringRef what) {
  auto t = ranked(v);
  if (!t)
    return success();
  auto b = broadcastShapes(shape, t.getShape());
  if (!b || ArrayRef<int64_t>(*b) != shape)
    return op->emitOpError(what) << " does not broadcast to the input shape";
  return success();
}

/// `v`, when ranked, must be 1-D with `size` elements (when known).
LogicalResult checkVector(Operation *op, Value v, int64_t size,
                          StringRef what) {
  auto t = ranked(v);
  if (!t)
    return success();
  if (t.getRank() != 1)
    return op->emitOpError(what) << " must be 1-D";
  if (size != kDyn && !t.isDynamicDim(0) && t.getDimSize(0) != size)
    return op->emitOpError(what)
           << " has " << t.getDimSize(0) << " elements, expected " << size;
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// LayerNormalization, InstanceNormalization, GroupNormalization
//===----------------------------------------------------------------------===//

LogicalResult LayerNormalizationOp::verify() {
  if (failed(verifyFloat(*this, getX(), "X")) ||
      failed(verifyStashType(*this, getStashType())))
    return failure();
  if (auto t = ranked(getX()))
    if (!normalizeAxis(getAxis(), t.getRank()))
      return emitOpError("axis ") << (int64_t)getAxis() << " is out of range";
  return success();
}

LogicalResult LayerNormalizationOp::inferShapes() {
  Type elem = elemOf(getX());
  Type stash = getElementTypeForOnnx(getContext(), getStashType());
  auto t = ranked(getX());
  if (!t) {
    setUnranked(*this, 0, elem);
    setUnranked(*this, 1, stash);
    setUnranked(*this, 2, stash);
    return success();
  }
  auto axis = normalizeAxis(getAxis(), t.getRank());
  if (!axis)
    return emitOpError("axis ") << (int64_t)getAxis() << " is out of range";
  if (failed(checkBroadcastsTo(*this, getScale(), t.getShape(), "Scale")) ||
      failed(checkBroadcastsTo(*this, getB(), t.getShape(), "B")))
    return failure();
  Shape stats(t.getShape());
  for (int64_t i = *axis; i < t.getRank(); ++i)
    stats[i] = 1;
  setResult(*this, 0, t.getShape(), elem);
  setResult(*this, 1, stats, stash);
  setResult(*this, 2, stats, stash);
  return success();
}

LogicalResult InstanceNormalizationOp::verify() {
  if (failed(verifyFloat(*this, getInput(), "input")))
    return failure();
  if (auto t = ranked(getInput()))
    if (t.getRank() < 3)
      return emitOpError("expects an input of rank 3 or more, got ")
             << t.getRank();
  return success();
}

LogicalResult InstanceNormalizationOp::inferShapes() {
  auto t = ranked(getInput());
  if (!t) {
    setUnranked(*this, 0, elemOf(getInput()));
    return success();
  }
  if (failed(checkVector(*this, getScale(), t.getDimSize(1), "scale")) ||
      failed(checkVector(*this, getB(), t.getDimSize(1), "B")))
    return failure();
  setResult(*this, 0, t.getShape(), t.getElementType());
  return success();
}

LogicalResult GroupNormalizationOp::verify() {
  if (failed(verifyFloat(*this, getX(), "X")) ||
      failed(verifyStashType(*this, getStashType())))
    return failure();
  if ((int64_t)getNumGroups() < 1)
    return emitOpError("num_groups must be positive");
  if (auto t = ranked(getX()))
    if (t.getRank() < 2)
      return emitOpError("expects an input of rank 2 or more, got ")
             << t.getRank();
  return success();
}

LogicalResult GroupNormalizationOp::inferShapes() {
  auto t = ranked(getX());
  if (!t) {
    setUnranked(*this, 0, elemOf(getX()));
    return success();
  }
  int64_t c = t.getDimSize(1), groups = (int64_t)getNumGroups();
  if (c != kDyn && c % groups != 0)
    return emitOpError("channels (")
           << c << ") are not divisible by num_groups (" << groups << ")";
  // Opset 18 has one scale per group, opset 21 one per channel.
  for (Value v : {getScale(), getBias()}) {
    auto vt = ranked(v);
    if (!vt)
      continue;
    if (vt.getRank() != 1)
      return emitOpError("scale and bias must be 1-D");
    int64_t n = vt.getDimSize(0);
    if (n != kDyn && c != kDyn && n != groups && n != c)
      return emitOpError("scale and bias must have num_groups (")
             << groups << ") or channels (" << c << ") elements, got " << n;
  }
  setResult(*this, 0, t.getShape(), t.getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

std::optional<std::string> kiln::onnx::computeConvTransposeGeometry(
    Operation *op, ArrayRef<int64_t> inSpatial, ArrayRef<int64_t> kernel,
    ConvTransposeGeometry &g) {
  size_t n = inSpatial.size();
  if (kernel.size() != n)
    return "kernel has " + std::to_string(kernel.size()) +
           " dimensions but the input has " + std::to_string(n) +
           " spatial dimensions";
  auto take = [&](StringRef name, Shape &into, int64_t fill,
                  size_t count) -> std::optional<std::string> {
    into.assign(count, fill);
    auto a = arrayAttr(op, name);
    if (!a || a->empty())
      return std::nullopt;
    if (a->size() != count)
      return (name + " must have " + std::to_string(count) + " values").str();
    into.assign(a->begin(), a->end());
    return std::nullopt;
  };
  Shape pads, outputPadding;
  if (auto err = take("strides", g.strides, 1, n))
    return err;
  if (auto err = take("dilations", g.dilations, 1, n))
    return err;
  if (auto err = take("output_padding", outputPadding, 0, n))
    return err;
  if (auto err = take("pads", pads, 0, 2 * n))
    return err;
  g.kernel.assign(kernel.begin(), kernel.end());
  for (size_t i = 0; i < n; ++i)
    if (g.strides[i] < 1 || g.dilations[i] < 1 ||
        (g.kernel[i] < 1 && g.kernel[i] != kDyn))
      return std::string(
          "strides, dilations and kernel sizes must be positive");
  for (int64_t p : outputPadding)
    if (p < 0)
      return std::string("output_padding must not be negative");

  // output_shape may list only the spatial dims or all of them.
  std::optional<ArrayRef<int64_t>> outputShape = arrayAttr(op, "output_shape");
  if (outputShape && outputShape->empty())
    outputShape.reset();
  if (outputShape) {
    if (outputShape->size() != n && outputShape->size() != n + 2)
      return "output_shape must have " + std::to_string(n) + " values";
    outputShape = outputShape->take_back(n);
  }

  auto autoPadAttr = op->getAttrOfType<StringAttr>("auto_pad");
  StringRef autoPad = autoPadAttr ? autoPadAttr.getValue() : "NOTSET";
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (!same && autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "")
    return "unknown auto_pad '" + autoPad.str() + "'";

  g.padBegin.assign(n, 0);
  g.padEnd.assign(n, 0);
  g.outSpatial.assign(n, kDyn);
  for (size_t i = 0; i < n; ++i) {
    int64_t in = inSpatial[i];
    if (in == kDyn || g.kernel[i] == kDyn) // known at run time
      continue;
    int64_t full = g.strides[i] * (in - 1) + outputPadding[i] +
                   (g.kernel[i] - 1) * g.dilations[i] + 1;
    int64_t out;
    if (outputShape || same) {
      // The spec's rule: the total padding is split evenly, the odd cell at
      // the end for SAME_UPPER and at the beginning otherwise (floor
      // division, so a negative total extends the end).
      out = outputShape ? (*outputShape)[i] : in * g.strides[i];
      int64_t total = full - out;
      if (autoPad == "SAME_UPPER") {
        g.padBegin[i] = floorDiv(total, 2);
        g.padEnd[i] = total - g.padBegin[i];
      } else {
        g.padEnd[i] = floorDiv(total, 2);
        g.padBegin[i] = total - g.padEnd[i];
      }
    } else if (autoPad == "VALID") {
      out = full;
    } else {
      g.padBegin[i] = pads[i];
      g.padEnd[i] = pads[i + n];
      if (g.padBegin[i] < 0 || g.padEnd[i] < 0)
        return std::string("negative pads are not supported");
      out = full - g.padBegin[i] - g.padEnd[i];
    }
    if (out < 1)
      return "output size " + std::to_string(out) + " of spatial dimension " +
             std::to_string(i) + " is not positive";
    g.outSpatial[i] = out;
  }
  return std::nullopt;
}

LogicalResult ConvTransposeOp::verify() {
  if ((int64_t)getGroup() < 1)
    return emitOpError("group must be positive");
  if (auto b = ranked(getB()))
    if (b.getRank() != 1)
      return emitOpError("bias must be 1-D");
  auto t = ranked(getX());
  if (!t)
    return success();
  if (t.getRank() < 3)
    return emitOpError("expects an input of rank 3 or more, got ")
           << t.getRank();
  int64_t n = t.getRank() - 2;
  for (StringRef name :
       {"kernel_shape", "strides", "dilations", "output_padding"})
    if (auto a = arrayAttr(*this, name))
      if ((int64_t)a->size() != n)
        return emitOpError(name) << " must have " << n << " values";
  if (auto p = arrayAttr(*this, "pads"))
    if ((int64_t)p->size() != 2 * n)
      return emitOpError("pads must have ") << 2 * n << " values";
  if (!llvm::is_contained({"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"},
                          getAutoPad()))
    return emitOpError("unknown auto_pad '") << getAutoPad() << "'";
  return success();
}

LogicalResult ConvTransposeOp::inferShapes() {
  auto x = ranked(getX()), w = ranked(getW());
  if (!x || !w) {
    setUnranked(*this, 0, elemOf(getX()));
    return success();
  }
  if (w.getRank() != x.getRank())
    return emitOpError("weights rank ")
           << w.getRank() << " differs from input rank " << x.getRank();
  int64_t c = x.getDimSize(1);
  if (c != kDyn && w.getDimSize(0) != kDyn && w.getDimSize(0) != c)
    return emitOpError("input channels (")
           << c << ") differ from the weights' first dimension ("
           << w.getDimSize(0) << ")";
  int64_t group = getGroup();
  if (c != kDyn && c % group != 0)
    return emitOpError("input channels are not divisible by group");
  int64_t m = w.isDynamicDim(1) ? kDyn : w.getDimSize(1) * group;
  if (failed(checkVector(*this, getB(), m, "bias")))
    return failure();
  auto merged = mergeKernel(w, getKernelShape());
  if (!merged)
    return emitOpError("kernel_shape differs from the weights");
  Shape kernel = *merged;
  ConvTransposeGeometry g;
  if (auto err = computeConvTransposeGeometry(*this, x.getShape().drop_front(2),
                                              kernel, g))
    return emitOpError(*err);
  Shape out{x.getDimSize(0), m};
  out.append(g.outSpatial.begin(), g.outSpatial.end());
  setResult(*this, 0, out, x.getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// Resize, Upsample
//===----------------------------------------------------------------------===//

namespace {
/// A scales or sizes operand: absent (none, or an empty tensor), a constant,
/// or a value only known at run time.
struct ResizeInput {
  bool present = false;
  std::optional<SmallVector<double>> values;
  Value operand;
};

ResizeInput readResizeInput(Value v) {
  ResizeInput in;
  if (!v || isNone(v))
    return in;
  in.operand = v;
  in.values = getConstantFloats(v);
  if (in.values)
    in.present = !in.values->empty();
  else if (auto t = ranked(v))
    in.present = t.getRank() != 1 || t.getDimSize(0) != 0;
  else
    in.present = true;
  return in;
}
} // namespace

std::optional<std::string> kiln::onnx::resolveResize(Operation *op,
                                                     ArrayRef<int64_t> inShape,
                                                     ResizeParams &p,
                                                     bool allowRuntime) {
  int64_t rank = inShape.size();
  p.scales.assign(rank, 1.0);
  p.outShape.assign(inShape.begin(), inShape.end());
  p.cubicA = -0.75;
  p.excludeOutside = false;
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < rank; ++i)
    axes.push_back(i);

  ResizeInput scales, sizes;
  if (auto up = dyn_cast<UpsampleOp>(op)) {
    p.mode = up.getMode() == "bilinear" ? "linear" : up.getMode().str();
    p.coordMode = "asymmetric";
    p.nearestMode = "simple";
    if (!isNone(up.getScalesInput())) {
      scales = readResizeInput(up.getScalesInput());
    } else if (auto attr = up.getScales()) {
      scales.present = true;
      scales.values.emplace(attr->begin(), attr->end());
    } else {
      return std::string("needs scales");
    }
  } else {
    auto r = cast<ResizeOp>(op);
    p.mode = r.getMode().str();
    if (getOpsetVersion(op) < 11) {
      // Resize-10 is (X, scales) with Upsample's coordinates.
      p.coordMode = "asymmetric";
      p.nearestMode = "simple";
      scales = readResizeInput(r.getRoi());
    } else {
      p.coordMode = r.getCoordinateTransformationMode().str();
      p.nearestMode = r.getNearestMode().str();
      p.cubicA = r.getCubicCoeffA().convertToDouble();
      p.excludeOutside = r.getExcludeOutside() != 0;
      scales = readResizeInput(r.getScales());
      sizes = readResizeInput(r.getSizes());
    }
    // Crop and resize: the roi, and sizes read at run time (the run-time
    // path computes each coordinate from the roi; scales would size the
    // result from the roi too).
    if (p.coordMode == "tf_crop_and_resize") {
      ResizeInput roi = readResizeInput(r.getRoi());
      if (!allowRuntime || roi.values || !roi.present || scales.present ||
          !sizes.present || sizes.values)
        return std::string("coordinate_transformation_mode tf_crop_and_resize "
                           "is supported with a run-time roi and sizes only");
      p.runtimeRoi = roi.operand;
      p.extrapolation = r.getExtrapolationValue().convertToDouble();
    }
    if (r.getAntialias() != 0)
      return std::string("antialias is not supported");
    if (r.getKeepAspectRatioPolicy() != "stretch")
      return "keep_aspect_ratio_policy '" + r.getKeepAspectRatioPolicy().str() +
             "' is not supported";
    if (auto a = r.getAxes()) {
      axes.clear();
      for (int64_t x : *a) {
        auto n = normalizeAxis(x, rank);
        if (!n || llvm::is_contained(axes, *n))
          return "axis " + std::to_string(x) + " is out of range or repeated";
        axes.push_back(*n);
      }
    }
  }
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic")
    return "unknown mode '" + p.mode + "'";

  if (scales.present == sizes.present)
    return std::string(scales.present ? "takes scales or sizes, not both"
                                      : "needs scales or sizes");
  const ResizeInput &given = scales.present ? scales : sizes;
  // The output shape depends on the values: Kiln needs them at compile
  // time, or reads them at run time where the caller can (derived dims).
  if (!given.values && allowRuntime && (int64_t)axes.size() == rank &&
      given.operand) {
    (scales.present ? p.runtimeScales : p.runtimeSizes) = given.operand;
    p.outShape.assign(rank, kDyn);
    return std::nullopt;
  }
  if (!given.values)
    return std::string(scales.present ? "scales" : "sizes") +
           " must be a constant";
  if (given.values->size() != axes.size())
    return std::string(scales.present ? "scales" : "sizes") + " has " +
           std::to_string(given.values->size()) + " values for " +
           std::to_string(axes.size()) + " dimensions";
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i], in = inShape[a];
    double v = (*given.values)[i];
    if (v <= 0 || (sizes.present && v != std::floor(v)))
      return std::string(scales.present ? "scales" : "sizes") +
             " must be positive" + (sizes.present ? " integers" : "");
    if (scales.present) {
      p.scales[a] = v;
      p.outShape[a] = in == kDyn ? kDyn : (int64_t)std::floor(in * v);
      if (in != kDyn && p.outShape[a] < 1)
        return "scale " + std::to_string(v) + " leaves dimension " +
               std::to_string(a) + " empty";
    } else {
      p.outShape[a] = (int64_t)v;
      p.scales[a] = in == kDyn || in == 0 ? 1.0 : v / (double)in;
    }
  }
  return std::nullopt;
}

LogicalResult ResizeOp::verify() {
  if (!llvm::is_contained({"nearest", "linear", "cubic"}, getMode()))
    return emitOpError("unknown mode '") << getMode() << "'";
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric",
                           "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_half_pixel_for_nn", "tf_crop_and_resize"},
                          getCoordinateTransformationMode()))
    return emitOpError("unknown coordinate_transformation_mode '")
           << getCoordinateTransformationMode() << "'";
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          getNearestMode()))
    return emitOpError("unknown nearest_mode '") << getNearestMode() << "'";
  if (!llvm::is_contained({"stretch", "not_larger", "not_smaller"},
                          getKeepAspectRatioPolicy()))
    return emitOpError("unknown keep_aspect_ratio_policy '")
           << getKeepAspectRatioPolicy() << "'";
  if (getMode() != "nearest" && !isa<FloatType>(elemOf(getX())))
    return emitOpError("mode ") << getMode() << " needs a floating-point input";
  return success();
}

static LogicalResult inferResize(Operation *op, Value x) {
  auto t = ranked(x);
  if (!t) {
    setUnranked(op, 0, elemOf(x));
    return success();
  }
  // Scales or sizes read at run time leave every dim unknown (kiln's
  // derived dims compute them before the run).
  ResizeParams p;
  if (auto err = resolveResize(op, t.getShape(), p, /*allowRuntime=*/true))
    return op->emitOpError(*err);
  setResult(op, 0, p.outShape, t.getElementType());
  return success();
}

LogicalResult ResizeOp::inferShapes() { return inferResize(*this, getX()); }

LogicalResult LRNOp::verify() {
  if (getSize() < 1)
    return emitOpError("size must be positive");
  if (!isFloat(getX()))
    return emitOpError("expects a float input");
  if (auto x = ranked(getX()); x && x.getRank() < 3)
    return emitOpError("expects an input of rank 3 or more");
  return verifySameShape(*this, getX(), getY());
}
LogicalResult LRNOp::inferShapes() { return sameAsOperand(*this, getX()); }

LogicalResult MeanVarianceNormalizationOp::verify() {
  if (!isFloat(getX()))
    return emitOpError("expects a float input");
  if (auto x = ranked(getX()))
    for (int64_t a : getAxes().value_or(ArrayRef<int64_t>(kMvnAxes)))
      if (!normalizeAxis(a, x.getRank()))
        return emitOpError("axis ") << a << " is out of range";
  return verifySameShape(*this, getX(), getY());
}
LogicalResult MeanVarianceNormalizationOp::inferShapes() {
  return sameAsOperand(*this, getX());
}

LogicalResult GridSampleOp::verify() {
  if (!llvm::is_contained({"bilinear", "nearest", "bicubic"}, getMode()))
    return emitOpError("unknown mode '") << getMode() << "'";
  if (!llvm::is_contained({"zeros", "border", "reflection"}, getPaddingMode()))
    return emitOpError("unknown padding_mode '") << getPaddingMode() << "'";
  if (!isa<FloatType>(elemOf(getX())) || elemOf(getGrid()) != elemOf(getX()))
    return emitOpError("X and grid must be float tensors of one type");
  auto x = ranked(getX()), g = ranked(getGrid());
  if (x && x.getRank() != 4)
    return emitOpError("X must be 4-D (N x C x H x W)");
  if (g && (g.getRank() != 4 || (!g.isDynamicDim(3) && g.getDimSize(3) != 2)))
    return emitOpError("grid must be N x Ho x Wo x 2");
  if (x && g && !x.isDynamicDim(0) && !g.isDynamicDim(0) &&
      x.getDimSize(0) != g.getDimSize(0))
    return emitOpError("X and grid have different batch sizes");
  return success();
}

LogicalResult GridSampleOp::inferShapes() {
  auto x = ranked(getX()), g = ranked(getGrid());
  if (!x || !g)
    return setUnranked(*this, elemOf(getX()));
  setResult(*this,
            {x.getDimSize(0), x.getDimSize(1), g.getDimSize(1), g.getDimSize(2)},
            elemOf(getX()));
  return success();
}

LogicalResult UpsampleOp::verify() {
  if (!llvm::is_contained({"nearest", "linear", "bilinear"}, getMode()))
    return emitOpError("unknown mode '") << getMode() << "'";
  if (getMode() != "nearest" && !isa<FloatType>(elemOf(getX())))
    return emitOpError("mode ") << getMode() << " needs a floating-point input";
  if (isNone(getScalesInput()) && !getScales())
    return emitOpError("needs scales");
  return success();
}

LogicalResult UpsampleOp::inferShapes() { return inferResize(*this, getX()); }

//===----------------------------------------------------------------------===//
// MaxUnpool, RoiAlign
//===----------------------------------------------------------------------===//

LogicalResult MaxUnpoolOp::verify() {
  auto x = ranked(getX()), i = ranked(getI());
  size_t sp = getKernelShape().size();
  if (!isa<IntegerType>(elemOf(getI())) || isBool(getI()))
    return emitOpError("I must hold integer indices");
  if (x && (x.getRank() < 3 || (size_t)x.getRank() != sp + 2))
    return emitOpError("X must be N x C x (")
           << sp << " spatial dims of kernel_shape)";
  if (x && i && failed(verifyCompatibleShape(x.getShape(), i.getShape())))
    return emitOpError("X and I must have the same shape");
  if ((getStrides() && getStrides()->size() != sp) ||
      (getPads() && getPads()->size() != 2 * sp))
    return emitOpError("strides and pads must have one (pads: two) value "
                       "per spatial dim");
  if (!isNone(getOutputShape()))
    if (auto s = ranked(getOutputShape());
        s && (s.getRank() != 1 ||
              (x && !s.isDynamicDim(0) && s.getDimSize(0) != x.getRank())))
      return emitOpError("output_shape must hold one value per dim of X");
  return success();
}

LogicalResult MaxUnpoolOp::inferShapes() {
  auto x = ranked(getX());
  if (!x)
    return setUnranked(*this, elemOf(getX()));
  int64_t rank = x.getRank();
  Shape out(rank, kDyn);
  if (!isNone(getOutputShape())) {
    if (auto c = getConstantInts(getOutputShape())) {
      for (int64_t d = 0; d < rank; ++d)
        if ((*c)[d] < 0)
          return emitOpError("output_shape has a negative dim ") << (*c)[d];
      out.assign(c->begin(), c->end());
    }
  } else {
    out[0] = x.getDimSize(0);
    out[1] = x.getDimSize(1);
    for (int64_t i = 0; i + 2 < rank; ++i) {
      int64_t in = x.getDimSize(i + 2);
      if (in == kDyn)
        continue;
      int64_t stride = getStrides() ? (*getStrides())[i] : 1;
      int64_t pads = getPads() ? (*getPads())[i] + (*getPads())[i + rank - 2] : 0;
      out[i + 2] = (in - 1) * stride + getKernelShape()[i] - pads;
      if (out[i + 2] < 0)
        return emitOpError("the unpooled spatial dim ")
               << i << " would be negative";
    }
  }
  setResult(*this, out, elemOf(getX()));
  return success();
}

LogicalResult RoiAlignOp::verify() {
  if (!llvm::is_contained({"avg", "max"}, getMode()))
    return emitOpError("unknown mode '") << getMode() << "'";
  if (auto m = getCoordinateTransformationMode();
      m && !llvm::is_contained({"half_pixel", "output_half_pixel"}, *m))
    return emitOpError("unknown coordinate_transformation_mode '") << *m << "'";
  if (!isFloat(getX()) || elemOf(getRois()) != elemOf(getX()))
    return emitOpError("X and rois must be float tensors of one type");
  if (getOutputHeight() < 1 || getOutputWidth() < 1 || getSamplingRatio() < 0)
    return emitOpError("output sizes must be positive and sampling_ratio "
                       "not negative");
  auto x = ranked(getX()), r = ranked(getRois()), b = ranked(getBatchIndices());
  if (x && x.getRank() != 4)
    return emitOpError("X must be 4-D (N x C x H x W)");
  if (r && (r.getRank() != 2 || (!r.isDynamicDim(1) && r.getDimSize(1) != 4)))
    return emitOpError("rois must be R x 4");
  if (b && b.getRank() != 1)
    return emitOpError("batch_indices must be 1-D");
  if (r && b && !r.isDynamicDim(0) && !b.isDynamicDim(0) &&
      r.getDimSize(0) != b.getDimSize(0))
    return emitOpError("rois and batch_indices have different counts");
  return success();
}

LogicalResult RoiAlignOp::inferShapes() {
  auto x = ranked(getX()), r = ranked(getRois());
  setResult(*this,
            {r ? r.getDimSize(0) : kDyn, x ? x.getDimSize(1) : kDyn,
             (int64_t)getOutputHeight(), (int64_t)getOutputWidth()},
            elemOf(getX()));
  return success();
}

//===----------------------------------------------------------------------===//
// NonMaxSuppression
//===----------------------------------------------------------------------===//

LogicalResult NonMaxSuppressionOp::verify() {
  auto boxes = dyn_cast<RankedTensorType>(getBoxes().getType());
  auto scores = dyn_cast<RankedTensorType>(getScores().getType());
  if (getCenterPointBox() != 0 && getCenterPointBox() != 1)
    return emitOpError("center_point_box must be 0 or 1");
  if (boxes && (boxes.getRank() != 3 ||
                (!boxes.isDynamicDim(2) && boxes.getDimSize(2) != 4)))
    return emitOpError("boxes must be [batches, boxes, 4]");
  if (scores && scores.getRank() != 3)
    return emitOpError("scores must be [batches, classes, boxes]");
  if (boxes && scores && boxes.hasStaticShape() && scores.hasStaticShape() &&
      (boxes.getDimSize(0) != scores.getDimSize(0) ||
       boxes.getDimSize(1) != scores.getDimSize(2)))
    return emitOpError("boxes ") << boxes << " and scores " << scores
                                 << " disagree on batches or boxes";
  return success();
}

LogicalResult NonMaxSuppressionOp::inferShapes() {
  getSelectedIndices().setType(RankedTensorType::get(
      {ShapedType::kDynamic, 3}, IntegerType::get(getContext(), 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss
//===----------------------------------------------------------------------===//

/// The checks the two losses share: `input` N x C (x d1 ... dk) floats,
/// `target` N (x d1 ... dk) int32/int64 indices, `weight` C floats, a
/// known reduction.
static LogicalResult verifyLoss(Operation *op, Value input, Value target,
                                Value weight, StringRef reduction) {
  if (failed(verifyFloat(op, input, "the input")))
    return failure();
  Type t = elemOf(target);
  if (!t.isInteger(32) && !t.isInteger(64))
    return op->emitOpError("the target must be int32 or int64, got ") << t;
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return op->emitOpError("reduction must be none, sum or mean, got '")
           << reduction << "'";
  if (!isNone(weight) && elemOf(weight) != elemOf(input))
    return op->emitOpError("the weight must have the input's element type");
  auto in = ranked(input), tg = ranked(target);
  if (in && in.getRank() < 2)
    return op->emitOpError("the input must be N x C (x d1 ... dk)");
  if (in && tg) {
    if (tg.getRank() != in.getRank() - 1)
      return op->emitOpError("the target must have rank ")
             << in.getRank() - 1 << " (the input's without C)";
    for (int64_t i = 0; i < tg.getRank(); ++i) {
      int64_t a = tg.getDimSize(i), b = in.getDimSize(i == 0 ? 0 : i + 1);
      if (a != kDyn && b != kDyn && a != b)
        return op->emitOpError("the target's dim ")
               << i << " is " << a << ", the input's is " << b;
    }
  }
  if (!isNone(weight))
    return checkVector(op, weight, in ? in.getDimSize(1) : kDyn, "the weight");
  return success();
}

/// The loss: the target's shape for reduction "none", else a scalar.
static void setLossType(Operation *op, Value target, Type elem,
                        StringRef reduction) {
  if (reduction != "none")
    return setResult(op, 0, {}, elem);
  if (auto t = ranked(target))
    return setResult(op, 0, t.getShape(), elem);
  setUnranked(op, 0, elem);
}

LogicalResult NegativeLogLikelihoodLossOp::verify() {
  return verifyLoss(*this, getInput(), getTarget(), getWeight(),
                    getReduction());
}

LogicalResult NegativeLogLikelihoodLossOp::inferShapes() {
  setLossType(*this, getTarget(), elemOf(getInput()), getReduction());
  return success();
}

LogicalResult SoftmaxCrossEntropyLossOp::verify() {
  return verifyLoss(*this, getScores(), getLabels(), getWeights(),
                    getReduction());
}

LogicalResult SoftmaxCrossEntropyLossOp::inferShapes() {
  Type elem = elemOf(getScores());
  setLossType(*this, getLabels(), elem, getReduction());
  if (getLogProb())
    getLogProb().setType(getScores().getType());
  return success();
}
