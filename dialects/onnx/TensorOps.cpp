//===- TensorOps.cpp - verifiers and shape inference of more onnx ops -===//
//
// The ops of OnnxTensorOps.td. As in OnnxOps.cpp, verifiers check what holds
// whatever the operand shapes (attribute values, operand kinds, element
// types); inferShapes checks shape agreement and sets the result types.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

bool isIndexType(Type t) { return t.isInteger(32) || t.isInteger(64); }

LogicalResult verifyRank(Operation *op, Value v, int64_t rank) {
  if (auto t = ranked(v))
    if (t.getRank() != rank)
      return op->emitOpError("expects an input of rank ")
             << rank << ", got " << t.getRank();
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// CastLike
//===----------------------------------------------------------------------===//

LogicalResult CastLikeOp::verify() {
  if (!getOnnxDataType(elemOf(getTargetType())))
    return emitOpError("unsupported target element type ")
           << elemOf(getTargetType());
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult CastLikeOp::inferShapes() {
  return sameAsOperand(*this, getInput(), elemOf(getTargetType()));
}

//===----------------------------------------------------------------------===//
// Trilu
//===----------------------------------------------------------------------===//

LogicalResult TriluOp::verify() {
  if (auto t = ranked(getInput()))
    if (t.getRank() < 2)
      return emitOpError("expects an input of rank 2 or more, got ")
             << t.getRank();
  if (!isNone(getK())) {
    if (!elemOf(getK()).isInteger(64))
      return emitOpError("k must be an int64 scalar");
    if (failed(verifyScalar(*this, getK(), "k")))
      return failure();
  }
  if (failed(verifyFlag(*this, "upper")))
    return failure();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult TriluOp::inferShapes() {
  return sameAsOperand(*this, getInput());
}

//===----------------------------------------------------------------------===//
// GatherElements
//===----------------------------------------------------------------------===//

LogicalResult GatherElementsOp::verify() {
  if (!isIndexType(elemOf(getIndices())))
    return emitOpError("indices must be int32 or int64");
  auto d = ranked(getData()), i = ranked(getIndices());
  if (d && i && d.getRank() != i.getRank())
    return emitOpError("data and indices must have the same rank");
  if (d)
    if (auto axis = normalizeAxis(getAxis(), d.getRank()))
      if (failed(verifyIndicesWithin(*this, getIndices(),
                                     {d.getDimSize(*axis)})))
        return failure();
  return verifySameShape(*this, getIndices(), getOutput());
}

LogicalResult GatherElementsOp::inferShapes() {
  auto d = ranked(getData()), i = ranked(getIndices());
  if (d && !normalizeAxis(getAxis(), d.getRank()))
    return emitOpError("axis ") << getAxis() << " is out of range";
  if (!i)
    return setUnranked(*this, elemOf(getData()));
  if (d)
    for (int64_t k = 0; k < d.getRank(); ++k)
      if (k != *normalizeAxis(getAxis(), d.getRank()) && !d.isDynamicDim(k) &&
          !i.isDynamicDim(k) && i.getDimSize(k) > d.getDimSize(k))
        return emitOpError("indices are larger than data in dimension ") << k;
  setResult(*this, i.getShape(), elemOf(getData()));
  return success();
}

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

LogicalResult CumSumOp::verify() {
  if (elemOf(getX()).isInteger(1))
    return emitOpError("does not take bool operands");
  if (!isIndexType(elemOf(getAxis())))
    return emitOpError("axis must be an int32 or int64 scalar");
  if (failed(verifyScalar(*this, getAxis(), "axis")) ||
      failed(verifyFlag(*this, "exclusive")) ||
      failed(verifyFlag(*this, "reverse")))
    return failure();
  return verifySameShape(*this, getX(), getY());
}

LogicalResult CumSumOp::inferShapes() {
  if (auto t = ranked(getX())) {
    if (t.getRank() == 0)
      return emitOpError("expects an input of rank 1 or more");
    if (auto axis = getConstantInts(getAxis()))
      if (axis->size() == 1 && !normalizeAxis(axis->front(), t.getRank()))
        return emitOpError("axis ") << axis->front() << " is out of range";
  }
  return sameAsOperand(*this, getX());
}

//===----------------------------------------------------------------------===//
// Hardmax
//===----------------------------------------------------------------------===//

LogicalResult HardmaxOp::verify() {
  if (!isa<FloatType>(elemOf(getInput())))
    return emitOpError("expects a floating-point operand, got ")
           << elemOf(getInput());
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult HardmaxOp::inferShapes() {
  if (auto t = ranked(getInput())) {
    bool coerced;
    int64_t axis = getSoftmaxAxis(*this, t.getRank(), coerced);
    if (axis < 0 || axis >= std::max<int64_t>(t.getRank(), 1))
      return emitOpError("axis is out of range");
  }
  return sameAsOperand(*this, getInput());
}

//===----------------------------------------------------------------------===//
// DepthToSpace, SpaceToDepth
//===----------------------------------------------------------------------===//

LogicalResult DepthToSpaceOp::verify() {
  if (getBlocksize() < 1)
    return emitOpError("blocksize must be positive");
  if (getMode() != "DCR" && getMode() != "CRD")
    return emitOpError("mode must be DCR or CRD");
  return verifyRank(*this, getInput(), 4);
}

LogicalResult DepthToSpaceOp::inferShapes() {
  auto t = ranked(getInput());
  if (!t)
    return setUnranked(*this, elemOf(getInput()));
  int64_t b = getBlocksize(), c = t.getDimSize(1);
  if (c != kDyn && c % (b * b) != 0)
    return emitOpError("channels (")
           << c << ") are not divisible by blocksize squared (" << b * b << ")";
  auto times = [&](int64_t d) { return d == kDyn ? kDyn : d * b; };
  setResult(*this,
            {t.getDimSize(0), c == kDyn ? kDyn : c / (b * b),
             times(t.getDimSize(2)), times(t.getDimSize(3))},
            t.getElementType());
  return success();
}

LogicalResult SpaceToDepthOp::verify() {
  if (getBlocksize() < 1)
    return emitOpError("blocksize must be positive");
  return verifyRank(*this, getInput(), 4);
}

LogicalResult SpaceToDepthOp::inferShapes() {
  auto t = ranked(getInput());
  if (!t)
    return setUnranked(*this, elemOf(getInput()));
  int64_t b = getBlocksize();
  for (int64_t i : {2, 3})
    if (!t.isDynamicDim(i) && t.getDimSize(i) % b != 0)
      return emitOpError("spatial dimension ")
             << i << " (" << t.getDimSize(i)
             << ") is not divisible by blocksize (" << b << ")";
  auto div = [&](int64_t d) { return d == kDyn ? kDyn : d / b; };
  int64_t c = t.getDimSize(1);
  setResult(*this,
            {t.getDimSize(0), c == kDyn ? kDyn : c * b * b,
             div(t.getDimSize(2)), div(t.getDimSize(3))},
            t.getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// OneHot
//===----------------------------------------------------------------------===//

LogicalResult OneHotOp::verify() {
  if (elemOf(getIndices()).isInteger(1))
    return emitOpError("indices must be numbers");
  if (failed(verifyScalar(*this, getDepth(), "depth")))
    return failure();
  if (auto v = ranked(getValues()))
    if (v.getRank() != 1 || (!v.isDynamicDim(0) && v.getDimSize(0) != 2))
      return emitOpError("values must be a 1-D tensor of two elements");
  return success();
}

LogicalResult OneHotOp::inferShapes() {
  Type elem = elemOf(getValues());
  auto t = ranked(getIndices());
  if (!t)
    return setUnranked(*this, elem);
  auto axis = normalizeAxis(getAxis(), t.getRank() + 1);
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range";
  int64_t depth = kDyn;
  if (auto d = getConstantScalar(getDepth())) {
    if (*d < 1)
      return emitOpError("depth must be positive, got ") << *d;
    depth = (int64_t)*d;
  }
  Shape out(t.getShape());
  out.insert(out.begin() + *axis, depth);
  setResult(*this, out, elem);
  return success();
}

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

LogicalResult PadOp::verify() {
  if (!llvm::is_contained({"constant", "reflect", "edge", "wrap"}, getMode()))
    return emitOpError("unknown mode '") << getMode() << "'";
  bool hasInput = !isNone(getPadsInput());
  if (hasInput == (bool)getPads())
    return emitOpError("takes pads either as an input or as an attribute");
  if (hasInput) {
    auto t = dyn_cast<ShapedType>(getPadsInput().getType());
    if (!t.getElementType().isInteger(64) || (t.hasRank() && t.getRank() != 1))
      return emitOpError("pads must be a 1-D int64 tensor");
  }
  if (!isNone(getConstantValue())) {
    if (elemOf(getConstantValue()) != elemOf(getData()))
      return emitOpError("constant_value must have the data's element type");
    if (failed(verifyScalar(*this, getConstantValue(), "constant_value")))
      return failure();
  }
  if (!isNone(getAxes()) && !isIndexType(elemOf(getAxes())))
    return emitOpError("axes must be int32 or int64");
  return success();
}

std::optional<std::string> kiln::onnx::resolvePads(Operation *op, int64_t rank,
                                                   SmallVector<int64_t> &low,
                                                   SmallVector<int64_t> &high,
                                                   ConstantIntsFn ints) {
  auto pad = cast<PadOp>(op);
  SmallVector<int64_t> pads;
  if (auto attr = pad.getPads()) {
    pads.assign(attr->begin(), attr->end());
  } else {
    auto values = ints(pad.getPadsInput());
    if (!values)
      return std::string("pads must be a constant");
    pads = *values;
  }
  SmallVector<int64_t> axes;
  if (!isa<NoneType>(pad.getAxes().getType())) {
    auto values = ints(pad.getAxes());
    if (!values)
      return std::string("axes must be a constant");
    for (int64_t a : *values) {
      auto n = normalizeAxis(a, rank);
      if (!n)
        return "axis " + std::to_string(a) + " is out of range";
      if (llvm::is_contained(axes, *n))
        return std::string("axes repeat");
      axes.push_back(*n);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size())
    return "pads has " + std::to_string(pads.size()) + " values for " +
           std::to_string(axes.size()) + " axes";
  low.assign(rank, 0);
  high.assign(rank, 0);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    low[axis] = pads[i];
    high[axis] = pads[i + axes.size()];
  }
  return std::nullopt;
}

LogicalResult PadOp::inferShapes() {
  auto t = ranked(getData());
  if (!t)
    return sameAsOperand(*this, getData());
  if ((!getPads() && !getConstantInts(getPadsInput())) ||
      (!isNone(getAxes()) && !getConstantInts(getAxes()))) {
    // Pads known only at run time: every dimension may change.
    setResult(*this, Shape(t.getRank(), kDyn), t.getElementType());
    return success();
  }
  SmallVector<int64_t> low, high;
  if (auto err = resolvePads(*this, t.getRank(), low, high))
    return emitOpError(*err);
  Shape out;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    int64_t d = t.getDimSize(i);
    if (d == kDyn) {
      out.push_back(kDyn);
      continue;
    }
    int64_t size = d + low[i] + high[i];
    if (size < 0)
      return emitOpError("pads remove more than dimension ") << i << " holds";
    if (getMode() != "constant" && d == 0 && size > 0)
      return emitOpError("cannot pad the empty dimension ")
             << i << " in mode " << getMode();
    out.push_back(size);
  }
  setResult(*this, out, t.getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// ScatterElements, Scatter
//===----------------------------------------------------------------------===//

static LogicalResult verifyScatter(Operation *op, StringRef reduction) {
  Value data = op->getOperand(0), indices = op->getOperand(1),
        updates = op->getOperand(2);
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, reduction))
    return op->emitOpError("unknown reduction '") << reduction << "'";
  if (reduction != "none" && elemOf(data).isInteger(1))
    return op->emitOpError("cannot reduce bool elements");
  if (!isIndexType(elemOf(indices)))
    return op->emitOpError("indices must be int32 or int64");
  if (elemOf(updates) != elemOf(data))
    return op->emitOpError("updates must have the data's element type");
  auto d = ranked(data), i = ranked(indices), u = ranked(updates);
  if (d && i && d.getRank() != i.getRank())
    return op->emitOpError("data and indices must have the same rank");
  if (i && u && failed(verifyCompatibleShape(i.getShape(), u.getShape())))
    return op->emitOpError("indices and updates must have the same shape");
  return verifySameShape(op, data, op->getResult(0));
}

static LogicalResult inferScatter(Operation *op, int64_t axis) {
  Value data = op->getOperand(0), indices = op->getOperand(1);
  auto d = ranked(data), i = ranked(indices);
  if (d && !normalizeAxis(axis, d.getRank()))
    return op->emitOpError("axis ") << axis << " is out of range";
  if (d && i)
    for (int64_t k = 0; k < d.getRank(); ++k)
      if (!d.isDynamicDim(k) && !i.isDynamicDim(k) &&
          i.getDimSize(k) > d.getDimSize(k))
        return op->emitOpError("indices are larger than data in dimension ")
               << k;
  return sameAsOperand(op, data);
}

LogicalResult ScatterElementsOp::verify() {
  if (failed(verifyScatter(*this, getReduction())))
    return failure();
  if (auto d = ranked(getData()))
    if (auto axis = normalizeAxis(getAxis(), d.getRank()))
      return verifyIndicesWithin(*this, getIndices(), {d.getDimSize(*axis)});
  return success();
}
LogicalResult ScatterElementsOp::inferShapes() {
  return inferScatter(*this, getAxis());
}
LogicalResult ScatterOp::verify() { return verifyScatter(*this, "none"); }
LogicalResult ScatterOp::inferShapes() {
  return inferScatter(*this, getAxis());
}

//===----------------------------------------------------------------------===//
// GatherND, ScatterND
//===----------------------------------------------------------------------===//

/// k, the length of an index tuple, when indices are ranked with a static
/// last dim; checks it against data's rank less `batch`.
static FailureOr<int64_t> tupleLength(Operation *op, Value data, Value indices,
                                      int64_t batch) {
  auto d = ranked(data), i = ranked(indices);
  if (!isIndexType(elemOf(indices)))
    return op->emitOpError("indices must be int32 or int64");
  if (!d || !i)
    return (int64_t)ShapedType::kDynamic;
  if (i.getRank() < 1)
    return op->emitOpError("indices must have rank 1 or more");
  if (batch < 0 || batch >= std::min(d.getRank(), i.getRank()))
    return op->emitOpError("batch_dims ") << batch << " is out of range";
  int64_t k = i.getShape().back();
  if (k == ShapedType::kDynamic)
    return op->emitOpError("the last dim of indices must be static");
  if (k < 1 || k > d.getRank() - batch)
    return op->emitOpError("index tuples of ")
           << k << " entries do not fit data of rank " << d.getRank();
  for (int64_t b = 0; b < batch; ++b)
    if (!d.isDynamicDim(b) && !i.isDynamicDim(b) &&
        d.getDimSize(b) != i.getDimSize(b))
      return op->emitOpError("batch dim ") << b << " differs";
  // Each tuple's entries address dims batch .. batch + k - 1.
  if (failed(verifyIndicesWithin(op, indices,
                                 d.getShape().slice(batch, k))))
    return failure();
  return k;
}

LogicalResult GatherNDOp::verify() {
  return failure(failed(tupleLength(*this, getData(), getIndices(),
                                    getBatchDims())));
}

LogicalResult GatherNDOp::inferShapes() {
  auto k = tupleLength(*this, getData(), getIndices(), getBatchDims());
  if (failed(k))
    return failure();
  auto d = ranked(getData()), i = ranked(getIndices());
  if (!d || !i)
    return setUnranked(*this, elemOf(getData()));
  SmallVector<int64_t> shape(i.getShape().drop_back());
  llvm::append_range(shape, d.getShape().drop_front(getBatchDims() + *k));
  setResult(*this, shape, elemOf(getData()));
  return success();
}

LogicalResult ScatterNDOp::verify() {
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"},
                          getReduction()))
    return emitOpError("unknown reduction '") << getReduction() << "'";
  if (elemOf(getUpdates()) != elemOf(getData()))
    return emitOpError("updates must have the data's element type");
  auto k = tupleLength(*this, getData(), getIndices(), 0);
  if (failed(k))
    return failure();
  auto d = ranked(getData()), i = ranked(getIndices()),
       u = ranked(getUpdates());
  if (d && i && u) {
    SmallVector<int64_t> want(i.getShape().drop_back());
    llvm::append_range(want, d.getShape().drop_front(*k));
    if (failed(verifyCompatibleShape(want, u.getShape())))
      return emitOpError("updates must have shape indices.shape[:-1] + "
                         "data.shape[k:]");
  }
  return verifySameShape(*this, getData(), getOutput());
}

LogicalResult ScatterNDOp::inferShapes() {
  return sameAsOperand(*this, getData());
}

//===----------------------------------------------------------------------===//
// ReverseSequence
//===----------------------------------------------------------------------===//

LogicalResult ReverseSequenceOp::verify() {
  if (!isIndexType(elemOf(getSequenceLens())))
    return emitOpError("sequence_lens must be int32 or int64");
  auto x = ranked(getInput()), lens = ranked(getSequenceLens());
  if (x) {
    if (x.getRank() < 2)
      return emitOpError("expects an input of rank 2 or more");
    int64_t b = getBatchAxis(), t = getTimeAxis();
    if ((b != 0 && b != 1) || (t != 0 && t != 1) || b == t)
      return emitOpError("batch_axis and time_axis must be 0 and 1");
    if (lens && (lens.getRank() != 1 ||
                 (!lens.isDynamicDim(0) && !x.isDynamicDim(b) &&
                  lens.getDimSize(0) != x.getDimSize(b))))
      return emitOpError("sequence_lens must have one entry per batch entry");
  }
  return verifySameShape(*this, getInput(), getY());
}
LogicalResult ReverseSequenceOp::inferShapes() {
  return sameAsOperand(*this, getInput());
}

//===----------------------------------------------------------------------===//
// EyeLike
//===----------------------------------------------------------------------===//

LogicalResult EyeLikeOp::verify() {
  if (auto dtype = getDtype())
    if (!getElementTypeForOnnx(getContext(), *dtype))
      return emitOpError("unsupported dtype code ") << *dtype;
  if (failed(verifyRank(*this, getInput(), 2)))
    return failure();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult EyeLikeOp::inferShapes() {
  Type elem = elemOf(getInput());
  if (auto dtype = getDtype())
    elem = getElementTypeForOnnx(getContext(), *dtype);
  return sameAsOperand(*this, getInput(), elem);
}

//===----------------------------------------------------------------------===//
// TopK, Compress, NonZero
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::verify() {
  if (elemOf(getX()).isInteger(1))
    return emitOpError("does not take bool operands");
  if (isNone(getK()) == !getKAttr())
    return emitOpError("takes k as an input (opset 10 on) or an attribute "
                       "(before), one of them");
  if (!isNone(getK())) {
    if (elemOf(getK()) != IntegerType::get(getContext(), 64))
      return emitOpError("K must be int64");
    if (auto t = ranked(getK()); t && t.hasStaticShape() &&
                                 t.getNumElements() != 1)
      return emitOpError("K must hold one element");
  }
  if (failed(verifyFlag(*this, "largest")) ||
      failed(verifyFlag(*this, "sorted")))
    return failure();
  return success();
}

LogicalResult TopKOp::inferShapes() {
  Type elem = elemOf(getX());
  Type i64 = IntegerType::get(getContext(), 64);
  auto t = ranked(getX());
  if (!t) {
    getValues().setType(UnrankedTensorType::get(elem));
    getIndices().setType(UnrankedTensorType::get(i64));
    return success();
  }
  auto axis = normalizeAxis(getAxis(), t.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range";
  int64_t k = kDyn;
  if (auto attr = getKAttr())
    k = *attr;
  else if (auto ks = getConstantInts(getK()); ks && ks->size() == 1)
    k = ks->front();
  int64_t n = t.getDimSize(*axis);
  if (k != kDyn && (k < 0 || (n != kDyn && k > n)))
    return emitOpError("k = ") << k << " is not within the axis' " << n
                               << " elements";
  Shape out(t.getShape());
  out[*axis] = k;
  getValues().setType(RankedTensorType::get(out, elem));
  getIndices().setType(RankedTensorType::get(out, i64));
  return success();
}

LogicalResult CompressOp::verify() {
  if (!elemOf(getCondition()).isInteger(1))
    return emitOpError("condition must be bool");
  if (auto c = ranked(getCondition()); c && c.getRank() != 1)
    return emitOpError("condition must be 1-D");
  return success();
}

LogicalResult CompressOp::inferShapes() {
  Type elem = elemOf(getInput());
  auto t = ranked(getInput());
  if (!t)
    return setUnranked(*this, elem);
  if (!getAxis()) {
    setResult(*this, {kDyn}, elem);
    return success();
  }
  auto axis = normalizeAxis(*getAxis(), t.getRank());
  if (!axis)
    return emitOpError("axis ") << *getAxis() << " is out of range";
  Shape out(t.getShape());
  out[*axis] = kDyn;
  setResult(*this, out, elem);
  return success();
}

LogicalResult NonZeroOp::verify() { return success(); }

LogicalResult NonZeroOp::inferShapes() {
  Type i64 = IntegerType::get(getContext(), 64);
  auto t = ranked(getX());
  setResult(*this, {t ? t.getRank() : kDyn, kDyn}, i64);
  return success();
}

LogicalResult UniqueOp::verify() { return verifyFlag(*this, "sorted"); }

LogicalResult UniqueOp::inferShapes() {
  Type elem = elemOf(getX());
  Type i64 = IntegerType::get(getContext(), 64);
  auto t = ranked(getX());
  auto set = [&](Value v, ArrayRef<int64_t> shape, Type e) {
    v.setType(RankedTensorType::get(shape, e));
  };
  if (!t) {
    getY().setType(UnrankedTensorType::get(elem));
    for (Value v : {getIndices(), getInverseIndices(), getCounts()})
      set(v, {kDyn}, i64);
    return success();
  }
  int64_t n = 1;
  if (auto a = getAxis()) {
    auto axis = normalizeAxis(*a, t.getRank());
    if (!axis)
      return emitOpError("axis ") << *a << " is out of range";
    Shape out(t.getShape());
    out[*axis] = kDyn;
    set(getY(), out, elem);
    n = t.getDimSize(*axis);
  } else {
    set(getY(), {kDyn}, elem);
    for (int64_t d : t.getShape())
      n = d == kDyn || n == kDyn ? kDyn : n * d;
  }
  set(getIndices(), {kDyn}, i64);
  set(getInverseIndices(), {n}, i64);
  set(getCounts(), {kDyn}, i64);
  return success();
}
