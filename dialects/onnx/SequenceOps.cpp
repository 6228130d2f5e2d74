//===- SequenceOps.cpp - sequences known at compile time ------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace kiln::onnx;

static constexpr int64_t kDyn = ShapedType::kDynamic;

/// A constant one-element position, or nullopt.
static std::optional<int64_t> constantPosition(Value v) {
  auto c = getConstantInts(v);
  if (!c || c->size() != 1)
    return std::nullopt;
  return (*c)[0];
}

/// The common type of tensors of one element type: unranked where ranks
/// differ, dynamic where dims do; null for different element types.
static TensorType commonType(ArrayRef<Type> types, Type fallbackElem) {
  if (types.empty())
    return UnrankedTensorType::get(fallbackElem);
  auto first = cast<TensorType>(types.front());
  Type elem = first.getElementType();
  auto ranked = dyn_cast<RankedTensorType>(first);
  Shape dims = ranked ? Shape(ranked.getShape()) : Shape();
  for (Type t : types.drop_front()) {
    auto tt = cast<TensorType>(t);
    if (tt.getElementType() != elem)
      return nullptr;
    auto r = dyn_cast<RankedTensorType>(tt);
    if (!r || !ranked || r.getRank() != ranked.getRank()) {
      ranked = nullptr;
      continue;
    }
    for (int64_t d = 0; d < r.getRank(); ++d)
      if (dims[d] != r.getDimSize(d))
        dims[d] = kDyn;
  }
  if (!ranked)
    return UnrankedTensorType::get(elem);
  return RankedTensorType::get(dims, elem);
}

std::optional<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
kiln::onnx::splitPieces(SplitToSequenceOp op) {
  auto t = ranked(op.getInput());
  if (!t)
    return std::nullopt;
  auto axis = normalizeAxis(op.getAxis(), t.getRank());
  if (!axis || t.isDynamicDim(*axis))
    return std::nullopt;
  int64_t n = t.getDimSize(*axis);
  SmallVector<int64_t> lengths;
  if (isNone(op.getSplit())) {
    lengths.assign(n, 1);
  } else {
    auto c = getConstantInts(op.getSplit());
    if (!c)
      return std::nullopt;
    if (ranked(op.getSplit()) && ranked(op.getSplit()).getRank() == 0) {
      int64_t each = (*c)[0];
      if (each < 1)
        return std::nullopt;
      for (int64_t at = 0; at < n; at += each)
        lengths.push_back(std::min(each, n - at));
    } else {
      lengths.assign(c->begin(), c->end());
    }
  }
  SmallVector<int64_t> offsets;
  int64_t at = 0;
  for (int64_t l : lengths) {
    if (l < 0)
      return std::nullopt;
    offsets.push_back(at);
    at += l;
  }
  if (at != n)
    return std::nullopt;
  return std::make_pair(offsets, lengths);
}

/// How many pieces a SplitToSequence makes, where known.
static std::optional<int64_t> splitCount(SplitToSequenceOp op) {
  if (auto pieces = splitPieces(op))
    return (int64_t)pieces->first.size();
  // A 1-D split of run-time lengths: as many pieces as it has entries.
  if (auto s = ranked(op.getSplit()); s && s.getRank() == 1 &&
                                       !s.isDynamicDim(0))
    return s.getDimSize(0);
  return std::nullopt;
}

Type kiln::onnx::seqElementType(const SeqElement &e) {
  if (e.value)
    return e.value.getType();
  SplitToSequenceOp split = e.split;
  auto t = ranked(split.getInput());
  Type elem = elemOf(split.getInput());
  if (!t)
    return UnrankedTensorType::get(elem);
  int64_t axis = *normalizeAxis(split.getAxis(), t.getRank());
  Shape dims(t.getShape());
  auto pieces = splitPieces(split);
  dims[axis] = pieces ? pieces->second[e.index] : kDyn;
  bool squeeze = isNone(split.getSplit()) && !split.getKeepdims();
  if (squeeze)
    dims.erase(dims.begin() + axis);
  return RankedTensorType::get(dims, elem);
}

std::optional<SmallVector<SeqElement>> kiln::onnx::resolveSequence(Value seq) {
  Operation *def = seq.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (isa<SequenceEmptyOp>(def))
    return SmallVector<SeqElement>{};
  if (auto c = dyn_cast<SequenceConstructOp>(def)) {
    SmallVector<SeqElement> out;
    for (Value v : c.getInputs())
      out.push_back({v, nullptr, 0});
    return out;
  }
  if (auto s = dyn_cast<SplitToSequenceOp>(def)) {
    auto n = splitCount(s);
    if (!n)
      return std::nullopt;
    SmallVector<SeqElement> out;
    for (int64_t i = 0; i < *n; ++i)
      out.push_back({Value(), s, i});
    return out;
  }
  if (auto ins = dyn_cast<SequenceInsertOp>(def)) {
    auto base = resolveSequence(ins.getInputSequence());
    if (!base)
      return std::nullopt;
    int64_t n = base->size(), at = n;
    if (!isNone(ins.getPosition())) {
      auto p = constantPosition(ins.getPosition());
      if (!p || *p < -n || *p > n)
        return std::nullopt;
      at = *p < 0 ? *p + n : *p;
    }
    base->insert(base->begin() + at, {ins.getTensor(), nullptr, 0});
    return base;
  }
  if (auto erase = dyn_cast<SequenceEraseOp>(def)) {
    auto base = resolveSequence(erase.getInputSequence());
    if (!base || base->empty())
      return std::nullopt;
    int64_t n = base->size(), at = n - 1;
    if (!isNone(erase.getPosition())) {
      auto p = constantPosition(erase.getPosition());
      if (!p || *p < -n || *p >= n)
        return std::nullopt;
      at = *p < 0 ? *p + n : *p;
    }
    base->erase(base->begin() + at);
    return base;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Verifiers and shape rules
//===----------------------------------------------------------------------===//

static LogicalResult setSeq(Operation *op, ArrayRef<Type> elements,
                            Type fallbackElem) {
  TensorType t = commonType(elements, fallbackElem);
  if (!t)
    return op->emitOpError("sequence elements must share an element type");
  op->getResult(0).setType(SeqType::get(op->getContext(), t));
  return success();
}

static Type seqElem(Value seq) {
  return cast<SeqType>(seq.getType()).getElementType();
}

/// The sequence result of `op` from its resolved elements, or from `base`
/// (the input sequence's type) merged with `added` when unresolved.
static LogicalResult inferSeq(Operation *op, Value base, ArrayRef<Type> added) {
  if (auto elems = resolveSequence(op->getResult(0))) {
    SmallVector<Type> types;
    for (const SeqElement &e : *elems)
      types.push_back(seqElementType(e));
    return setSeq(op, types,
                  base ? cast<TensorType>(seqElem(base)).getElementType()
                       : Type(Float32Type::get(op->getContext())));
  }
  SmallVector<Type> types(added);
  if (base)
    types.push_back(seqElem(base));
  return setSeq(op, types, Float32Type::get(op->getContext()));
}

LogicalResult SequenceEmptyOp::verify() {
  if (getDtype() && !getElementTypeForOnnx(getContext(), *getDtype()))
    return emitOpError("dtype ") << *getDtype() << " is not a tensor type";
  return success();
}
LogicalResult SequenceEmptyOp::inferShapes() {
  Type elem = getDtype() ? getElementTypeForOnnx(getContext(), *getDtype())
                         : Float32Type::get(getContext());
  getResult().setType(SeqType::get(getContext(), UnrankedTensorType::get(elem)));
  return success();
}

LogicalResult SequenceConstructOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  return success();
}
LogicalResult SequenceConstructOp::inferShapes() {
  return inferSeq(*this, Value(), SmallVector<Type>(getInputs().getTypes()));
}

LogicalResult SequenceInsertOp::verify() {
  if (elemOf(getTensor()) !=
      cast<TensorType>(seqElem(getInputSequence())).getElementType())
    return emitOpError("inserts a tensor of another element type");
  return success();
}
LogicalResult SequenceInsertOp::inferShapes() {
  return inferSeq(*this, getInputSequence(), {getTensor().getType()});
}

LogicalResult SequenceEraseOp::verify() { return success(); }
LogicalResult SequenceEraseOp::inferShapes() {
  return inferSeq(*this, getInputSequence(), {});
}

LogicalResult SequenceAtOp::verify() {
  return verifyScalar(*this, getPosition(), "position");
}
LogicalResult SequenceAtOp::inferShapes() {
  auto elems = resolveSequence(getInputSequence());
  auto p = constantPosition(getPosition());
  if (elems && p) {
    int64_t n = elems->size();
    if (*p < -n || *p >= n)
      return emitOpError("position ")
             << *p << " is out of range for a sequence of " << n;
    getResult().setType(
        cast<TensorType>(seqElementType((*elems)[*p < 0 ? *p + n : *p])));
    return success();
  }
  getResult().setType(cast<TensorType>(seqElem(getInputSequence())));
  return success();
}
OpFoldResult SequenceAtOp::fold(FoldAdaptor) {
  auto elems = resolveSequence(getInputSequence());
  auto p = constantPosition(getPosition());
  if (!elems || !p)
    return {};
  int64_t n = elems->size();
  if (*p < -n || *p >= n)
    return {};
  const SeqElement &e = (*elems)[*p < 0 ? *p + n : *p];
  if (e.value && e.value.getType() == getType())
    return e.value;
  return {};
}

LogicalResult SequenceLengthOp::verify() { return success(); }
LogicalResult SequenceLengthOp::inferShapes() {
  setResult(*this, {}, i64Type(*this));
  return success();
}
OpFoldResult SequenceLengthOp::fold(FoldAdaptor) {
  auto elems = resolveSequence(getInputSequence());
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!elems || !type)
    return {};
  return DenseElementsAttr::get(type, (int64_t)elems->size());
}

LogicalResult SplitToSequenceOp::verify() {
  if (failed(verifyFlag(*this, "keepdims")))
    return failure();
  if (!isNone(getSplit())) {
    auto s = ranked(getSplit());
    if (!isa<IntegerType>(elemOf(getSplit())) || (s && s.getRank() > 1))
      return emitOpError("split must be an integer scalar or 1-D tensor");
  }
  if (auto t = ranked(getInput()); t && !normalizeAxis(getAxis(), t.getRank()))
    return emitOpError("axis ") << getAxis() << " is out of range";
  return success();
}
LogicalResult SplitToSequenceOp::inferShapes() {
  return inferSeq(*this, Value(), {getInput().getType()});
}

LogicalResult ConcatFromSequenceOp::verify() {
  if (failed(verifyFlag(*this, "new_axis")))
    return failure();
  return success();
}
LogicalResult ConcatFromSequenceOp::inferShapes() {
  auto elems = resolveSequence(getInputSequence());
  Type elem = cast<TensorType>(seqElem(getInputSequence())).getElementType();
  if (!elems || elems->empty())
    return setUnranked(*this, elem);
  SmallVector<RankedTensorType> types;
  for (const SeqElement &e : *elems) {
    auto t = dyn_cast<RankedTensorType>(seqElementType(e));
    if (!t)
      return setUnranked(*this, elem);
    types.push_back(t);
  }
  int64_t rank = types.front().getRank() + (getNewAxis() ? 1 : 0);
  auto axis = normalizeAxis(getAxis(), rank);
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range";
  Shape out;
  if (getNewAxis()) {
    out.assign(types.front().getShape().begin(),
               types.front().getShape().end());
    out.insert(out.begin() + *axis, (int64_t)types.size());
  } else {
    out.assign(types.front().getShape().begin(),
               types.front().getShape().end());
    int64_t sum = 0;
    for (RankedTensorType t : types) {
      if (t.getRank() != rank)
        return emitOpError("elements of different ranks");
      sum = (sum == kDyn || t.isDynamicDim(*axis)) ? kDyn
                                                   : sum + t.getDimSize(*axis);
    }
    out[*axis] = sum;
  }
  setResult(*this, out, elem);
  return success();
}

//===----------------------------------------------------------------------===//
// SequenceMap and the optionals
//===----------------------------------------------------------------------===//

SmallVector<Type> kiln::onnx::sequenceMapBodyTypes(SequenceMapOp op) {
  SmallVector<Type> types;
  for (Value v : op->getOperands())
    types.push_back(isa<SeqType>(v.getType()) ? seqElem(v) : v.getType());
  return types;
}

LogicalResult SequenceMapOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getNumOperands())
    return emitOpError("body has ")
           << body.getNumArguments() << " inputs; expected "
           << getNumOperands();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != getNumResults())
    return emitOpError("body must yield one tensor per output sequence");
  for (Value v : getAdditionalInputs())
    if (!isa<TensorType, SeqType>(v.getType()))
      return emitOpError("additional inputs must be tensors or sequences");
  for (Type t : yield.getOperandTypes())
    if (!isa<TensorType>(t))
      return emitOpError("body outputs must be tensors");
  return success();
}
LogicalResult SequenceMapOp::inferShapes() {
  auto yield = cast<YieldOp>(getBody().front().getTerminator());
  for (auto [r, t] : llvm::zip(getResults(), yield.getOperandTypes()))
    r.setType(SeqType::get(getContext(), cast<TensorType>(t)));
  return success();
}

/// The type an Optional holds: its input's, or its `type` attribute's.
static Type optionalContent(OptionalOp op) {
  if (!isNone(op.getInput()))
    return op.getInput().getType();
  return op.getType() ? *op.getType() : Type();
}

LogicalResult OptionalOp::verify() {
  Type t = optionalContent(*this);
  if (!t)
    return emitOpError("needs an input or a 'type' attribute");
  if (!isa<TensorType, SeqType>(t))
    return emitOpError("holds a tensor or a sequence, not ") << t;
  return success();
}
LogicalResult OptionalOp::inferShapes() {
  getResult().setType(OptType::get(getContext(), optionalContent(*this)));
  return success();
}

LogicalResult OptionalHasElementOp::verify() { return success(); }
LogicalResult OptionalHasElementOp::inferShapes() {
  setResult(*this, {}, IntegerType::get(getContext(), 1));
  return success();
}
OpFoldResult OptionalHasElementOp::fold(FoldAdaptor) {
  // Known where the optional is built here, or is no optional at all.
  std::optional<bool> has;
  if (isNone(getInput()))
    has = false;
  else if (!isa<OptType>(getInput().getType()))
    has = true;
  else if (auto opt = getInput().getDefiningOp<OptionalOp>())
    has = !isNone(opt.getInput());
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!has || !type)
    return {};
  return DenseElementsAttr::get(type, *has);
}

LogicalResult OptionalGetElementOp::verify() {
  if (isNone(getInput()))
    return emitOpError("has no input");
  return success();
}
LogicalResult OptionalGetElementOp::inferShapes() {
  Type t = getInput().getType();
  if (auto opt = dyn_cast<OptType>(t))
    t = opt.getElementType();
  getResult().setType(t);
  return success();
}
OpFoldResult OptionalGetElementOp::fold(FoldAdaptor) {
  if (!isa<OptType>(getInput().getType()))
    return getInput();
  if (auto opt = getInput().getDefiningOp<OptionalOp>();
      opt && !isNone(opt.getInput()) &&
      opt.getInput().getType() == getType())
    return opt.getInput();
  return {};
}
