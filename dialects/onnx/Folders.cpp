//===- Folders.cpp - constant folding of onnx ops -------------------------===//
//
// Folds the shape arithmetic exporters emit (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape and friends) so that shapes become static constants.
// Arithmetic folds are limited to small integer tensors: they exist to
// resolve shapes, not to evaluate the model at compile time.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace kiln::onnx;
using llvm::SmallVector;

static constexpr int64_t kMaxFoldElements = 4096;

namespace {
/// A small integer tensor read from a fold adaptor's attribute.
struct IntTensor {
  SmallVector<int64_t> shape;
  SmallVector<int64_t> values;
};

std::optional<IntTensor> readInts(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldElements)
    return std::nullopt;
  IntTensor t;
  t.shape.assign(dense.getType().getShape().begin(),
                 dense.getType().getShape().end());
  bool isBool = dense.getElementType().isInteger(1);
  for (const APInt &v : dense.getValues<APInt>())
    t.values.push_back(isBool ? v.getZExtValue() : v.getSExtValue());
  return t;
}

/// Builds an integer DenseElementsAttr of `type` (a static tensor).
Attribute makeInts(Type type, llvm::ArrayRef<int64_t> values) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape() || !isa<IntegerType>(t.getElementType()) ||
      t.getNumElements() != (int64_t)values.size())
    return {};
  unsigned width = t.getElementType().getIntOrFloatBitWidth();
  SmallVector<APInt> ints;
  for (int64_t v : values)
    ints.push_back(APInt(width, v, /*isSigned=*/true, /*implicitTrunc=*/true));
  return DenseElementsAttr::get(t, ints);
}

/// Index of element `i` of `shape` in a tensor of `inShape` broadcast to it.
int64_t broadcastIndex(int64_t i, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<int64_t> inShape) {
  int64_t idx = 0, stride = 1;
  for (int64_t d = shape.size() - 1, e = inShape.size() - 1; e >= 0;
       --d, --e) {
    int64_t coord = i % shape[d];
    i /= shape[d];
    if (inShape[e] != 1)
      idx += coord * stride;
    stride *= inShape[e];
  }
  return idx;
}

template <typename Fn>
OpFoldResult foldBinaryInts(Operation *op, Attribute a, Attribute b, Fn fn) {
  auto x = readInts(a), y = readInts(b);
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!x || !y || !type || !type.hasStaticShape())
    return {};
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    auto r = fn(x->values[broadcastIndex(i, type.getShape(), x->shape)],
                y->values[broadcastIndex(i, type.getShape(), y->shape)]);
    if (!r)
      return {};
    out.push_back(*r);
  }
  return makeInts(type, out);
}

/// Any constant reshaped to the (static) result type.
OpFoldResult reshapeConstant(Attribute in, Type resultType) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(in);
  auto t = dyn_cast<RankedTensorType>(resultType);
  if (!dense || !t || !t.hasStaticShape() ||
      dense.getNumElements() != t.getNumElements())
    return {};
  return dense.reshape(t);
}
} // namespace

OpFoldResult NoValueOp::fold(FoldAdaptor) { return UnitAttr::get(getContext()); }
OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  if (getX().getType() == getType())
    return getX();
  return {};
}

OpFoldResult ShapeOfOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  auto out = dyn_cast<RankedTensorType>(getType());
  if (!in || !in.hasStaticShape() || !out || !out.hasStaticShape())
    return {};
  auto [s, e] = shapeOpRange(getStart(), getEnd(), in.getRank());
  return makeInts(out, SmallVector<int64_t>(in.getShape().begin() + s,
                                            in.getShape().begin() + e));
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  if (!in || !in.hasStaticShape())
    return {};
  return makeInts(getType(), {in.getNumElements()});
}

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldBinaryInts(*this, a.getA(), a.getB(),
                        [](int64_t x, int64_t y) -> std::optional<int64_t> {
                          return x + y;
                        });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldBinaryInts(*this, a.getA(), a.getB(),
                        [](int64_t x, int64_t y) -> std::optional<int64_t> {
                          return x - y;
                        });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldBinaryInts(*this, a.getA(), a.getB(),
                        [](int64_t x, int64_t y) -> std::optional<int64_t> {
                          return x * y;
                        });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldBinaryInts(*this, a.getA(), a.getB(),
                        [](int64_t x, int64_t y) -> std::optional<int64_t> {
                          if (y == 0)
                            return std::nullopt;
                          return x / y;
                        });
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  auto x = readInts(a.getInput());
  if (!x)
    return {};
  auto t = dyn_cast<RankedTensorType>(getType());
  if (!t)
    return {};
  if (isa<IntegerType>(t.getElementType()))
    return makeInts(t, x->values);
  if (auto ft = dyn_cast<FloatType>(t.getElementType())) {
    SmallVector<APFloat> fs;
    for (int64_t v : x->values) {
      APFloat f((double)v);
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      fs.push_back(f);
    }
    return DenseElementsAttr::get(t, fs);
  }
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (getData().getType() == getType() &&
      cast<RankedTensorType>(getType()).hasStaticShape())
    return getData();
  return reshapeConstant(a.getData(), getType());
}
OpFoldResult SqueezeOp::fold(FoldAdaptor a) {
  return reshapeConstant(a.getData(), getType());
}
OpFoldResult UnsqueezeOp::fold(FoldAdaptor a) {
  return reshapeConstant(a.getData(), getType());
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  auto t = dyn_cast<RankedTensorType>(getType());
  if (!t || !t.hasStaticShape() || t.getRank() != 1)
    return {};
  SmallVector<int64_t> out;
  for (Attribute in : a.getInputs()) {
    auto x = readInts(in);
    if (!x)
      return {};
    out.append(x->values);
  }
  return makeInts(t, out);
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  auto idx = readInts(a.getIndices());
  auto t = dyn_cast<RankedTensorType>(getType());
  if (!idx || !t)
    return {};
  // The entries of a constant, or the known ones of a shape (the static
  // dims of a partly dynamic tensor).
  SmallVector<int64_t> values;
  if (auto data = readInts(a.getData())) {
    if (data->shape.size() != 1)
      return {};
    values = data->values;
  } else if (auto partial = getPartialInts(getData())) {
    auto dt = dyn_cast<RankedTensorType>(getData().getType());
    if (!dt || dt.getRank() != 1)
      return {};
    values = *partial;
  } else {
    return {};
  }
  int64_t n = values.size();
  SmallVector<int64_t> out;
  for (int64_t i : idx->values) {
    if (i < -n || i >= n || values[i < 0 ? i + n : i] == ShapedType::kDynamic)
      return {};
    out.push_back(values[i < 0 ? i + n : i]);
  }
  return makeInts(t, out);
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  auto data = readInts(a.getData());
  auto t = dyn_cast<RankedTensorType>(getType());
  if (!data || !t || !t.hasStaticShape() || data->shape.size() != 1)
    return {};
  SmallVector<int64_t> starts, ends, axes, steps;
  if (getSliceParams(*this, 1, starts, ends, axes, steps))
    return {};
  SmallVector<SliceAxis> res;
  if (computeSlice(data->shape, starts, ends, axes, steps, res))
    return {};
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < res[0].size; ++i)
    out.push_back(data->values[res[0].start + i * res[0].step]);
  return makeInts(t, out);
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  auto t = dyn_cast<RankedTensorType>(getType());
  if (!t || !t.hasStaticShape() || t.getNumElements() > kMaxFoldElements)
    return {};
  if (auto v = getValue()) {
    auto dense = dyn_cast<DenseElementsAttr>(*v);
    if (!dense)
      return {};
    return DenseElementsAttr::get(t, dense.getValues<Attribute>()[0]);
  }
  return DenseElementsAttr::get(t, FloatAttr::get(t.getElementType(), 0.0));
}

OpFoldResult RangeOp::fold(FoldAdaptor a) {
  auto s = readInts(a.getStart()), l = readInts(a.getLimit()),
       d = readInts(a.getDelta());
  auto t = dyn_cast<RankedTensorType>(getType());
  if (!s || !l || !d || !t || !t.hasStaticShape())
    return {};
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < t.getNumElements(); ++i)
    out.push_back(s->values[0] + i * d->values[0]);
  return makeInts(t, out);
}

OpFoldResult NegOp::fold(FoldAdaptor a) {
  auto x = readInts(a.getX());
  if (!x)
    return {};
  for (int64_t &v : x->values)
    v = -v;
  return makeInts(getType(), x->values);
}
