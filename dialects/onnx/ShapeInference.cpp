//===- ShapeInference.cpp - result types of onnx ops ----------------------===//
//
// The shape rules of the ONNX operator spec, as free functions (shared with
// the lowerings through ShapeHelpers.h) and as the inferShapes methods of the
// ops.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include <map>
#include <numeric>

using namespace mlir;
using namespace kiln::onnx;
using llvm::ArrayRef;
using llvm::SmallVector;

static constexpr int64_t kDyn = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

std::optional<Shape> kiln::onnx::broadcastShapes(ArrayRef<int64_t> a,
                                                 ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (da == kDyn || db == kDyn)
      out[i] = da == kDyn ? db : da;
    else if (da == db)
      out[i] = da;
    else
      return std::nullopt;
  }
  return out;
}

std::optional<SmallVector<int64_t>> kiln::onnx::getConstantInts(Value v) {
  auto cst = v ? v.getDefiningOp<ConstantOp>() : nullptr;
  if (!cst)
    return std::nullopt;
  auto dense = dyn_cast<DenseIntElementsAttr>(cst.getValue());
  if (!dense)
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : dense.getValues<APInt>())
    out.push_back(dense.getElementType().isInteger(1) ? x.getZExtValue()
                                                     : x.getSExtValue());
  return out;
}

std::pair<int64_t, int64_t>
kiln::onnx::shapeOpRange(std::optional<int64_t> start,
                         std::optional<int64_t> end, int64_t rank) {
  int64_t s = start ? *start : 0, e = end ? *end : rank;
  s = std::clamp<int64_t>(s < 0 ? s + rank : s, 0, rank);
  e = std::clamp<int64_t>(e < 0 ? e + rank : e, 0, rank);
  return {s, std::max(s, e)};
}

/// getPartialInts, `depth` ops deep at most (shape chains are short).
/// The positions a Slice of a 1-D value of `n` entries keeps, in order,
/// when its starts, ends (and axes, steps) are constants.
static std::optional<SmallVector<int64_t>> slicePositions(SliceOp slice,
                                                          int64_t n) {
  SmallVector<int64_t> starts, ends, axes, steps;
  if (getSliceParams(slice, 1, starts, ends, axes, steps) || n < 0 ||
      starts.size() != 1 || ends.size() != 1 || axes.size() != 1 ||
      steps.size() != 1 || (axes[0] != 0 && axes[0] != -1) || steps[0] == 0)
    return std::nullopt;
  int64_t step = steps[0];
  auto clampTo = [&](int64_t x, int64_t lo, int64_t hi) {
    if (x < 0)
      x += n;
    return std::min(std::max(x, lo), hi);
  };
  int64_t start = starts[0], end = ends[0];
  SmallVector<int64_t> out;
  if (step > 0) {
    start = clampTo(std::max<int64_t>(start, -n - 1), 0, n);
    end = clampTo(std::max<int64_t>(end, -n - 1), 0, n);
    for (int64_t i = start; i < end; i += step)
      out.push_back(i);
  } else {
    start = clampTo(std::max<int64_t>(start, -n - 1), -1, n - 1);
    end = clampTo(std::max<int64_t>(end, -n - 1), -1, n - 1);
    for (int64_t i = start; i > end; i += step)
      out.push_back(i);
  }
  return out;
}

static std::optional<SmallVector<int64_t>> partialInts(Value v, int depth) {
  if (!v || depth > 16)
    return std::nullopt;
  if (auto ints = getConstantInts(v))
    return ints;
  Operation *def = v.getDefiningOp();
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!def || !type || type.getRank() > 1 ||
      !isa<IntegerType>(type.getElementType()))
    return std::nullopt;
  if (auto shape = dyn_cast<ShapeOfOp>(def)) {
    auto t = dyn_cast<RankedTensorType>(shape.getData().getType());
    if (!t)
      return std::nullopt;
    auto [s, e] = shapeOpRange(shape.getStart(), shape.getEnd(), t.getRank());
    return SmallVector<int64_t>(t.getShape().begin() + s,
                                t.getShape().begin() + e);
  }
  if (auto gather = dyn_cast<GatherOp>(def)) {
    auto data = partialInts(gather.getData(), depth + 1);
    auto idx = getConstantInts(gather.getIndices());
    if (!data || !idx)
      return std::nullopt;
    int64_t n = data->size();
    SmallVector<int64_t> out;
    for (int64_t i : *idx) {
      if (i < -n || i >= n)
        return std::nullopt;
      out.push_back((*data)[i < 0 ? i + n : i]);
    }
    return out;
  }
  if (auto concat = dyn_cast<ConcatOp>(def)) {
    SmallVector<int64_t> out;
    for (Value in : concat.getInputs()) {
      auto x = partialInts(in, depth + 1);
      if (!x)
        return std::nullopt;
      out.append(*x);
    }
    return out;
  }
  if (auto slice = dyn_cast<SliceOp>(def)) {
    auto data = partialInts(slice.getData(), depth + 1);
    auto kept = data ? slicePositions(slice, data->size()) : std::nullopt;
    if (!kept)
      return std::nullopt;
    SmallVector<int64_t> out;
    for (int64_t i : *kept)
      out.push_back((*data)[i]);
    return out;
  }
  if (isa<UnsqueezeOp, SqueezeOp, ReshapeOp, IdentityOp, CastOp>(def))
    return partialInts(def->getOperand(0), depth + 1);
  if (isa<AddOp, SubOp, MulOp, DivOp>(def)) {
    auto a = partialInts(def->getOperand(0), depth + 1),
         b = partialInts(def->getOperand(1), depth + 1);
    if (!a || !b || (a->size() != b->size() && a->size() != 1 && b->size() != 1))
      return std::nullopt;
    size_t n = std::max(a->size(), b->size());
    SmallVector<int64_t> out;
    for (size_t i = 0; i < n; ++i) {
      int64_t x = (*a)[a->size() == 1 ? 0 : i], y = (*b)[b->size() == 1 ? 0 : i];
      if (x == kDyn || y == kDyn || (isa<DivOp>(def) && y == 0)) {
        out.push_back(kDyn);
        continue;
      }
      out.push_back(isa<AddOp>(def)   ? x + y
                    : isa<SubOp>(def) ? x - y
                    : isa<MulOp>(def) ? x * y
                                      : x / y);
    }
    return out;
  }
  return std::nullopt;
}

/// Ops whose result has the shape of their first operand.
static bool keepsShape(Operation *op) {
  if (op->hasTrait<kiln::onnx::OnnxTrait::Elementwise>())
    return op->getNumOperands() == 1;
  return op->getNumOperands() >= 1 &&
         isa<CastOp, CastLikeOp, ClipOp, DropoutOp, SoftmaxOp, LogSoftmaxOp,
             HardmaxOp, LayerNormalizationOp, InstanceNormalizationOp,
             GroupNormalizationOp, BatchNormalizationOp, CumSumOp, TriluOp>(
             op);
}

namespace {
/// One step back of a trace: a dim of a tensor, or an entry of a shape value.
struct TraceStep {
  Value v;
  int64_t i;
  bool entry;
};
} // namespace

/// The step before entry `i` of the shape value `v`, or nullopt where the
/// entry cannot be followed.
static std::optional<TraceStep> entryStep(Value v, int64_t i) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto shape = dyn_cast<ShapeOfOp>(def)) {
    auto t = dyn_cast<RankedTensorType>(shape.getData().getType());
    if (!t)
      return std::nullopt;
    auto [s, e] = shapeOpRange(shape.getStart(), shape.getEnd(), t.getRank());
    if (i < 0 || s + i >= e)
      return std::nullopt;
    return TraceStep{shape.getData(), s + i, false};
  }
  if (auto gather = dyn_cast<GatherOp>(def)) {
    auto idx = getConstantInts(gather.getIndices());
    auto t = dyn_cast<RankedTensorType>(gather.getData().getType());
    if (!idx || !t || t.getRank() != 1 || i >= (int64_t)idx->size())
      return std::nullopt;
    int64_t n = t.getDimSize(0), at = (*idx)[i];
    if (n == kDyn || at < -n || at >= n)
      return std::nullopt;
    return TraceStep{gather.getData(), at < 0 ? at + n : at, true};
  }
  if (auto concat = dyn_cast<ConcatOp>(def)) {
    for (Value in : concat.getInputs()) {
      auto t = dyn_cast<RankedTensorType>(in.getType());
      if (!t || t.getRank() != 1 || t.isDynamicDim(0))
        return std::nullopt;
      if (i < t.getDimSize(0))
        return TraceStep{in, i, true};
      i -= t.getDimSize(0);
    }
    return std::nullopt;
  }
  if (auto slice = dyn_cast<SliceOp>(def)) {
    auto t = dyn_cast<RankedTensorType>(slice.getData().getType());
    if (!t || t.getRank() != 1 || t.isDynamicDim(0))
      return std::nullopt;
    auto kept = slicePositions(slice, t.getDimSize(0));
    if (!kept || i < 0 || i >= (int64_t)kept->size())
      return std::nullopt;
    return TraceStep{slice.getData(), (*kept)[i], true};
  }
  if (isa<UnsqueezeOp, SqueezeOp, ReshapeOp, IdentityOp, CastOp>(def))
    return TraceStep{def->getOperand(0), i, true};
  // x * 1, x / 1, x + 0, x - 0 (exporters multiply a dim by a size-1 dim).
  if (isa<MulOp, DivOp, AddOp, SubOp>(def)) {
    int64_t unit = isa<MulOp, DivOp>(def) ? 1 : 0;
    auto isUnit = [&](Value x) {
      auto ints = getPartialInts(x);
      return ints && llvm::all_of(*ints, [&](int64_t e) { return e == unit; });
    };
    Value a = def->getOperand(0), b = def->getOperand(1);
    auto scalarish = [](Value x) {
      auto t = dyn_cast<RankedTensorType>(x.getType());
      return t && t.getNumElements() == 1;
    };
    if (isUnit(b) && scalarish(b))
      return TraceStep{a, i, true};
    if (isa<MulOp, AddOp>(def) && isUnit(a) && scalarish(a))
      return TraceStep{b, i, true};
  }
  return std::nullopt;
}

/// The step before dim `d` of `v` (dynamic), or nullopt where `v` is its
/// origin.
static std::optional<TraceStep> dimStep(Value v, int64_t d) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  auto t = cast<RankedTensorType>(v.getType());
  auto rankOf = [](Value x) {
    auto r = dyn_cast<RankedTensorType>(x.getType());
    return r ? r.getRank() : -1;
  };
  if (keepsShape(def) && rankOf(def->getOperand(0)) == t.getRank())
    return TraceStep{def->getOperand(0), d, false};
  // The batch dim of windows and per-channel normalizations.
  if (d == 0 && isa<ConvOp, ConvTransposeOp, MaxPoolOp, AveragePoolOp,
                    GlobalAveragePoolOp, GlobalMaxPoolOp, ResizeOp,
                    UpsampleOp, DepthToSpaceOp, SpaceToDepthOp>(def))
    return TraceStep{def->getOperand(0), 0, false};
  if (auto tr = dyn_cast<TransposeOp>(def)) {
    int64_t r = t.getRank();
    return TraceStep{tr.getData(), tr.getPerm() ? (*tr.getPerm())[d] : r - 1 - d,
                     false};
  }
  if (auto concat = dyn_cast<ConcatOp>(def)) {
    int64_t axis = (int64_t)concat.getAxis();
    if (axis != d && axis != d - t.getRank())
      return TraceStep{concat.getInputs()[0], d, false};
    return std::nullopt;
  }
  if (auto slice = dyn_cast<SliceOp>(def)) {
    SmallVector<int64_t> starts, ends, axes, steps;
    if (getSliceParams(slice, t.getRank(), starts, ends, axes, steps, true))
      return std::nullopt;
    for (auto [i, a] : llvm::enumerate(axes)) {
      auto n = normalizeAxis(a, t.getRank());
      if (!n || *n != d)
        continue;
      // x[0:n] with n from a dim (a causal mask cut to the sequence): that
      // dim, when it is no longer than x's (Kiln clamps it when it is).
      if (starts[i] == 0 && steps[i] == 1 && ends[i] == kDyn &&
          entryStep(slice.getEnds(), i))
        return TraceStep{slice.getEnds(), (int64_t)i, true};
      return std::nullopt;
    }
    return TraceStep{slice.getData(), d, false};
  }
  if (auto reshape = dyn_cast<ReshapeOp>(def)) {
    auto target = getConstantInts(reshape.getShape());
    if (target && (*target)[d] == 0 && !reshape.getAllowzero())
      return TraceStep{reshape.getData(), d, false};
    if (entryStep(reshape.getShape(), d))
      return TraceStep{reshape.getShape(), d, true};
    return std::nullopt;
  }
  if (auto mm = dyn_cast<MatMulOp>(def)) {
    int64_t ra = rankOf(mm.getA()), rb = rankOf(mm.getB()), r = t.getRank();
    if (ra >= 2 && rb >= 2) {
      if (d == r - 2)
        return TraceStep{mm.getA(), ra - 2, false};
      if (d == r - 1)
        return TraceStep{mm.getB(), rb - 1, false};
    }
  }
  if (auto gemm = dyn_cast<GemmOp>(def)) {
    if (d == 0)
      return TraceStep{gemm.getA(), gemm.getTransA() ? 1 : 0, false};
    return TraceStep{gemm.getB(), gemm.getTransB() ? 0 : 1, false};
  }
  if (auto gather = dyn_cast<GatherOp>(def)) {
    int64_t r = rankOf(gather.getData()), ri = rankOf(gather.getIndices());
    if (r < 0 || ri < 0)
      return std::nullopt;
    int64_t axis = (int64_t)gather.getAxis() < 0 ? gather.getAxis() + r
                                                 : gather.getAxis();
    if (d < axis)
      return TraceStep{gather.getData(), d, false};
    if (d < axis + ri)
      return TraceStep{gather.getIndices(), d - axis, false};
    return TraceStep{gather.getData(), d - ri + 1, false};
  }
  if (isa<UnsqueezeOp, SqueezeOp>(def)) {
    // The input dims in order, less (or with) the size-1 dims.
    auto axes = getAxesOperandOrAttr(
        def->getOperand(1), def->getAttrOfType<DenseI64ArrayAttr>("axes")
                                ? std::optional<ArrayRef<int64_t>>(
                                      def->getAttrOfType<DenseI64ArrayAttr>(
                                             "axes")
                                          .asArrayRef())
                                : std::nullopt);
    Value in = def->getOperand(0);
    int64_t rin = rankOf(in);
    if (!axes || rin < 0 || (isa<SqueezeOp>(def) && axes->empty()))
      return std::nullopt;
    bool unsq = isa<UnsqueezeOp>(def);
    int64_t rank = unsq ? t.getRank() : rin;
    SmallVector<bool> marked(rank, false);
    for (int64_t a : *axes) {
      auto n = normalizeAxis(a, rank);
      if (!n)
        return std::nullopt;
      marked[*n] = true;
    }
    // Unsqueeze: result dim d is input dim (d less the inserted ones before
    // it); Squeeze: result dim d is the d-th input dim not removed.
    int64_t count = 0;
    for (int64_t i = 0; i < rank; ++i) {
      if (marked[i])
        continue;
      if (unsq ? i == d : count == d)
        return TraceStep{in, unsq ? count : i, false};
      ++count;
    }
    return std::nullopt;
  }
  // Broadcasting ops: the first operand with a dynamic dim there. Where
  // several are dynamic, Kiln takes them to be equal (the rule its lowering
  // follows: a dynamic dim is never a broadcast 1).
  if (isa<AddOp, SubOp, MulOp, DivOp, PowOp, PReluOp, ModOp, WhereOp, MaxOp,
          MinOp, SumOp, MeanOp, EqualOp, LessOp, GreaterOp, LessOrEqualOp,
          GreaterOrEqualOp, AndOp, OrOp, XorOp>(def)) {
    for (Value in : def->getOperands()) {
      int64_t r = rankOf(in), p = d - (t.getRank() - r);
      if (r < 0)
        return std::nullopt;
      if (p >= 0 && cast<RankedTensorType>(in.getType()).isDynamicDim(p))
        return TraceStep{in, p, false};
    }
    return std::nullopt;
  }
  return std::nullopt;
}

/// Follows steps back to the last dynamic dim reached (a loop, not
/// recursion: graphs of many thousand ops trace in constant stack).
static std::optional<DimOrigin> trace(TraceStep step) {
  std::optional<DimOrigin> origin;
  while (true) {
    if (!step.entry) {
      auto t = dyn_cast<RankedTensorType>(step.v.getType());
      if (!t || step.i < 0 || step.i >= t.getRank() ||
          !t.isDynamicDim(step.i))
        return origin;
      origin = DimOrigin{step.v, step.i};
    }
    auto next = step.entry ? entryStep(step.v, step.i)
                           : dimStep(step.v, step.i);
    if (!next)
      return origin;
    step = *next;
  }
}

std::optional<DimOrigin> kiln::onnx::traceDim(Value v, int64_t d) {
  return trace(TraceStep{v, d, false});
}

std::optional<DimOrigin> kiln::onnx::traceShapeEntry(Value shape, int64_t i) {
  return trace(TraceStep{shape, i, true});
}

std::optional<SmallVector<int64_t>> kiln::onnx::getPartialInts(Value v) {
  auto ints = partialInts(v, 0);
  if (!ints || llvm::all_of(*ints, [](int64_t x) { return x == kDyn; }))
    return std::nullopt;
  return ints;
}

std::optional<double> kiln::onnx::getConstantScalar(Value v) {
  auto cst = v ? v.getDefiningOp<ConstantOp>() : nullptr;
  if (!cst)
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
  if (!dense || dense.getNumElements() != 1)
    return std::nullopt;
  if (auto f = dyn_cast<DenseFPElementsAttr>(dense))
    return (*f.getValues<APFloat>().begin()).convertToDouble();
  if (auto i = dyn_cast<DenseIntElementsAttr>(dense))
    return (double)(*i.getValues<APInt>().begin()).getSExtValue();
  return std::nullopt;
}

std::optional<int64_t> kiln::onnx::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::optional<Shape>
kiln::onnx::mergeKernel(RankedTensorType w,
                        std::optional<ArrayRef<int64_t>> kernelShape) {
  Shape kernel(w.getShape().drop_front(2));
  if (!kernelShape)
    return kernel;
  if (kernelShape->size() != kernel.size())
    return std::nullopt;
  for (auto [k, attr] : llvm::zip(kernel, *kernelShape)) {
    if (k == kDyn)
      k = attr;
    else if (k != attr)
      return std::nullopt;
  }
  return kernel;
}

std::optional<std::string> kiln::onnx::computeWindowGeometry(
    ArrayRef<int64_t> inSpatial, ArrayRef<int64_t> kernel, StringRef autoPad,
    std::optional<ArrayRef<int64_t>> pads,
    std::optional<ArrayRef<int64_t>> strides,
    std::optional<ArrayRef<int64_t>> dilations, bool ceilMode,
    WindowGeometry &g) {
  size_t n = inSpatial.size();
  if (kernel.size() != n)
    return "kernel has " + std::to_string(kernel.size()) +
           " dimensions but the input has " + std::to_string(n) +
           " spatial dimensions";
  g.kernel.assign(kernel.begin(), kernel.end());
  g.strides.assign(n, 1);
  g.dilations.assign(n, 1);
  g.padBegin.assign(n, 0);
  g.padEnd.assign(n, 0);
  if (strides && !strides->empty()) {
    if (strides->size() != n)
      return std::string("strides must have one value per spatial dimension");
    g.strides.assign(strides->begin(), strides->end());
  }
  if (dilations && !dilations->empty()) {
    if (dilations->size() != n)
      return std::string("dilations must have one value per spatial dimension");
    g.dilations.assign(dilations->begin(), dilations->end());
  }
  for (size_t i = 0; i < n; ++i)
    if (g.strides[i] < 1 || g.dilations[i] < 1 ||
        (g.kernel[i] < 1 && g.kernel[i] != kDyn))
      return std::string("strides, dilations and kernel sizes must be positive");
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (!same && autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "")
    return "unknown auto_pad '" + autoPad.str() + "'";
  if (autoPad == "NOTSET" || autoPad == "") {
    if (pads && !pads->empty()) {
      if (pads->size() != 2 * n)
        return std::string("pads must have two values per spatial dimension");
      for (size_t i = 0; i < n; ++i) {
        g.padBegin[i] = (*pads)[i];
        g.padEnd[i] = (*pads)[i + n];
        if (g.padBegin[i] < 0 || g.padEnd[i] < 0)
          return std::string("negative pads are not supported");
      }
    }
  }
  g.outSpatial.assign(n, kDyn);
  for (size_t i = 0; i < n; ++i) {
    int64_t in = inSpatial[i];
    if (in == kDyn || g.kernel[i] == kDyn) // known at run time
      continue;
    int64_t window = (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (same) {
      int64_t out = ceilDiv(in, g.strides[i]);
      int64_t total =
          std::max<int64_t>(0, (out - 1) * g.strides[i] + window - in);
      int64_t small = total / 2;
      g.padBegin[i] = autoPad == "SAME_UPPER" ? small : total - small;
      g.padEnd[i] = total - g.padBegin[i];
      g.outSpatial[i] = out;
      continue;
    }
    int64_t span = in + g.padBegin[i] + g.padEnd[i] - window;
    if (span < 0)
      return "the window (" + std::to_string(window) +
             ") is larger than the padded input (" +
             std::to_string(in + g.padBegin[i] + g.padEnd[i]) + ")";
    int64_t out = ceilMode ? ceilDiv(span, g.strides[i]) + 1
                           : span / g.strides[i] + 1;
    // A window must start inside the input or its leading padding.
    if (ceilMode && (out - 1) * g.strides[i] >= in + g.padBegin[i])
      --out;
    g.outSpatial[i] = out;
  }
  return std::nullopt;
}

std::optional<std::string>
kiln::onnx::computeSlice(ArrayRef<int64_t> inShape, ArrayRef<int64_t> starts,
                         ArrayRef<int64_t> ends, ArrayRef<int64_t> axes,
                         ArrayRef<int64_t> steps, SmallVector<SliceAxis> &out) {
  int64_t rank = inShape.size();
  out.clear();
  for (int64_t d : inShape)
    out.push_back({0, d, 1});
  if (starts.size() != ends.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return std::string("starts, ends, axes and steps must have equal lengths");
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto axis = normalizeAxis(axes[i], rank);
    if (!axis)
      return "slice axis " + std::to_string(axes[i]) + " is out of range";
    if (seen[*axis])
      return std::string("slice axes repeat");
    seen[*axis] = true;
    int64_t dim = inShape[*axis];
    if (dim == kDyn)
      return std::string("slicing a dynamic dimension is not supported");
    int64_t step = steps[i];
    if (step == 0)
      return std::string("slice step must not be 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0)
      s += dim;
    if (e < 0 && e > INT64_MIN / 2)
      e += dim;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      out[*axis] = {s, e > s ? ceilDiv(e - s, step) : 0, step};
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      out[*axis] = {s, s > e ? ceilDiv(s - e, -step) : 0, step};
    }
  }
  return std::nullopt;
}

std::optional<SmallVector<int64_t>>
kiln::onnx::getAxesOperandOrAttr(Value axesInput,
                                 std::optional<ArrayRef<int64_t>> axesAttr) {
  if (axesInput && !isa<NoneType>(axesInput.getType()))
    return getConstantInts(axesInput);
  if (axesAttr)
    return SmallVector<int64_t>(axesAttr->begin(), axesAttr->end());
  return SmallVector<int64_t>();
}

std::optional<std::string>
kiln::onnx::resolveReduceAxes(Operation *op, int64_t rank,
                              SmallVector<int64_t> &axes) {
  Value axesInput = op->getOperand(1);
  std::optional<ArrayRef<int64_t>> attr;
  if (auto a = op->getAttrOfType<DenseI64ArrayAttr>("axes"))
    attr = a.asArrayRef();
  auto raw = getAxesOperandOrAttr(axesInput, attr);
  // An axes input of no elements needs no values (an input of shape [0]).
  auto axesType = dyn_cast<RankedTensorType>(axesInput.getType());
  bool noAxes = axesType && axesType.hasStaticShape() &&
                axesType.getNumElements() == 0;
  if (!raw && !noAxes)
    return std::string("the axes input must be a constant");
  axes.clear();
  if (!raw || raw->empty()) {
    auto noop = op->getAttrOfType<IntegerAttr>("noop_with_empty_axes");
    if (noop && noop.getInt())
      return std::nullopt;
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
    return std::nullopt;
  }
  for (int64_t a : *raw) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return "axis " + std::to_string(a) + " is out of range";
    axes.push_back(*n);
  }
  llvm::sort(axes); // (the empty case returned above)
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return std::nullopt;
}

std::optional<std::string>
kiln::onnx::resolveSplitSizes(Operation *op, int64_t dimSize,
                              SmallVector<int64_t> &sizes) {
  auto split = cast<SplitOp>(op);
  int64_t parts = op->getNumResults();
  sizes.clear();
  if (!isa<NoneType>(split.getSplitInput().getType())) {
    auto s = getConstantInts(split.getSplitInput());
    if (!s) {
      // Sizes read at run time, one per output: each known then.
      auto st = dyn_cast<RankedTensorType>(split.getSplitInput().getType());
      if (!st || st.getRank() != 1 || st.getDimSize(0) != parts)
        return std::string("the split input must be a constant");
      sizes.assign(parts, kDyn);
      return std::nullopt;
    }
    sizes.assign(s->begin(), s->end());
  } else if (auto attr = split.getSplitAttr()) {
    sizes.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
  } else {
    if (dimSize == kDyn) {
      // Known at run time: ceil(n / parts) each, the last ones less.
      sizes.assign(parts, kDyn);
      return std::nullopt;
    }
    int64_t chunk = ceilDiv(dimSize, parts);
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::max<int64_t>(
          0, std::min(chunk, dimSize - i * chunk)));
  }
  if ((int64_t)sizes.size() != parts)
    return "split has " + std::to_string(sizes.size()) + " sizes for " +
           std::to_string(parts) + " outputs";
  if (dimSize != kDyn &&
      std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != dimSize)
    return std::string("split sizes do not add up to the dimension");
  return std::nullopt;
}

std::optional<std::string> kiln::onnx::getSliceParams(
    Operation *op, int64_t rank, SmallVector<int64_t> &starts,
    SmallVector<int64_t> &ends, SmallVector<int64_t> &axes,
    SmallVector<int64_t> &steps, bool runTimeEnds) {
  auto slice = cast<SliceOp>(op);
  if (auto s = slice.getStartsAttrAttr()) {
    starts.assign(s.asArrayRef().begin(), s.asArrayRef().end());
    auto e = slice.getEndsAttrAttr();
    if (!e)
      return std::string("ends attribute missing");
    ends.assign(e.asArrayRef().begin(), e.asArrayRef().end());
  } else {
    auto s2 = getConstantInts(slice.getStarts());
    auto e2 = getConstantInts(slice.getEnds());
    auto et = dyn_cast<RankedTensorType>(slice.getEnds().getType());
    if (!e2 && runTimeEnds && s2 && et && et.getRank() == 1 &&
        et.getDimSize(0) == (int64_t)s2->size())
      e2 = SmallVector<int64_t>(s2->size(), kDyn);
    if (!s2 || !e2)
      return std::string("starts and ends must be constants");
    starts = *s2;
    ends = *e2;
  }
  if (!isa<NoneType>(slice.getAxesInput().getType())) {
    auto a = getConstantInts(slice.getAxesInput());
    if (!a)
      return std::string("axes must be a constant");
    axes = *a;
  } else if (auto a = slice.getAxesAttr()) {
    axes.assign(a.asArrayRef().begin(), a.asArrayRef().end());
  } else {
    axes.clear();
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  }
  if (!isa<NoneType>(slice.getSteps().getType())) {
    auto s = getConstantInts(slice.getSteps());
    if (!s)
      return std::string("steps must be a constant");
    steps = *s;
  } else {
    steps.assign(starts.size(), 1);
  }
  (void)rank;
  return std::nullopt;
}

int64_t kiln::onnx::getSoftmaxAxis(Operation *op, int64_t rank,
                                   bool &coerced2D) {
  coerced2D = getOpsetVersion(op) < 13;
  auto attr = op->getAttrOfType<IntegerAttr>("axis");
  int64_t axis = attr ? attr.getInt() : (coerced2D ? 1 : -1);
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Per-op inference
//===----------------------------------------------------------------------===//

namespace {
} // namespace

LogicalResult kiln::onnx::broadcastAll(Operation *op, ValueRange values,
                                       Type elem) {
  Shape shape;
  for (Value v : values) {
    auto t = ranked(v);
    if (!t) {
      setUnranked(op, 0, elem);
      return success();
    }
    auto b = broadcastShapes(shape, t.getShape());
    if (!b)
      return op->emitOpError("operand shapes do not broadcast");
    shape = *b;
  }
  setResult(op, 0, shape, elem);
  return success();
}

namespace {

LogicalResult inferWindow(Operation *op, Value x, ArrayRef<int64_t> kernel,
                          int64_t channels) {
  auto t = ranked(x);
  if (!t) {
    setUnranked(op, 0, elemOf(x));
    return success();
  }
  if (t.getRank() < 3)
    return op->emitOpError("expects an input of rank 3 or more, got ")
           << t.getRank();
  auto arr = [&](StringRef name) -> std::optional<ArrayRef<int64_t>> {
    if (auto a = op->getAttrOfType<DenseI64ArrayAttr>(name))
      return a.asArrayRef();
    return std::nullopt;
  };
  auto autoPad = op->getAttrOfType<StringAttr>("auto_pad");
  auto ceil = op->getAttrOfType<IntegerAttr>("ceil_mode");
  WindowGeometry g;
  if (auto err = computeWindowGeometry(
          t.getShape().drop_front(2), kernel,
          autoPad ? autoPad.getValue() : "NOTSET", arr("pads"), arr("strides"),
          arr("dilations"), ceil && ceil.getInt(), g))
    return op->emitOpError(*err);
  Shape out{t.getDimSize(0), channels};
  out.append(g.outSpatial.begin(), g.outSpatial.end());
  setResult(op, 0, out, t.getElementType());
  return success();
}
} // namespace

LogicalResult ConstantOp::inferShapes() {
  getResult().setType(cast<TensorType>(getValue().getType()));
  return success();
}

LogicalResult kiln::onnx::inferMatMulShape(Operation *op, Value av, Value bv,
                                          Type elem) {
  auto a = ranked(av), b = ranked(bv);
  if (!a || !b) {
    setUnranked(op, 0, elem);
    return success();
  }
  if (a.getRank() == 0 || b.getRank() == 0)
    return op->emitOpError("operands must have rank 1 or more");
  Shape sa(a.getShape()), sb(b.getShape());
  bool aVec = sa.size() == 1, bVec = sb.size() == 1;
  if (aVec)
    sa.insert(sa.begin(), 1);
  if (bVec)
    sb.push_back(1);
  int64_t ka = sa.back(), kb = sb[sb.size() - 2];
  if (ka != kDyn && kb != kDyn && ka != kb)
    return op->emitOpError("inner dimensions differ: ") << ka << " and " << kb;
  auto batch = broadcastShapes(ArrayRef<int64_t>(sa).drop_back(2),
                               ArrayRef<int64_t>(sb).drop_back(2));
  if (!batch)
    return op->emitOpError("batch dimensions do not broadcast");
  Shape out = *batch;
  if (!aVec)
    out.push_back(sa[sa.size() - 2]);
  if (!bVec)
    out.push_back(sb.back());
  setResult(op, 0, out, elem);
  return success();
}

LogicalResult MatMulOp::inferShapes() {
  return inferMatMulShape(*this, getA(), getB(), elemOf(getA()));
}

std::optional<std::string>
kiln::onnx::resolveEinsum(StringRef equation, ArrayRef<ArrayRef<int64_t>> shapes,
                          EinsumSpec &spec) {
  std::string eq;
  for (char c : equation)
    if (c != ' ')
      eq += c;
  StringRef all(eq);
  auto [lhs, rhs] = all.split("->");
  bool explicitOut = all.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != shapes.size())
    return "the equation names " + std::to_string(terms.size()) +
           " inputs, the op has " + std::to_string(shapes.size());
  // Loop dims: "..." dims first (as many as the widest input needs), then
  // letters in order of appearance.
  int64_t ellipsis = 0;
  SmallVector<int64_t> named(terms.size());
  for (auto [t, term] : llvm::enumerate(terms)) {
    size_t dots = term.find("...");
    int64_t letters = term.size() - (dots == StringRef::npos ? 0 : 3);
    for (char c : term)
      if (c != '.' && !llvm::isAlpha(c))
        return std::string("'") + c + "' is not a letter";
    if (dots == StringRef::npos && letters != (int64_t)shapes[t].size())
      return "input " + std::to_string(t) + " has rank " +
             std::to_string(shapes[t].size()) + ", its term '" + term.str() +
             "' names " + std::to_string(letters) + " dims";
    if (dots != StringRef::npos) {
      if (letters > (int64_t)shapes[t].size())
        return "input " + std::to_string(t) + " has fewer dims than '" +
               term.str() + "' names";
      ellipsis = std::max<int64_t>(ellipsis, shapes[t].size() - letters);
    }
    named[t] = letters;
  }
  std::map<char, int64_t> dimOf;
  int64_t numDims = ellipsis;
  auto letterDim = [&](char c) {
    auto [it, fresh] = dimOf.try_emplace(c, numDims);
    if (fresh)
      ++numDims;
    return it->second;
  };
  std::map<char, int> count;
  spec.inputs.clear();
  for (auto [t, term] : llvm::enumerate(terms)) {
    SmallVector<int64_t> dims;
    int64_t rank = shapes[t].size(), own = rank - named[t];
    for (size_t i = 0; i < term.size(); ++i) {
      if (term[i] == '.') {
        for (int64_t e = 0; e < own; ++e)
          dims.push_back(ellipsis - own + e);
        i += 2;
        continue;
      }
      ++count[term[i]];
      dims.push_back(letterDim(term[i]));
    }
    spec.inputs.push_back(dims);
  }
  spec.output.clear();
  if (explicitOut) {
    for (size_t i = 0; i < rhs.size(); ++i) {
      if (rhs[i] == '.') {
        for (int64_t e = 0; e < ellipsis; ++e)
          spec.output.push_back(e);
        i += 2;
        continue;
      }
      if (!dimOf.count(rhs[i]))
        return std::string("output letter '") + rhs[i] +
               "' names no input dim";
      spec.output.push_back(dimOf[rhs[i]]);
    }
  } else {
    for (int64_t e = 0; e < ellipsis; ++e)
      spec.output.push_back(e);
    for (auto [c, n] : count) // alphabetical
      if (n == 1)
        spec.output.push_back(dimOf[c]);
  }
  spec.sizes.assign(numDims, 1);
  SmallVector<bool> known(numDims, false);
  for (auto [t, dims] : llvm::enumerate(spec.inputs))
    for (auto [i, d] : llvm::enumerate(dims)) {
      int64_t size = shapes[t][i];
      if (size == 1 && d < ellipsis)
        continue; // broadcast
      if (size == ShapedType::kDynamic) {
        if (!known[d])
          spec.sizes[d] = size;
        continue;
      }
      if (known[d] && spec.sizes[d] != size)
        return "dim sizes " + std::to_string(spec.sizes[d]) + " and " +
               std::to_string(size) + " meet at one letter";
      spec.sizes[d] = size;
      known[d] = true;
    }
  return std::nullopt;
}

LogicalResult EinsumOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  for (Value v : getInputs())
    if (elemOf(v) != elemOf(getInputs().front()))
      return emitOpError("inputs have different element types");
  return success();
}

LogicalResult EinsumOp::inferShapes() {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : getInputs()) {
    auto t = ranked(v);
    if (!t)
      return setUnranked(*this, elemOf(v));
    shapes.push_back(t.getShape());
  }
  EinsumSpec spec;
  if (auto err = resolveEinsum(getEquation(), shapes, spec))
    return emitOpError("equation '") << getEquation() << "': " << *err;
  SmallVector<int64_t> out;
  for (int64_t d : spec.output)
    out.push_back(spec.sizes[d]);
  setResult(*this, out, elemOf(getInputs().front()));
  return success();
}

LogicalResult DetOp::verify() {
  if (!isFloat(getX()))
    return emitOpError("expects a float input");
  auto x = ranked(getX());
  if (x && (x.getRank() < 2 ||
            (!x.isDynamicDim(x.getRank() - 1) &&
             !x.isDynamicDim(x.getRank() - 2) &&
             x.getDimSize(x.getRank() - 1) != x.getDimSize(x.getRank() - 2))))
    return emitOpError("expects square matrices in the last two dims");
  return success();
}

LogicalResult DetOp::inferShapes() {
  auto x = ranked(getX());
  if (!x)
    return setUnranked(*this, elemOf(getX()));
  setResult(*this, x.getShape().drop_back(2), elemOf(getX()));
  return success();
}

LogicalResult GemmOp::inferShapes() {
  auto a = ranked(getA()), b = ranked(getB());
  if (!a || !b) {
    setUnranked(*this, 0, elemOf(getA()));
    return success();
  }
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOpError("A and B must be 2-D");
  int64_t m = getTransA() ? a.getDimSize(1) : a.getDimSize(0);
  int64_t ka = getTransA() ? a.getDimSize(0) : a.getDimSize(1);
  int64_t kb = getTransB() ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = getTransB() ? b.getDimSize(0) : b.getDimSize(1);
  if (ka != kDyn && kb != kDyn && ka != kb)
    return emitOpError("inner dimensions differ: ") << ka << " and " << kb;
  if (auto c = ranked(getC()))
    if (!broadcastShapes({m, n}, c.getShape()) ||
        broadcastShapes({m, n}, c.getShape())->size() != 2 ||
        (*broadcastShapes({m, n}, c.getShape()))[0] != m ||
        (*broadcastShapes({m, n}, c.getShape()))[1] != n)
      return emitOpError("C does not broadcast to the result shape");
  setResult(*this, 0, {m, n}, a.getElementType());
  return success();
}

LogicalResult kiln::onnx::inferConvShape(
    Operation *op, Value x, Value wv, int64_t group,
    std::optional<ArrayRef<int64_t>> kernelShape, Type elem) {
  auto w = ranked(wv);
  if (!w || !ranked(x)) {
    setUnranked(op, 0, elem);
    return success();
  }
  if (w.getRank() != ranked(x).getRank())
    return op->emitOpError("weights rank ")
           << w.getRank() << " differs from input rank "
           << ranked(x).getRank();
  int64_t cin = ranked(x).getDimSize(1);
  if (cin != kDyn && !w.isDynamicDim(1) && w.getDimSize(1) * group != cin)
    return op->emitOpError("input channels (")
           << cin << ") differ from weight channels x group ("
           << w.getDimSize(1) << " x " << group << ")";
  if (!w.isDynamicDim(0) && w.getDimSize(0) % group != 0)
    return op->emitOpError("output channels are not divisible by group");
  auto kernel = mergeKernel(w, kernelShape);
  if (!kernel)
    return op->emitOpError("kernel_shape differs from the weights");
  if (failed(inferWindow(op, x, *kernel, w.getDimSize(0))))
    return failure();
  op->getResult(0).setType(
      cast<TensorType>(op->getResult(0).getType()).clone(elem));
  return success();
}

LogicalResult ConvOp::inferShapes() {
  return inferConvShape(*this, getX(), getW(), getGroup(), getKernelShape(),
                        elemOf(getX()));
}

LogicalResult MaxPoolOp::inferShapes() {
  auto x = ranked(getX());
  if (failed(inferWindow(*this, getX(), getKernelShape(),
                         x ? x.getDimSize(1) : kDyn)))
    return failure();
  if (getIndices()) {
    if (auto y = ranked(getY()))
      setResult(*this, 1, y.getShape(), i64Type(*this));
    else
      setUnranked(*this, 1, i64Type(*this));
  }
  return success();
}

LogicalResult AveragePoolOp::inferShapes() {
  auto x = ranked(getX());
  return inferWindow(*this, getX(), getKernelShape(),
                     x ? x.getDimSize(1) : kDyn);
}

static LogicalResult inferGlobalPool(Operation *op, Value x) {
  auto t = ranked(x);
  if (!t)
    return sameAsOperand(op, x);
  if (t.getRank() < 3)
    return op->emitOpError("expects an input of rank 3 or more");
  Shape out(t.getShape());
  for (size_t i = 2; i < out.size(); ++i)
    out[i] = 1;
  setResult(op, 0, out, t.getElementType());
  return success();
}
LogicalResult GlobalAveragePoolOp::inferShapes() {
  return inferGlobalPool(*this, getX());
}
LogicalResult GlobalMaxPoolOp::inferShapes() {
  return inferGlobalPool(*this, getX());
}

LogicalResult BatchNormalizationOp::inferShapes() {
  if (getRunningStats().size() > 2 ||
      (getTrainingMode() && getRunningStats().size() == 1))
    return emitOpError("takes Y or, in training, Y and both running "
                       "statistics as its outputs");
  for (Value r : getRunningStats())
    r.setType(getInputMean().getType());
  return sameAsOperand(*this, getX());
}

static LogicalResult inferReduce(Operation *op, Type elem = nullptr) {
  Value data = op->getOperand(0);
  if (!elem)
    elem = elemOf(data);
  auto t = ranked(data);
  if (!t) {
    setUnranked(op, 0, elem);
    return success();
  }
  SmallVector<int64_t> axes;
  bool keep = op->getAttrOfType<IntegerAttr>("keepdims").getInt();
  if (auto err = resolveReduceAxes(op, t.getRank(), axes)) {
    // Axes read at run time, keeping the reduced dims: the rank is the
    // input's, a dim is 1 or its own size.
    auto at = op->getNumOperands() > 1 ? ranked(op->getOperand(1))
                                       : RankedTensorType();
    if (!at || at.getRank() != 1 || !at.hasStaticShape() ||
        (!keep && at.getDimSize(0) > t.getRank()))
      return op->emitOpError(*err);
    Shape out;
    if (keep)
      for (int64_t d : t.getShape())
        out.push_back(d == 1 ? 1 : kDyn);
    else // the axes are distinct: their count is the rank lost
      out.assign(t.getRank() - at.getDimSize(0), kDyn);
    setResult(op, 0, out, elem);
    return success();
  }
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (!llvm::is_contained(axes, i))
      out.push_back(t.getDimSize(i));
    else if (keep)
      out.push_back(1);
  }
  setResult(op, 0, out, elem);
  return success();
}
#define KILN_INFER_REDUCE(OP)                                                  \
  LogicalResult OP::inferShapes() { return inferReduce(*this); }
KILN_INFER_REDUCE(ReduceSumOp)
KILN_INFER_REDUCE(ReduceMeanOp)
KILN_INFER_REDUCE(ReduceMaxOp)
KILN_INFER_REDUCE(ReduceMinOp)
KILN_INFER_REDUCE(ReduceProdOp)
KILN_INFER_REDUCE(ReduceL1Op)
KILN_INFER_REDUCE(ReduceL2Op)
KILN_INFER_REDUCE(ReduceSumSquareOp)
KILN_INFER_REDUCE(ReduceLogSumOp)
KILN_INFER_REDUCE(ReduceLogSumExpOp)
#undef KILN_INFER_REDUCE

static LogicalResult inferArg(Operation *op, int64_t axis, bool keep) {
  auto t = ranked(op->getOperand(0));
  if (!t) {
    setUnranked(op, 0, i64Type(op));
    return success();
  }
  auto a = normalizeAxis(axis, t.getRank());
  if (!a)
    return op->emitOpError("axis ") << axis << " is out of range";
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (i != *a)
      out.push_back(t.getDimSize(i));
    else if (keep)
      out.push_back(1);
  setResult(op, 0, out, i64Type(op));
  return success();
}
LogicalResult ArgMaxOp::inferShapes() {
  return inferArg(*this, getAxis(), getKeepdims());
}
LogicalResult ArgMinOp::inferShapes() {
  return inferArg(*this, getAxis(), getKeepdims());
}

static LogicalResult inferSoftmax(Operation *op) {
  Value x = op->getOperand(0);
  if (auto t = ranked(x)) {
    bool coerced;
    int64_t axis = getSoftmaxAxis(op, t.getRank(), coerced);
    if (axis < 0 || axis >= std::max<int64_t>(t.getRank(), 1))
      return op->emitOpError("axis is out of range");
  }
  return sameAsOperand(op, x);
}
LogicalResult SoftmaxOp::inferShapes() { return inferSoftmax(*this); }
LogicalResult LogSoftmaxOp::inferShapes() { return inferSoftmax(*this); }

LogicalResult ShapeOfOp::inferShapes() {
  auto t = ranked(getData());
  if (!t) {
    setResult(*this, 0, {kDyn}, i64Type(*this));
    return success();
  }
  auto [s, e] = shapeOpRange(getStart(), getEnd(), t.getRank());
  setResult(*this, 0, {e - s}, i64Type(*this));
  return success();
}

LogicalResult SizeOp::inferShapes() {
  setResult(*this, 0, {}, i64Type(*this));
  return success();
}

LogicalResult ReshapeOp::inferShapes() {
  Type elem = elemOf(getData());
  // A target computed from shapes gives the dims it knows (a dynamic batch
  // with the rest of the shape static).
  auto target = getConstantInts(getShape());
  if (!target)
    target = getPartialInts(getShape());
  auto in = ranked(getData());
  if (!target) {
    auto st = ranked(getShape());
    if (st && st.getRank() == 1 && !st.isDynamicDim(0))
      setResult(*this, 0, Shape(st.getDimSize(0), kDyn), elem);
    else
      setUnranked(*this, 0, elem);
    return success();
  }
  Shape out;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < target->size(); ++i) {
    int64_t d = (*target)[i];
    if (d == 0 && !getAllowzero()) {
      if (!in || (int64_t)i >= in.getRank())
        return emitOpError("a 0 in the shape copies a dimension the input lacks");
      d = in.getDimSize(i);
    }
    if (d == -1) {
      if (inferred >= 0)
        return emitOpError("the shape has more than one -1");
      inferred = i;
    } else if (d < 0 && d != kDyn) {
      return emitOpError("invalid dimension ") << d << " in the shape";
    } else if (d != kDyn) {
      known *= d;
    }
    out.push_back(d == -1 ? kDyn : d);
  }
  // A -1 next to dynamic entries that are the input's dynamic dims (the
  // same dims, traced to where they come from): the rest is static.
  if (in && inferred >= 0 && !in.hasStaticShape()) {
    SmallVector<DimOrigin> want, have;
    int64_t staticIn = 1;
    bool ok = true;
    for (int64_t d = 0; d < in.getRank() && ok; ++d) {
      if (!in.isDynamicDim(d)) {
        staticIn *= in.getDimSize(d);
        continue;
      }
      auto o = traceDim(getData(), d);
      ok = o.has_value();
      if (ok)
        have.push_back(*o);
    }
    for (size_t i = 0; i < out.size() && ok; ++i) {
      if (out[i] != kDyn || (int64_t)i == inferred)
        continue;
      std::optional<DimOrigin> o;
      if ((*target)[i] == 0 && !getAllowzero())
        o = traceDim(getData(), i);
      else
        o = traceShapeEntry(getShape(), i);
      ok = o.has_value();
      if (ok)
        want.push_back(*o);
    }
    auto key = [](const DimOrigin &o) {
      return std::make_pair(o.first.getAsOpaquePointer(), o.second);
    };
    auto less = [&](const DimOrigin &a, const DimOrigin &b) {
      return key(a) < key(b);
    };
    llvm::sort(want, less);
    llvm::sort(have, less);
    if (ok && want.size() == have.size() &&
        llvm::equal(want, have, [&](const DimOrigin &a, const DimOrigin &b) {
          return key(a) == key(b);
        }) &&
        known > 0 && staticIn % known == 0)
      out[inferred] = staticIn / known;
  }
  if (in && in.hasStaticShape()) {
    if (inferred >= 0) {
      if (known == 0 || in.getNumElements() % known != 0)
        return emitOpError("cannot reshape ")
               << in.getNumElements() << " elements to the requested shape";
      out[inferred] = in.getNumElements() / known;
    } else if (!llvm::is_contained(out, kDyn) &&
               in.getNumElements() != known) {
      return emitOpError("cannot reshape ")
             << in.getNumElements() << " elements into " << known;
    }
  }
  setResult(*this, 0, out, elem);
  return success();
}

LogicalResult FlattenOp::inferShapes() {
  auto t = ranked(getInput());
  if (!t) {
    setResult(*this, 0, {kDyn, kDyn}, elemOf(getInput()));
    return success();
  }
  int64_t axis = (int64_t)getAxis();
  if (axis < 0)
    axis += t.getRank();
  if (axis < 0 || axis > t.getRank())
    return emitOpError("axis ") << getAxis() << " is out of range";
  int64_t rows = 1, cols = 1;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    int64_t &acc = i < axis ? rows : cols;
    acc = (acc == kDyn || t.isDynamicDim(i)) ? kDyn : acc * t.getDimSize(i);
  }
  setResult(*this, 0, {rows, cols}, t.getElementType());
  return success();
}

LogicalResult SqueezeOp::inferShapes() {
  auto t = ranked(getData());
  if (!t)
    return sameAsOperand(*this, getData());
  auto axes = getAxesOperandOrAttr(getAxesInput(), getAxes());
  if (!axes) {
    // Axes read at run time: the rank is known from their count.
    auto at = ranked(getAxesInput());
    if (!at || at.getRank() != 1 || at.isDynamicDim(0) ||
        at.getDimSize(0) < 1 || at.getDimSize(0) > t.getRank())
      return emitOpError("the axes input must be a constant");
    setResult(*this, 0, Shape(t.getRank() - at.getDimSize(0), kDyn),
              t.getElementType());
    return success();
  }
  SmallVector<bool> drop(t.getRank(), false);
  if (axes->empty()) {
    for (int64_t i = 0; i < t.getRank(); ++i)
      drop[i] = t.getDimSize(i) == 1;
  }
  for (int64_t a : *axes) {
    auto n = normalizeAxis(a, t.getRank());
    if (!n)
      return emitOpError("axis ") << a << " is out of range";
    if (t.getDimSize(*n) != 1 && !t.isDynamicDim(*n))
      return emitOpError("cannot squeeze dimension ")
             << *n << " of size " << t.getDimSize(*n);
    drop[*n] = true;
  }
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (!drop[i])
      out.push_back(t.getDimSize(i));
  setResult(*this, 0, out, t.getElementType());
  return success();
}

LogicalResult UnsqueezeOp::inferShapes() {
  auto t = ranked(getData());
  if (!t)
    return sameAsOperand(*this, getData());
  auto axes = getAxesOperandOrAttr(getAxesInput(), getAxes());
  if (!axes) {
    // Axes read at run time: the rank is known from their count.
    auto at = ranked(getAxesInput());
    if (!at || at.getRank() != 1 || at.isDynamicDim(0))
      return emitOpError("the axes input must be a constant");
    setResult(*this, 0, Shape(t.getRank() + at.getDimSize(0), kDyn),
              t.getElementType());
    return success();
  }
  int64_t outRank = t.getRank() + axes->size();
  SmallVector<bool> inserted(outRank, false);
  for (int64_t a : *axes) {
    auto n = normalizeAxis(a, outRank);
    if (!n || inserted[*n])
      return emitOpError("axis ") << a << " is out of range or repeated";
    inserted[*n] = true;
  }
  Shape out;
  int64_t j = 0;
  for (int64_t i = 0; i < outRank; ++i)
    out.push_back(inserted[i] ? 1 : t.getDimSize(j++));
  setResult(*this, 0, out, t.getElementType());
  return success();
}

LogicalResult TransposeOp::inferShapes() {
  auto t = ranked(getData());
  if (!t)
    return sameAsOperand(*this, getData());
  SmallVector<int64_t> perm;
  if (auto p = getPerm())
    perm.assign(p->begin(), p->end());
  else
    for (int64_t i = t.getRank() - 1; i >= 0; --i)
      perm.push_back(i);
  if ((int64_t)perm.size() != t.getRank())
    return emitOpError("perm has ")
           << perm.size() << " entries for rank " << t.getRank();
  SmallVector<bool> seen(t.getRank(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= t.getRank() || seen[p])
      return emitOpError("perm is not a permutation");
    seen[p] = true;
    out.push_back(t.getDimSize(p));
  }
  setResult(*this, 0, out, t.getElementType());
  return success();
}

LogicalResult ConcatOp::inferShapes() {
  Type elem = elemOf(getInputs().front());
  Shape out;
  std::optional<int64_t> axis;
  for (Value v : getInputs()) {
    auto t = ranked(v);
    if (!t) {
      setUnranked(*this, 0, elem);
      return success();
    }
    if (!axis) {
      axis = normalizeAxis(getAxis(), t.getRank());
      if (!axis)
        return emitOpError("axis ") << getAxis() << " is out of range";
      out.assign(t.getShape().begin(), t.getShape().end());
      continue;
    }
    if (t.getRank() != (int64_t)out.size())
      return emitOpError("inputs have different ranks");
    for (int64_t i = 0; i < t.getRank(); ++i) {
      if (i == *axis) {
        out[i] = (out[i] == kDyn || t.isDynamicDim(i)) ? kDyn
                                                       : out[i] + t.getDimSize(i);
      } else if (out[i] != t.getDimSize(i) && out[i] != kDyn &&
                 !t.isDynamicDim(i)) {
        return emitOpError("inputs differ in dimension ") << i;
      }
    }
  }
  setResult(*this, 0, out, elem);
  return success();
}

LogicalResult SplitOp::inferShapes() {
  auto t = ranked(getInput());
  Type elem = elemOf(getInput());
  if (!t) {
    for (unsigned i = 0; i < getNumResults(); ++i)
      setUnranked(*this, i, elem);
    return success();
  }
  auto axis = normalizeAxis(getAxis(), t.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range";
  SmallVector<int64_t> sizes;
  if (auto err = resolveSplitSizes(*this, t.getDimSize(*axis), sizes))
    return emitOpError(*err);
  for (unsigned i = 0; i < getNumResults(); ++i) {
    Shape s(t.getShape());
    s[*axis] = sizes[i];
    setResult(*this, i, s, elem);
  }
  return success();
}

LogicalResult SliceOp::inferShapes() {
  auto t = ranked(getData());
  if (!t)
    return sameAsOperand(*this, getData());
  SmallVector<int64_t> starts, ends, axes, steps;
  if (getSliceParams(*this, t.getRank(), starts, ends, axes, steps)) {
    // Ends known at run time only: the dims not sliced keep their size.
    Shape out(t.getRank(), kDyn);
    if (!getSliceParams(*this, t.getRank(), starts, ends, axes, steps,
                        /*runTimeEnds=*/true)) {
      out.assign(t.getShape().begin(), t.getShape().end());
      for (int64_t a : axes)
        if (auto n = normalizeAxis(a, t.getRank()))
          out[*n] = kDyn;
    }
    setResult(*this, 0, out, t.getElementType());
    return success();
  }
  SmallVector<SliceAxis> res;
  if (auto err = computeSlice(t.getShape(), starts, ends, axes, steps, res))
    return emitOpError(*err);
  Shape out;
  for (auto &a : res)
    out.push_back(a.size);
  setResult(*this, 0, out, t.getElementType());
  return success();
}

LogicalResult GatherOp::inferShapes() {
  auto d = ranked(getData()), i = ranked(getIndices());
  if (!d || !i)
    return setUnranked(*this, 0, elemOf(getData())), success();
  auto axis = normalizeAxis(getAxis(), d.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range";
  Shape out(d.getShape().take_front(*axis));
  out.append(i.getShape().begin(), i.getShape().end());
  out.append(d.getShape().begin() + *axis + 1, d.getShape().end());
  setResult(*this, 0, out, d.getElementType());
  return success();
}

/// The entries of a 1-D shape operand: constant, else the known ones (kDyn
/// for the others), else all kDyn when only its length is known.
static std::optional<SmallVector<int64_t>> shapeEntries(Value v) {
  if (auto ints = getConstantInts(v))
    return ints;
  if (auto partial = getPartialInts(v))
    return partial;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (t && t.getRank() == 1 && !t.isDynamicDim(0))
    return SmallVector<int64_t>(t.getDimSize(0), kDyn);
  return std::nullopt;
}

LogicalResult ExpandOp::inferShapes() {
  auto t = ranked(getInput());
  auto shape = shapeEntries(getShape());
  if (!t || !shape)
    return setUnranked(*this, 0, elemOf(getInput())), success();
  auto b = broadcastShapes(t.getShape(), *shape);
  if (!b)
    return emitOpError("the input does not broadcast to the shape");
  setResult(*this, 0, *b, t.getElementType());
  return success();
}

LogicalResult TileOp::inferShapes() {
  auto t = ranked(getInput());
  auto reps = shapeEntries(getRepeats());
  if (!t || !reps)
    return setUnranked(*this, 0, elemOf(getInput())), success();
  if ((int64_t)reps->size() != t.getRank())
    return emitOpError("repeats must have one entry per dimension");
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i)
    out.push_back(t.isDynamicDim(i) || (*reps)[i] == kDyn
                      ? kDyn
                      : t.getDimSize(i) * (*reps)[i]);
  setResult(*this, 0, out, t.getElementType());
  return success();
}

LogicalResult ConstantOfShapeOp::inferShapes() {
  Type elem = Float32Type::get(getContext());
  if (auto v = getValue())
    elem = v->getElementType();
  auto shape = shapeEntries(getInput());
  if (!shape)
    return setUnranked(*this, 0, elem), success();
  for (int64_t d : *shape)
    if (d < 0 && d != kDyn)
      return emitOpError("negative dimension ") << d;
  setResult(*this, 0, *shape, elem);
  return success();
}

LogicalResult RangeOp::inferShapes() {
  Type elem = elemOf(getStart());
  auto s = getConstantScalar(getStart()), l = getConstantScalar(getLimit()),
       d = getConstantScalar(getDelta());
  if (!s || !l || !d)
    return setResult(*this, 0, {kDyn}, elem), success();
  if (*d == 0)
    return emitOpError("delta must not be 0");
  int64_t n = std::max<int64_t>(0, (int64_t)std::ceil((*l - *s) / *d));
  setResult(*this, 0, {n}, elem);
  return success();
}

LogicalResult DropoutOp::inferShapes() {
  sameAsOperand(*this, getData());
  if (auto t = ranked(getData()))
    setResult(*this, 1, t.getShape(), boolType(*this));
  else
    setUnranked(*this, 1, boolType(*this));
  return success();
}
