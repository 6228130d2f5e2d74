//===- DerivedDims.cpp - dims computed from the input values --------------===//
//
// Part of kiln-dynamic-entry. Some results have sizes that come from the
// values of the inputs, not their dims: Expand to a shape that is an input,
// Tile by run-time repeats, ConstantOfShape, Range, OneHot's depth, Pad's
// pads, Resize's scales or sizes. Each such dim becomes a *derived dim*: one
// more index argument of main_graph (after the symbolic dims, `kiln.dim`
// numbered after them, with no bound), which the op's lowering takes as its
// result size (`kiln.dim_args` on the op: the argument of each result dim,
// -1 where none). From there on a derived dim is a symbolic dim like any
// other: the run-time arena plan, the output shapes and the checks are
// formulas of it.
//
// Its value is computed before main_graph runs, by
//
//   func @main_graph_dims(<main_graph's inputs>, <symbolic dims>)
//       -> (i1, index, ...)
//
// which evaluates the small shape-carrying values element by element
// (integers as i64, floats as f64): inputs read at run time, constants,
// Shape, Size, Cast, Identity/Reshape/Squeeze/Unsqueeze/Flatten, Concat,
// Gather, the arithmetic ops and Neg/Abs/Floor/Ceil, then the op's size rule
// (the one shape inference applies to constants). The i1 is false when the
// values are invalid for the op (a negative size, shapes that do not
// broadcast, a zero step, a size that disagrees with a fixed dim): the entry
// points then return KILN_ERROR_SHAPE_MISMATCH before anything runs.
//
// An op whose shape values cannot be evaluated this way (they are computed
// from an input of dynamic shape, or by an op not listed) is left as it is,
// and its lowering reports it.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace kop = kiln::onnx;

namespace {

/// The most elements a shape-carrying value may have to be evaluated.
constexpr int64_t kMaxElements = 64;

/// Row-major strides of a static shape.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t d = (int64_t)shape.size() - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// The position in `from` (broadcast to `to`, numpy rules) of element `i`
/// of `to`.
int64_t broadcastIndex(int64_t i, ArrayRef<int64_t> to,
                       ArrayRef<int64_t> from) {
  SmallVector<int64_t> toStrides = stridesOf(to), fromStrides = stridesOf(from);
  int64_t offset = (int64_t)to.size() - (int64_t)from.size(), at = 0;
  for (int64_t d = 0; d < (int64_t)to.size(); ++d) {
    int64_t coord = (i / toStrides[d]) % to[d];
    int64_t fd = d - offset;
    if (fd >= 0 && from[fd] != 1)
      at += coord * fromStrides[fd];
  }
  return at;
}

class Evaluator {
public:
  Evaluator(func::FuncOp graph, unsigned numInputs, func::FuncOp dimsFn,
            ArrayAttr names)
      : graph(graph), numInputs(numInputs), dimsFn(dimsFn), names(names),
        b(OpBuilder::atBlockEnd(&dimsFn.getBody().front())),
        loc(graph.getLoc()) {
    ok = arith::ConstantIntOp::create(b, loc, 1, 1);
  }

  /// The elements of `v` (static shape, few elements), or failure.
  FailureOr<SmallVector<Value>> elements(Value v, int depth = 0);
  /// elements() without the memo.
  FailureOr<SmallVector<Value>> evaluate(Value v, int depth);
  /// Dim `d` of `v` as an index, or failure.
  FailureOr<Value> dim(Value v, int64_t d);
  /// The derived dims of `op`'s result, computed from its size rule; the
  /// dims of the result that are static too (checked against the rule).
  FailureOr<SmallVector<Value>> resultDims(Operation *op);

  void require(Value cond) { ok = arith::AndIOp::create(b, loc, ok, cond); }
  Value okFlag() const { return ok; }
  /// Undoes the conditions required since `okFlag()` returned `saved` (an
  /// op left to its lowering).
  void restore(Value saved) { ok = saved; }
  /// Whether an evaluation read an input's values (not only dims) since
  /// this was last reset.
  bool readValues = false;
  OpBuilder &builder() { return b; }
  /// Dims of op results already derived: main_graph_dims's index values.
  DenseMap<std::pair<Value, int64_t>, Value> derived;

private:
  Value i64(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 64); }
  Value index(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  Value toI64(Value v) {
    if (isa<FloatType>(v.getType()))
      return arith::FPToSIOp::create(b, loc, b.getI64Type(), v);
    return v;
  }
  Value toF64(Value v) {
    if (isa<FloatType>(v.getType()))
      return v;
    return arith::SIToFPOp::create(b, loc, b.getF64Type(), v);
  }
  /// `v` (i64 or f64) rounded to what an element of `elem` can hold, back in
  /// i64 or f64; null for element types not evaluated here.
  Value normalize(Value v, Type elem);
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  FailureOr<SmallVector<Value>> binary(Operation *op, Value x, Value y,
                                       int depth);

  func::FuncOp graph;
  unsigned numInputs;
  func::FuncOp dimsFn;
  ArrayAttr names;
  OpBuilder b;
  Location loc;
  Value ok;
  DenseMap<Value, SmallVector<Value>> memo;
  DenseSet<Value> fromValues; // memo entries that read input values
};

Value Evaluator::normalize(Value v, Type elem) {
  if (elem.isF64() || elem.isInteger(64))
    return v;
  if (elem.isF32() || elem.isF16() || elem.isBF16()) {
    Value narrow = arith::TruncFOp::create(b, loc, elem, toF64(v));
    return arith::ExtFOp::create(b, loc, b.getF64Type(), narrow);
  }
  if (elem.isInteger(1))
    return arith::ExtUIOp::create(
        b, loc, b.getI64Type(),
        isa<FloatType>(v.getType())
            ? (Value)arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::UNE, v,
                  arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                                 APFloat(0.0)))
            : cmp(arith::CmpIPredicate::ne, v, i64(0)));
  if (auto it = dyn_cast<IntegerType>(elem)) {
    Value narrow = arith::TruncIOp::create(b, loc, it, toI64(v));
    return arith::ExtSIOp::create(b, loc, b.getI64Type(), narrow);
  }
  return Value();
}

FailureOr<Value> Evaluator::dim(Value v, int64_t d) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type)
    return failure();
  if (!type.isDynamicDim(d))
    return (Value)arith::ConstantIndexOp::create(b, loc, type.getDimSize(d));
  if (auto it = derived.find({v, d}); it != derived.end())
    return it->second;
  auto origin = kop::traceDim(v, d);
  if (!origin)
    return failure();
  if (auto it = derived.find(*origin); it != derived.end())
    return it->second;
  // A symbolic dim of an input: main_graph_dims's argument for it.
  auto arg = dyn_cast<BlockArgument>(origin->first);
  if (!arg || arg.getOwner() != &graph.front() ||
      arg.getArgNumber() >= numInputs)
    return failure();
  auto params = graph.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(),
                                                  "onnx.dim_params");
  if (!params || origin->second >= (int64_t)params.size())
    return failure();
  for (auto [k, name] : llvm::enumerate(names))
    if (name == params[origin->second])
      return (Value)dimsFn.getArgument(numInputs + k);
  return failure();
}

FailureOr<SmallVector<Value>> Evaluator::binary(Operation *op, Value x,
                                                Value y, int depth) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  auto xs = elements(x, depth + 1), ys = elements(y, depth + 1);
  if (failed(xs) || failed(ys))
    return failure();
  auto xShape = cast<RankedTensorType>(x.getType()).getShape();
  auto yShape = cast<RankedTensorType>(y.getType()).getShape();
  Type elem = cast<RankedTensorType>(x.getType()).getElementType();
  bool fl = isa<FloatType>(elem);
  SmallVector<Value> out;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    Value a = (*xs)[broadcastIndex(i, type.getShape(), xShape)];
    Value c = (*ys)[broadcastIndex(i, type.getShape(), yShape)];
    Value r;
    if (isa<kop::AddOp>(op))
      r = fl ? (Value)arith::AddFOp::create(b, loc, a, c)
             : (Value)arith::AddIOp::create(b, loc, a, c);
    else if (isa<kop::SubOp>(op))
      r = fl ? (Value)arith::SubFOp::create(b, loc, a, c)
             : (Value)arith::SubIOp::create(b, loc, a, c);
    else if (isa<kop::MulOp>(op))
      r = fl ? (Value)arith::MulFOp::create(b, loc, a, c)
             : (Value)arith::MulIOp::create(b, loc, a, c);
    else if (isa<kop::DivOp>(op)) {
      if (fl) {
        r = arith::DivFOp::create(b, loc, a, c);
      } else {
        // Integer division by zero is an invalid shape, not a trap.
        Value zero = cmp(arith::CmpIPredicate::eq, c, i64(0));
        require(arith::XOrIOp::create(b, loc, zero,
                                      arith::ConstantIntOp::create(b, loc, 1, 1)));
        r = arith::DivSIOp::create(b, loc, a, select(zero, i64(1), c));
      }
    } else if (isa<kop::MaxOp>(op))
      r = fl ? (Value)arith::MaximumFOp::create(b, loc, a, c)
             : (Value)arith::MaxSIOp::create(b, loc, a, c);
    else if (isa<kop::MinOp>(op))
      r = fl ? (Value)arith::MinimumFOp::create(b, loc, a, c)
             : (Value)arith::MinSIOp::create(b, loc, a, c);
    else
      return failure();
    Value n = normalize(r, type.getElementType());
    if (!n)
      return failure();
    out.push_back(n);
  }
  return out;
}

FailureOr<SmallVector<Value>> Evaluator::elements(Value v, int depth) {
  if (auto it = memo.find(v); it != memo.end()) {
    readValues |= fromValues.contains(v);
    return it->second;
  }
  bool before = readValues;
  readValues = false;
  auto result = evaluate(v, depth);
  if (readValues)
    fromValues.insert(v);
  readValues |= before;
  return result;
}

FailureOr<SmallVector<Value>> Evaluator::evaluate(Value v, int depth) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (depth > 32 || !type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxElements)
    return failure();
  Type elem = type.getElementType();
  bool fl = isa<FloatType>(elem);
  int64_t n = type.getNumElements();
  SmallVector<Value> out;
  auto done = [&]() -> FailureOr<SmallVector<Value>> {
    if ((int64_t)out.size() != n || llvm::any_of(out, [](Value x) { return !x; }))
      return failure();
    memo[v] = out;
    return out;
  };

  // An input, read at run time.
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getOwner() != &graph.front() || arg.getArgNumber() >= numInputs)
      return failure();
    Value t = dimsFn.getArgument(arg.getArgNumber());
    readValues = true;
    SmallVector<int64_t> strides = stridesOf(type.getShape());
    for (int64_t i = 0; i < n; ++i) {
      SmallVector<Value> at;
      for (auto [d, s] : llvm::enumerate(strides))
        at.push_back(arith::ConstantIndexOp::create(
            b, loc, (i / s) % type.getDimSize(d)));
      Value x = tensor::ExtractOp::create(b, loc, t, at);
      if (fl)
        x = x.getType().isF64() ? x
                                : (Value)arith::ExtFOp::create(
                                      b, loc, b.getF64Type(), x);
      else if (elem.isInteger(1))
        x = arith::ExtUIOp::create(b, loc, b.getI64Type(), x);
      else if (auto it = dyn_cast<IntegerType>(elem); it && !it.isUnsigned())
        x = it.getWidth() == 64
                ? x
                : (Value)arith::ExtSIOp::create(b, loc, b.getI64Type(), x);
      else
        return failure();
      out.push_back(x);
    }
    return done();
  }
  Operation *op = v.getDefiningOp();
  if (!op)
    return failure();
  if (auto cst = dyn_cast<kop::ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
    if (!dense)
      return failure();
    if (fl) {
      for (APFloat x : dense.getValues<APFloat>())
        out.push_back(arith::ConstantFloatOp::create(
            b, loc, b.getF64Type(), APFloat(x.convertToDouble())));
    } else {
      for (const APInt &x : dense.getValues<APInt>())
        out.push_back(i64(elem.isInteger(1) ? x.getZExtValue()
                                            : x.getSExtValue()));
    }
    return done();
  }
  auto operand = [&](Value x) { return elements(x, depth + 1); };
  auto same = [&](Value x) -> FailureOr<SmallVector<Value>> {
    auto xs = operand(x);
    if (failed(xs))
      return failure();
    out = *xs;
    return done();
  };
  if (auto shape = dyn_cast<kop::ShapeOfOp>(op)) {
    auto t = dyn_cast<RankedTensorType>(shape.getData().getType());
    if (!t)
      return failure();
    auto [s, e] = kop::shapeOpRange(shape.getStart(), shape.getEnd(),
                                    t.getRank());
    for (int64_t d = s; d < e; ++d) {
      auto size = dim(shape.getData(), d);
      if (failed(size))
        return failure();
      out.push_back(arith::IndexCastOp::create(b, loc, b.getI64Type(), *size));
    }
    return done();
  }
  if (auto size = dyn_cast<kop::SizeOp>(op)) {
    auto t = dyn_cast<RankedTensorType>(size.getData().getType());
    if (!t)
      return failure();
    Value count = i64(1);
    for (int64_t d = 0; d < t.getRank(); ++d) {
      auto s = dim(size.getData(), d);
      if (failed(s))
        return failure();
      count = arith::MulIOp::create(
          b, loc, count,
          arith::IndexCastOp::create(b, loc, b.getI64Type(), *s));
    }
    out.push_back(count);
    return done();
  }
  if (auto cast = dyn_cast<kop::CastOp>(op)) {
    auto xs = operand(cast.getInput());
    if (failed(xs))
      return failure();
    for (Value x : *xs) {
      Value c = fl ? toF64(x) : toI64(x);
      if (!fl && isa<FloatType>(x.getType()) && elem.isInteger(1))
        c = x; // float to bool: nonzero
      out.push_back(normalize(c, elem));
    }
    return done();
  }
  if (isa<kop::IdentityOp>(op))
    return same(op->getOperand(0));
  if (auto r = dyn_cast<kop::ReshapeOp>(op))
    return same(r.getData());
  if (auto f = dyn_cast<kop::FlattenOp>(op))
    return same(f.getInput());
  if (auto s = dyn_cast<kop::SqueezeOp>(op))
    return same(s.getData());
  if (auto u = dyn_cast<kop::UnsqueezeOp>(op))
    return same(u.getData());
  if (isa<kop::AddOp, kop::SubOp, kop::MulOp, kop::DivOp>(op)) {
    auto r = binary(op, op->getOperand(0), op->getOperand(1), depth);
    if (failed(r))
      return failure();
    out = *r;
    return done();
  }
  if (isa<kop::MaxOp, kop::MinOp>(op) && op->getNumOperands() == 2) {
    auto r = binary(op, op->getOperand(0), op->getOperand(1), depth);
    if (failed(r))
      return failure();
    out = *r;
    return done();
  }
  if (isa<kop::NegOp, kop::AbsOp, kop::FloorOp, kop::CeilOp, kop::ReluOp>(
          op)) {
    auto xs = operand(op->getOperand(0));
    if (failed(xs))
      return failure();
    for (Value x : *xs) {
      Value r;
      if (isa<kop::NegOp>(op))
        r = fl ? (Value)arith::NegFOp::create(b, loc, x)
               : (Value)arith::SubIOp::create(b, loc, i64(0), x);
      else if (isa<kop::AbsOp>(op))
        r = fl ? (Value)math::AbsFOp::create(b, loc, x)
               : (Value)math::AbsIOp::create(b, loc, x);
      else if (isa<kop::ReluOp>(op))
        r = fl ? (Value)arith::MaximumFOp::create(
                     b, loc, x,
                     arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                                    APFloat(0.0)))
               : (Value)arith::MaxSIOp::create(b, loc, x, i64(0));
      else if (!fl)
        r = x;
      else if (isa<kop::FloorOp>(op))
        r = math::FloorOp::create(b, loc, x);
      else
        r = math::CeilOp::create(b, loc, x);
      out.push_back(normalize(r, elem));
    }
    return done();
  }
  if (auto concat = dyn_cast<kop::ConcatOp>(op)) {
    auto axis = kop::normalizeAxis(concat.getAxis(), type.getRank());
    if (!axis)
      return failure();
    // Element i of the result: its coordinate along the axis picks the
    // input; the other coordinates stay.
    SmallVector<int64_t> strides = stridesOf(type.getShape());
    SmallVector<SmallVector<Value>> parts;
    SmallVector<int64_t> starts;
    int64_t start = 0;
    for (Value in : concat.getInputs()) {
      auto xs = operand(in);
      if (failed(xs))
        return failure();
      parts.push_back(*xs);
      starts.push_back(start);
      start += cast<RankedTensorType>(in.getType()).getDimSize(*axis);
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t c = (i / strides[*axis]) % type.getDimSize(*axis);
      size_t p = llvm::upper_bound(starts, c) - starts.begin() - 1;
      auto inType = cast<RankedTensorType>(concat.getInputs()[p].getType());
      SmallVector<int64_t> inStrides = stridesOf(inType.getShape());
      int64_t at = 0;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        int64_t coord = (i / strides[d]) % type.getDimSize(d);
        at += (d == *axis ? coord - starts[p] : coord) * inStrides[d];
      }
      out.push_back(parts[p][at]);
    }
    return done();
  }
  if (auto gather = dyn_cast<kop::GatherOp>(op)) {
    auto dataType = cast<RankedTensorType>(gather.getData().getType());
    auto idxType = dyn_cast<RankedTensorType>(gather.getIndices().getType());
    auto axis = kop::normalizeAxis(gather.getAxis(), dataType.getRank());
    auto data = operand(gather.getData());
    auto idx = operand(gather.getIndices());
    if (!axis || !idxType || failed(data) || failed(idx) ||
        !dataType.hasStaticShape())
      return failure();
    // out[pre, j..., post] = data[pre, idx[j...], post]
    int64_t size = dataType.getDimSize(*axis);
    int64_t post = 1;
    for (int64_t d = *axis + 1; d < dataType.getRank(); ++d)
      post *= dataType.getDimSize(d);
    int64_t numIdx = idxType.getNumElements();
    for (int64_t i = 0; i < n; ++i) {
      int64_t p = i % post, rest = i / post;
      int64_t j = rest % numIdx, pre = rest / numIdx;
      Value k = (*idx)[j];
      k = select(cmp(arith::CmpIPredicate::slt, k, i64(0)),
                 arith::AddIOp::create(b, loc, k, i64(size)), k);
      require(cmp(arith::CmpIPredicate::sge, k, i64(0)));
      require(cmp(arith::CmpIPredicate::slt, k, i64(size)));
      // A select chain over the axis (a few entries).
      Value r = (*data)[(pre * size) * post + p];
      for (int64_t c = 1; c < size; ++c)
        r = select(cmp(arith::CmpIPredicate::eq, k, i64(c)),
                   (*data)[(pre * size + c) * post + p], r);
      out.push_back(r);
    }
    return done();
  }
  return failure();
}

/// The result whose dims an op's size rule gives: the first scan output of
/// a Loop (its rows; the other scan outputs share them), else result 0.
unsigned derivedResult(Operation *op) {
  if (auto loop = dyn_cast<kop::LoopOp>(op))
    return loop.getVInitial().size();
  return 0;
}

FailureOr<SmallVector<Value>> Evaluator::resultDims(Operation *op) {
  if (op->getNumResults() <= derivedResult(op))
    return failure();
  auto type =
      dyn_cast<RankedTensorType>(op->getResult(derivedResult(op)).getType());
  if (!type)
    return failure();
  int64_t rank = type.getRank();
  SmallVector<Value> dims(rank);
  Value zero = i64(0), one = i64(1);
  auto nonNegative = [&](Value x) {
    require(cmp(arith::CmpIPredicate::sge, x, zero));
  };
  auto fromIndex = [&](Value x) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), x).getResult();
  };
  auto dimOf = [&](Value x, int64_t d) -> FailureOr<Value> {
    auto s = dim(x, d);
    if (failed(s))
      return failure();
    return fromIndex(*s);
  };
  // Each rule sets dims[d] (i64) for every dim of the result.
  LogicalResult rule =
      TypeSwitch<Operation *, LogicalResult>(op)
          .Case([&](kop::ConstantOfShapeOp c) -> LogicalResult {
            auto s = elements(c.getInput());
            if (failed(s) || (int64_t)s->size() != rank)
              return failure();
            for (int64_t d = 0; d < rank; ++d) {
              dims[d] = (*s)[d];
              nonNegative(dims[d]);
            }
            return success();
          })
          .Case([&](kop::ExpandOp e) -> LogicalResult {
            auto s = elements(e.getShape());
            auto xt = cast<RankedTensorType>(e.getInput().getType());
            if (failed(s))
              return failure();
            int64_t k = s->size(), xr = xt.getRank();
            if (std::max(k, xr) != rank)
              return failure();
            for (int64_t d = 0; d < rank; ++d) {
              Value want = d - (rank - k) >= 0 ? (*s)[d - (rank - k)] : one;
              Value have = one;
              if (d - (rank - xr) >= 0) {
                auto x = dimOf(e.getInput(), d - (rank - xr));
                if (failed(x))
                  return failure();
                have = *x;
              }
              nonNegative(want);
              Value haveOne = cmp(arith::CmpIPredicate::eq, have, one);
              require(arith::OrIOp::create(
                  b, loc, haveOne,
                  arith::OrIOp::create(
                      b, loc, cmp(arith::CmpIPredicate::eq, want, one),
                      cmp(arith::CmpIPredicate::eq, want, have))));
              dims[d] = select(haveOne, want, have);
            }
            return success();
          })
          .Case([&](kop::TileOp t) -> LogicalResult {
            auto r = elements(t.getRepeats());
            if (failed(r) || (int64_t)r->size() != rank)
              return failure();
            for (int64_t d = 0; d < rank; ++d) {
              auto x = dimOf(t.getInput(), d);
              if (failed(x))
                return failure();
              nonNegative((*r)[d]);
              dims[d] = arith::MulIOp::create(b, loc, *x, (*r)[d]);
            }
            return success();
          })
          .Case([&](kop::RangeOp r) -> LogicalResult {
            auto start = elements(r.getStart()), limit = elements(r.getLimit()),
                 delta = elements(r.getDelta());
            if (failed(start) || failed(limit) || failed(delta) ||
                start->size() != 1 || limit->size() != 1 ||
                delta->size() != 1 || rank != 1)
              return failure();
            Value s = (*start)[0], l = (*limit)[0], st = (*delta)[0], count;
            if (isa<FloatType>(s.getType())) {
              Value zf = arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                                        APFloat(0.0));
              require(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                            st, zf));
              Value q = arith::DivFOp::create(
                  b, loc, arith::SubFOp::create(b, loc, l, s), st);
              count = toI64(math::CeilOp::create(b, loc, q));
            } else {
              Value stepZero = cmp(arith::CmpIPredicate::eq, st, zero);
              require(arith::XOrIOp::create(
                  b, loc, stepZero, arith::ConstantIntOp::create(b, loc, 1, 1)));
              count = arith::CeilDivSIOp::create(
                  b, loc, arith::SubIOp::create(b, loc, l, s),
                  select(stepZero, one, st));
            }
            dims[0] = arith::MaxSIOp::create(b, loc, count, zero);
            return success();
          })
          .Case<kop::HannWindowOp, kop::HammingWindowOp,
                kop::BlackmanWindowOp>([&](Operation *w) -> LogicalResult {
            auto size = elements(w->getOperand(0));
            if (failed(size) || size->size() != 1 || rank != 1)
              return failure();
            dims[0] = toI64((*size)[0]);
            nonNegative(dims[0]);
            return success();
          })
          .Case([&](kop::STFTOp s) -> LogicalResult {
            auto step = elements(s.getFrameStep());
            auto n = dimOf(s.getSignal(), 1), batch = dimOf(s.getSignal(), 0);
            if (failed(step) || step->size() != 1 || failed(n) ||
                failed(batch) || rank != 4)
              return failure();
            Value length;
            if (!kop::isNone(s.getWindow())) {
              auto w = dimOf(s.getWindow(), 0);
              if (failed(w))
                return failure();
              length = *w;
            } else {
              auto l = elements(s.getFrameLength());
              if (failed(l) || l->size() != 1)
                return failure();
              length = toI64((*l)[0]);
            }
            Value st = toI64((*step)[0]);
            require(cmp(arith::CmpIPredicate::sgt, st, zero));
            require(cmp(arith::CmpIPredicate::sgt, length, zero));
            require(cmp(arith::CmpIPredicate::sle, length, *n));
            dims[0] = *batch;
            dims[1] = arith::AddIOp::create(
                b, loc,
                arith::DivSIOp::create(
                    b, loc, arith::SubIOp::create(b, loc, *n, length),
                    select(cmp(arith::CmpIPredicate::sgt, st, zero), st, one)),
                one);
            dims[2] = s.getOnesided()
                          ? arith::AddIOp::create(
                                b, loc,
                                arith::DivSIOp::create(b, loc, length, i64(2)),
                                one)
                          : length;
            dims[3] = i64(2);
            return success();
          })
          .Case([&](kop::MelWeightMatrixOp m) -> LogicalResult {
            auto bins = elements(m.getNumMelBins());
            auto dft = elements(m.getDftLength());
            if (failed(bins) || failed(dft) || bins->size() != 1 ||
                dft->size() != 1 || rank != 2)
              return failure();
            Value nb = toI64((*bins)[0]), nd = toI64((*dft)[0]);
            require(cmp(arith::CmpIPredicate::sgt, nb, zero));
            require(cmp(arith::CmpIPredicate::sgt, nd, zero));
            dims[0] = arith::AddIOp::create(
                b, loc, arith::DivSIOp::create(b, loc, nd, i64(2)), one);
            dims[1] = nb;
            return success();
          })
          .Case([&](kop::LoopOp l) -> LogicalResult {
            // Rows: M, or 0 when cond is false (the body passes the
            // condition through, so nothing stops the loop early).
            if (kop::isNone(l.getM()) || !l.conditionPassesThrough())
              return failure();
            auto m = elements(l.getM());
            if (failed(m) || m->size() != 1)
              return failure();
            Value rows = arith::MaxSIOp::create(b, loc, toI64((*m)[0]), zero);
            if (!kop::isNone(l.getCond())) {
              auto c = elements(l.getCond());
              if (failed(c) || c->size() != 1)
                return failure();
              rows = select(cmp(arith::CmpIPredicate::ne, toI64((*c)[0]), zero),
                            rows, zero);
            }
            dims[0] = rows;
            for (int64_t d = 1; d < rank; ++d) {
              if (type.isDynamicDim(d))
                return failure();
              dims[d] = i64(type.getDimSize(d));
            }
            return success();
          })
          .Case([&](kop::MaxUnpoolOp u) -> LogicalResult {
            auto shape = elements(u.getOutputShape());
            if (failed(shape) || (int64_t)shape->size() != rank)
              return failure();
            for (int64_t d = 0; d < rank; ++d) {
              dims[d] = toI64((*shape)[d]);
              nonNegative(dims[d]);
            }
            return success();
          })
          .Case([&](kop::OneHotOp o) -> LogicalResult {
            auto depth = elements(o.getDepth());
            auto axis = kop::normalizeAxis(o.getAxis(), rank);
            if (failed(depth) || depth->size() != 1 || !axis)
              return failure();
            for (int64_t d = 0, j = 0; d < rank; ++d) {
              if (d == *axis) {
                dims[d] = toI64((*depth)[0]);
                nonNegative(dims[d]);
                continue;
              }
              auto x = dimOf(o.getIndices(), j++);
              if (failed(x))
                return failure();
              dims[d] = *x;
            }
            return success();
          })
          .Case([&](kop::PadOp p) -> LogicalResult {
            if (isa<NoneType>(p.getPadsInput().getType()) ||
                !isa<NoneType>(p.getAxes().getType()))
              return failure();
            auto pads = elements(p.getPadsInput());
            if (failed(pads) || (int64_t)pads->size() != 2 * rank)
              return failure();
            for (int64_t d = 0; d < rank; ++d) {
              auto x = dimOf(p.getData(), d);
              if (failed(x))
                return failure();
              dims[d] = arith::AddIOp::create(
                  b, loc, *x,
                  arith::AddIOp::create(b, loc, (*pads)[d],
                                        (*pads)[d + rank]));
              nonNegative(dims[d]);
            }
            return success();
          })
          .Case([&](kop::ReshapeOp r) -> LogicalResult {
            auto s = elements(r.getShape());
            auto dt = dyn_cast<RankedTensorType>(r.getData().getType());
            if (failed(s) || (int64_t)s->size() != rank || !dt)
              return failure();
            Value count = one;
            SmallVector<Value> in;
            for (int64_t d = 0; d < dt.getRank(); ++d) {
              auto x = dimOf(r.getData(), d);
              if (failed(x))
                return failure();
              in.push_back(*x);
              count = arith::MulIOp::create(b, loc, count, *x);
            }
            // 0 copies the input's dim (unless allowzero); one -1 takes
            // what the others leave of the element count.
            Value known = one, inferred = zero;
            SmallVector<Value> e(*s);
            for (int64_t d = 0; d < rank; ++d) {
              if (!r.getAllowzero() && d < dt.getRank())
                e[d] = select(cmp(arith::CmpIPredicate::eq, e[d], zero),
                              in[d], e[d]);
              require(cmp(arith::CmpIPredicate::sge, e[d], i64(-1)));
              Value minus = cmp(arith::CmpIPredicate::eq, e[d], i64(-1));
              inferred = arith::AddIOp::create(
                  b, loc, inferred,
                  arith::ExtUIOp::create(b, loc, b.getI64Type(), minus));
              known = arith::MulIOp::create(b, loc, known,
                                            select(minus, one, e[d]));
            }
            require(cmp(arith::CmpIPredicate::sle, inferred, one));
            Value knownZero = cmp(arith::CmpIPredicate::eq, known, zero);
            Value rest = arith::DivSIOp::create(b, loc, count,
                                                select(knownZero, one, known));
            Value product = one;
            for (int64_t d = 0; d < rank; ++d) {
              dims[d] = select(cmp(arith::CmpIPredicate::eq, e[d], i64(-1)),
                               rest, e[d]);
              product = arith::MulIOp::create(b, loc, product, dims[d]);
            }
            require(cmp(arith::CmpIPredicate::eq, product, count));
            return success();
          })
          .Case([&](kop::TopKOp t) -> LogicalResult {
            auto k = elements(t.getK());
            auto axis = kop::normalizeAxis(t.getAxis(), rank);
            if (failed(k) || k->size() != 1 || !axis)
              return failure();
            for (int64_t d = 0; d < rank; ++d) {
              auto x = dimOf(t.getX(), d);
              if (failed(x))
                return failure();
              dims[d] = *x;
            }
            // 0 <= k <= the axis' length
            nonNegative((*k)[0]);
            require(cmp(arith::CmpIPredicate::sle, (*k)[0], dims[*axis]));
            dims[*axis] = (*k)[0];
            return success();
          })
          .Case<kop::ResizeOp, kop::UpsampleOp>(
              [&](Operation *r) -> LogicalResult {
                Value x = r->getOperand(0);
                auto xt = cast<RankedTensorType>(x.getType());
                kop::ResizeParams p;
                if (kop::resolveResize(r, xt.getShape(), p,
                                       /*allowRuntime=*/true) ||
                    xt.getRank() != rank)
                  return failure();
                Value given = p.runtimeSizes ? p.runtimeSizes : p.runtimeScales;
                if (!given)
                  return failure();
                auto values = elements(given);
                if (failed(values) || (int64_t)values->size() != rank)
                  return failure();
                for (int64_t d = 0; d < rank; ++d) {
                  auto in = dimOf(x, d);
                  if (failed(in))
                    return failure();
                  Value v = (*values)[d];
                  if (p.runtimeSizes) {
                    dims[d] = toI64(v);
                  } else {
                    // floor(in * scale), the scale positive
                    Value zf = arith::ConstantFloatOp::create(
                        b, loc, b.getF64Type(), APFloat(0.0));
                    Value sf = toF64(v);
                    require(arith::CmpFOp::create(
                        b, loc, arith::CmpFPredicate::OGT, sf, zf));
                    dims[d] = toI64(math::FloorOp::create(
                        b, loc, arith::MulFOp::create(b, loc, toF64(*in), sf)));
                  }
                  // Never empty: an interpolation reads its neighbours.
                  require(cmp(arith::CmpIPredicate::sge, dims[d], one));
                }
                return success();
              })
          .Default([](Operation *) { return failure(); });
  if (failed(rule))
    return failure();
  // A dim shape inference fixed must agree with the rule.
  for (int64_t d = 0; d < rank; ++d)
    if (!type.isDynamicDim(d))
      require(cmp(arith::CmpIPredicate::eq, dims[d], i64(type.getDimSize(d))));
  return dims;
}

/// Whether `op` is one whose result size comes from operand values, and
/// those values are not constants (which shape inference has folded).
bool takesSizesFromValues(Operation *op) {
  if (op->getNumResults() <= derivedResult(op))
    return false;
  auto type =
      dyn_cast<RankedTensorType>(op->getResult(derivedResult(op)).getType());
  if (!type || type.hasStaticShape())
    return false;
  auto notConstant = [](Value v) {
    return !isa<NoneType>(v.getType()) && !kop::getConstantInts(v) &&
           !v.getDefiningOp<kop::ConstantOp>();
  };
  return TypeSwitch<Operation *, bool>(op)
      .Case([&](kop::ConstantOfShapeOp c) { return notConstant(c.getInput()); })
      .Case([&](kop::ExpandOp e) { return notConstant(e.getShape()); })
      .Case([&](kop::TileOp t) { return notConstant(t.getRepeats()); })
      .Case([&](kop::RangeOp r) {
        return !r->hasAttr("kiln.max_size") &&
               !r->hasAttr("kiln.size_from_dim");
      })
      .Case([&](kop::OneHotOp o) { return notConstant(o.getDepth()); })
      .Case([&](kop::LoopOp) { return true; })
      .Case([&](kop::MaxUnpoolOp u) {
        return !kop::isNone(u.getOutputShape()) &&
               notConstant(u.getOutputShape());
      })
      .Case<kop::HannWindowOp, kop::HammingWindowOp, kop::BlackmanWindowOp>(
          [&](Operation *w) { return notConstant(w->getOperand(0)); })
      .Case([&](kop::STFTOp s) {
        return notConstant(s.getFrameStep()) ||
               (kop::isNone(s.getWindow()) && notConstant(s.getFrameLength()));
      })
      .Case([&](kop::MelWeightMatrixOp m) {
        return notConstant(m.getNumMelBins()) ||
               notConstant(m.getDftLength());
      })
      .Case([&](kop::TopKOp t) { return notConstant(t.getK()); })
      // Only where the shape reads input values (see deriveDims): shapes
      // made of dims are resolved by the lowering, within --max-dim bounds.
      .Case([&](kop::ReshapeOp r) { return notConstant(r.getShape()); })
      .Case([&](kop::PadOp p) { return notConstant(p.getPadsInput()); })
      .Case<kop::ResizeOp, kop::UpsampleOp>([&](Operation *r) {
        auto xt = cast<RankedTensorType>(r->getOperand(0).getType());
        kop::ResizeParams p;
        return !kop::resolveResize(r, xt.getShape(), p, true) &&
               (p.runtimeScales || p.runtimeSizes);
      })
      .Default([](Operation *) { return false; });
}

} // namespace

namespace kiln {

FailureOr<func::FuncOp> deriveDims(func::FuncOp func, unsigned numInputs,
                                   SmallVectorImpl<Value> &dims) {
  MLIRContext *ctx = func.getContext();
  auto names = func->getAttrOfType<ArrayAttr>("kiln.dims");
  auto maxima = func->getAttrOfType<DenseI64ArrayAttr>("kiln.dim_max");
  SmallVector<Operation *> candidates;
  func.walk([&](Operation *op) {
    if (op->getNumResults() >= 1 && takesSizesFromValues(op))
      candidates.push_back(op);
  });
  if (candidates.empty())
    return func::FuncOp();

  // main_graph_dims(inputs..., dims...) -> (i1, derived...), built next to
  // main_graph; its results are set once the derived dims are known.
  SmallVector<Type> argTypes(func.getArgumentTypes().take_front(numInputs));
  for (size_t k = 0; k < dims.size(); ++k)
    argTypes.push_back(IndexType::get(ctx));
  OpBuilder mb(func);
  mb.setInsertionPointAfter(func);
  auto dimsFn = func::FuncOp::create(mb, func.getLoc(), "main_graph_dims",
                                     FunctionType::get(ctx, argTypes, {}));
  dimsFn.addEntryBlock();
  dimsFn->setAttr("kiln.shape_function", UnitAttr::get(ctx));
  Evaluator eval(func, numInputs, dimsFn, names);

  SmallVector<Value> results;
  SmallVector<Attribute> newNames(names.begin(), names.end());
  SmallVector<int64_t> newMax(maxima.asArrayRef());
  for (Operation *op : candidates) {
    auto type =
        cast<RankedTensorType>(op->getResult(derivedResult(op)).getType());
    Value saved = eval.okFlag();
    eval.readValues = false;
    auto sizes = eval.resultDims(op);
    if (failed(sizes) || (isa<kop::ReshapeOp>(op) && !eval.readValues)) {
      eval.restore(saved);
      continue; // its lowering explains, or resolves it from the dims
    }
    SmallVector<int64_t> argOf(type.getRank(), -1);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      OpBuilder &b = eval.builder();
      Value size = arith::IndexCastOp::create(b, func.getLoc(),
                                              b.getIndexType(), (*sizes)[d]);
      int64_t k = newNames.size();
      unsigned at = func.getNumArguments();
      if (failed(func.insertArgument(at, IndexType::get(ctx),
                                     DictionaryAttr::get(ctx), func.getLoc())))
        return failure();
      func.setArgAttr(at, "kiln.dim",
                      IntegerAttr::get(IntegerType::get(ctx, 64), k));
      dims.push_back(func.getArgument(at));
      argOf[d] = at;
      newNames.push_back(StringAttr::get(
          ctx, "derived" + std::to_string(k - names.size())));
      newMax.push_back(0); // no bound: the arena is planned at run time
      // TopK's two results: one shape; a Loop's scan outputs: their rows.
      for (Value r : op->getResults().drop_front(derivedResult(op)))
        eval.derived[{r, d}] = size;
      results.push_back(size);
    }
    op->setAttr("kiln.dim_args", DenseI64ArrayAttr::get(ctx, argOf));
  }
  OpBuilder &b = eval.builder();
  SmallVector<Value> returned{eval.okFlag()};
  returned.append(results);
  func::ReturnOp::create(b, func.getLoc(), returned);
  dimsFn.setType(FunctionType::get(ctx, argTypes, ValueRange(returned).getTypes()));
  if (results.empty()) {
    dimsFn.erase();
    return func::FuncOp();
  }
  func->setAttr("kiln.dims", ArrayAttr::get(ctx, newNames));
  func->setAttr("kiln.dim_max", DenseI64ArrayAttr::get(ctx, newMax));
  func->setAttr("kiln.derived_dims",
                IntegerAttr::get(IntegerType::get(ctx, 64),
                                 (int64_t)results.size()));
  return dimsFn;
}

std::optional<SmallVector<Value>> derivedSizes(Operation *op,
                                               RankedTensorType type) {
  auto args = op->getAttrOfType<DenseI64ArrayAttr>("kiln.dim_args");
  auto func = op->getParentOfType<func::FuncOp>();
  if (!args || !func || args.size() != type.getRank())
    return std::nullopt;
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d))
      continue;
    if (args[d] < 0 || args[d] >= (int64_t)func.getNumArguments())
      return std::nullopt;
    sizes.push_back(func.getArgument(args[d]));
  }
  return sizes;
}

} // namespace kiln
