//===- BatchSplit.cpp - can a graph run one sample at a time? -------------===//
//
// A model exported with a symbolic batch dimension usually computes every
// sample on its own: convolutions, pools, normalizations with running
// statistics and elementwise ops never look across samples. Such a graph,
// compiled for one sample, gives the whole batch when called once per
// sample: the static code, its kernels and its arena serve every batch size.
//
// The check follows, for every value, the dimension that holds the samples
// (its "batch axis"), and for small integer tensors computed from shapes,
// which of their entries equal the batch size. An op may move the batch axis
// (Transpose, Squeeze, Gather) but must keep the samples apart; the batch
// size may flow only into the shape operands where it becomes the batch dim
// of the result (Reshape, Expand, ConstantOfShape, Resize's sizes). Anything
// else that sees the batch (a reduction over it, a Concat along it, the
// batch size used as a number) makes the check fail, naming the op.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/BatchSplit.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace kiln::onnx;

namespace kiln::onnx {
#define GEN_PASS_DEF_ONNXCHECKBATCHSPLIT
#include "dialects/onnx/Passes.h.inc"
} // namespace kiln::onnx

namespace {

/// An entry of a shape value that equals the batch size.
constexpr int64_t kBatch = std::numeric_limits<int64_t>::min() + 1;
constexpr int64_t kUnknown = ShapedType::kDynamic;

struct Facts {
  int64_t axis = -1; // the batch axis of a data tensor, -1 if none
  std::optional<SmallVector<int64_t>> entries; // of a shape value
};

int64_t rankOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? t.getRank() : -1;
}

int64_t dimOf(Value v, int64_t d) {
  return cast<RankedTensorType>(v.getType()).getDimSize(d);
}

bool hasBatch(ArrayRef<int64_t> entries) {
  return llvm::is_contained(entries, kBatch);
}

class Checker {
public:
  std::optional<BatchSplitFailure> run(func::FuncOp func,
                                       ArrayRef<bool> batched);

private:
  LogicalResult fail(Operation *op, const Twine &why) {
    failure = BatchSplitFailure{op, why.str()};
    return mlir::failure();
  }
  int64_t axis(Value v) const {
    auto it = facts.find(v);
    return it == facts.end() ? -1 : it->second.axis;
  }
  /// The entries of a small integer tensor: tracked, constant, or known
  /// from static shapes (kUnknown where not).
  std::optional<SmallVector<int64_t>> entries(Value v) const {
    auto it = facts.find(v);
    if (it != facts.end() && it->second.entries)
      return it->second.entries;
    if (auto ints = getConstantInts(v))
      return ints;
    return getPartialInts(v);
  }
  bool usesBatchSize(Value v) const {
    auto it = facts.find(v);
    return it != facts.end() && it->second.entries &&
           hasBatch(*it->second.entries);
  }
  bool sees(Value v) const { return axis(v) >= 0 || usesBatchSize(v); }
  void setAxis(Value v, int64_t a) { facts[v].axis = a; }
  void setEntries(Value v, SmallVector<int64_t> e) {
    if (hasBatch(e))
      facts[v].entries = std::move(e);
  }

  LogicalResult visit(Operation *op);
  LogicalResult elementwise(Operation *op, ValueRange data);
  LogicalResult shapeArithmetic(Operation *op);
  LogicalResult perSample(Operation *op, Value x);
  LogicalResult matmul(MatMulOp op);
  LogicalResult gemm(GemmOp op);
  LogicalResult flatten(FlattenOp op);
  LogicalResult reshape(ReshapeOp op);
  LogicalResult concat(ConcatOp op);
  LogicalResult slice(SliceOp op);
  LogicalResult gather(GatherOp op);
  LogicalResult unsqueeze(UnsqueezeOp op);
  LogicalResult squeeze(SqueezeOp op);
  LogicalResult resize(Operation *op);
  LogicalResult expand(ExpandOp op);
  /// An op that works along one axis of its first operand: fine unless that
  /// axis is the batch's. `keepRank` false: the axis is removed.
  LogicalResult alongAxes(Operation *op, ArrayRef<int64_t> axes, bool keepRank);

  DenseMap<Value, Facts> facts;
  std::optional<BatchSplitFailure> failure;
};

LogicalResult Checker::elementwise(Operation *op, ValueRange data) {
  for (Value v : data)
    if (usesBatchSize(v))
      return fail(op, "uses the batch size as a number");
  Value result = op->getResult(0);
  int64_t rank = rankOf(result);
  int64_t out = -1;
  for (Value v : data) {
    int64_t a = axis(v);
    if (a < 0)
      continue;
    if (rank < 0 || rankOf(v) < 0)
      return fail(op, "has an operand or result of unknown rank");
    int64_t o = a + rank - rankOf(v);
    if (out >= 0 && o != out)
      return fail(op, "combines samples of two inputs along different dims");
    out = o;
  }
  for (auto [i, v] : llvm::enumerate(data)) {
    if (axis(v) >= 0)
      continue;
    int64_t p = out - (rank - rankOf(v));
    if (p >= 0 && dimOf(v, p) != 1)
      return fail(op, "input " + Twine(i) +
                          " is not broadcast along the batch dim, so each "
                          "sample would meet other elements of it");
  }
  for (Value r : op->getResults())
    setAxis(r, out);
  return success();
}

/// Add, Sub, Mul, Div, Cast and Identity of shape values: the batch size
/// may pass through Cast and Identity unchanged, nothing else.
LogicalResult Checker::shapeArithmetic(Operation *op) {
  if (isa<CastOp, IdentityOp>(op)) {
    if (auto e = entries(op->getOperand(0)))
      setEntries(op->getResult(0), *e);
    return success();
  }
  return fail(op, "uses the batch size as a number");
}

/// Conv, pools, normalizations with fixed statistics, ...: samples along
/// dim 0 of `x`, every other operand the same for all of them.
LogicalResult Checker::perSample(Operation *op, Value x) {
  for (Value v : op->getOperands())
    if (v != x && sees(v))
      return fail(op, "takes the batch in an operand other than its input");
  if (usesBatchSize(x))
    return fail(op, "uses the batch size as a number");
  int64_t a = axis(x);
  if (a < 0)
    return success();
  if (a != 0)
    return fail(op, "would need the samples along dim 0 of its input, they "
                    "are along dim " + Twine(a));
  for (Value r : op->getResults())
    setAxis(r, 0);
  return success();
}

LogicalResult Checker::matmul(MatMulOp op) {
  Value a = op.getA(), b = op.getB();
  int64_t ra = rankOf(a), rb = rankOf(b), ro = rankOf(op.getY());
  if (ra < 2 || rb < 2 || ro < 0)
    return fail(op, "has a 1-D operand or an operand of unknown rank");
  if (axis(a) >= 0 && axis(b) >= 0) {
    // Batched matrices on both sides (attention): the same batch dim.
    int64_t oa = axis(a) + ro - ra, ob = axis(b) + ro - rb;
    if (axis(a) >= ra - 2 || axis(b) >= rb - 2 || oa != ob)
      return fail(op, "multiplies across samples");
    setAxis(op.getY(), oa);
    return success();
  }
  if (axis(a) >= 0) {
    int64_t x = axis(a);
    if (x == ra - 1)
      return fail(op, "sums over the batch dim");
    int64_t o = x + ro - ra;
    if (x < ra - 2) {
      int64_t p = o - (ro - rb);
      if (p >= 0 && dimOf(b, p) != 1)
        return fail(op, "input 1 is not broadcast along the batch dim");
    }
    setAxis(op.getY(), o);
    return success();
  }
  if (axis(b) >= 0) {
    int64_t x = axis(b);
    if (x == rb - 2)
      return fail(op, "sums over the batch dim");
    int64_t o = x + ro - rb;
    if (x < rb - 2) {
      int64_t p = o - (ro - ra);
      if (p >= 0 && dimOf(a, p) != 1)
        return fail(op, "input 0 is not broadcast along the batch dim");
    }
    setAxis(op.getY(), o);
  }
  return success();
}

LogicalResult Checker::gemm(GemmOp op) {
  if (sees(op.getB()) || sees(op.getC()))
    return fail(op, "takes the batch in B or C");
  int64_t a = axis(op.getA());
  if (a < 0)
    return success();
  int64_t rows = op.getTransA() ? 1 : 0;
  if (a != rows)
    return fail(op, "sums over the batch dim");
  Value c = op.getC();
  if (!isa<NoneType>(c.getType()) && rankOf(c) == 2 && dimOf(c, 0) != 1)
    return fail(op, "input C is not broadcast along the batch dim");
  setAxis(op.getY(), 0);
  return success();
}

LogicalResult Checker::flatten(FlattenOp op) {
  Value x = op.getInput();
  int64_t a = axis(x), r = rankOf(x);
  if (a < 0)
    return success();
  int64_t k = (int64_t)op.getAxis();
  if (k < 0)
    k += r;
  // The batch dim must be the only dim of its side that is not 1.
  int64_t lo = a < k ? 0 : k, hi = a < k ? k : r;
  for (int64_t d = lo; d < hi; ++d)
    if (d != a && dimOf(x, d) != 1)
      return fail(op, "merges the batch dim with dim " + Twine(d));
  setAxis(op.getOutput(), a < k ? 0 : 1);
  return success();
}

LogicalResult Checker::reshape(ReshapeOp op) {
  Value x = op.getData();
  int64_t a = axis(x);
  auto target = entries(op.getShape());
  if (a < 0) {
    if (target && hasBatch(*target))
      return fail(op, "makes a batch dim out of data that has none");
    return success();
  }
  if (!target)
    return fail(op, "has a target shape that is not known at compile time");
  auto in = cast<RankedTensorType>(x.getType());
  // Elements per sample: the input's other dims, which must be static.
  int64_t perSample = 1;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    if (d == a)
      continue;
    if (in.isDynamicDim(d))
      return fail(op, "reshapes a value with a second dynamic dim");
    if (d < a && in.getDimSize(d) != 1)
      return fail(op, "has data in front of the batch dim");
    perSample *= in.getDimSize(d);
  }
  int64_t rest = 1;
  bool inferred = false;
  for (auto [i, e] : llvm::enumerate(*target)) {
    if (i == 0)
      continue;
    if (e == kBatch)
      return fail(op, "puts the batch size at dim " + Twine(i));
    if (e == 0 && !op.getAllowzero())
      e = i < (size_t)in.getRank() ? in.getDimSize(i) : -2;
    if (e == -1)
      inferred = true;
    else if (e < 0)
      return fail(op, "has a target shape that is not known at compile time");
    else
      rest *= e;
  }
  int64_t first = (*target)[0];
  if (first == kBatch || (first == 0 && !op.getAllowzero() && a == 0)) {
    // The batch stays at dim 0; a -1 elsewhere is inferred per sample.
    if (!inferred && rest != perSample)
      return fail(op, "does not keep each sample's elements together");
  } else if (first == -1) {
    // The -1 is inferred as the batch size only if the rest is one sample.
    if (inferred || rest != perSample)
      return fail(op, "does not keep each sample's elements together");
  } else {
    return fail(op, "does not keep the batch as dim 0 of its result");
  }
  setAxis(op.getReshaped(), 0);
  return success();
}

LogicalResult Checker::concat(ConcatOp op) {
  bool anyAxis = llvm::any_of(op.getInputs(), [&](Value v) {
    return axis(v) >= 0;
  });
  if (!anyAxis) {
    // Shape values: the entries one after the other.
    SmallVector<int64_t> all;
    for (Value v : op.getInputs()) {
      auto e = entries(v);
      if (!e) {
        if (rankOf(v) != 1 || dimOf(v, 0) < 0)
          return fail(op, "joins shape values Kiln cannot follow");
        e = SmallVector<int64_t>(dimOf(v, 0), kUnknown);
      }
      all.append(*e);
    }
    setEntries(op.getResult(), all);
    return success();
  }
  int64_t r = rankOf(op.getResult());
  int64_t along = (int64_t)op.getAxis() < 0 ? op.getAxis() + r : op.getAxis();
  int64_t a = axis(op.getInputs()[0]);
  for (Value v : op.getInputs())
    if (axis(v) != a)
      return fail(op, "joins a batch with data that has none");
  if (a == along)
    return fail(op, "joins along the batch dim");
  setAxis(op.getResult(), a);
  return success();
}

LogicalResult Checker::slice(SliceOp op) {
  Value x = op.getData();
  for (Value v : op->getOperands().drop_front())
    if (sees(v))
      return fail(op, "takes its bounds from the batch size");
  int64_t r = rankOf(x);
  SmallVector<int64_t> starts, ends, axes, steps;
  if (r < 0 || getSliceParams(op, r, starts, ends, axes, steps))
    return sees(x) ? fail(op, "has bounds not known at compile time")
                   : success();
  if (usesBatchSize(x)) {
    auto in = entries(x);
    SmallVector<SliceAxis> parts;
    if (r != 1 || computeSlice({(int64_t)in->size()}, starts, ends, axes,
                               steps, parts))
      return fail(op, "slices a shape value in a way Kiln cannot follow");
    SmallVector<int64_t> out;
    for (int64_t i = 0; i < parts[0].size; ++i)
      out.push_back((*in)[parts[0].start + i * parts[0].step]);
    setEntries(op.getOutput(), out);
    return success();
  }
  int64_t a = axis(x);
  if (a < 0)
    return success();
  if (llvm::is_contained(axes, a))
    return fail(op, "slices along the batch dim");
  setAxis(op.getOutput(), a);
  return success();
}

LogicalResult Checker::gather(GatherOp op) {
  Value data = op.getData(), idx = op.getIndices();
  int64_t r = rankOf(data), ri = rankOf(idx);
  if (r < 0 || ri < 0)
    return fail(op, "has an operand of unknown rank");
  int64_t g = (int64_t)op.getAxis() < 0 ? op.getAxis() + r : op.getAxis();
  if (usesBatchSize(idx))
    return fail(op, "uses the batch size as an index");
  if (usesBatchSize(data)) {
    auto in = entries(data);
    auto at = getConstantInts(idx);
    if (!at)
      return fail(op, "picks from a shape value at run-time positions");
    SmallVector<int64_t> out;
    int64_t n = in->size();
    for (int64_t i : *at) {
      if (i < -n || i >= n)
        return fail(op, "has an index out of range");
      out.push_back((*in)[i < 0 ? i + n : i]);
    }
    setEntries(op.getOutput(), out);
    return success();
  }
  int64_t a = axis(data), b = axis(idx);
  if (a >= 0 && b >= 0)
    return fail(op, "indexes a batch with a batch");
  if (a >= 0) {
    if (a == g)
      return fail(op, "picks along the batch dim");
    setAxis(op.getOutput(), a < g ? a : a + ri - 1);
  } else if (b >= 0) {
    setAxis(op.getOutput(), g + b);
  }
  return success();
}

LogicalResult Checker::unsqueeze(UnsqueezeOp op) {
  Value x = op.getData();
  if (sees(op.getAxesInput()))
    return fail(op, "takes its axes from the batch size");
  if (usesBatchSize(x)) {
    setEntries(op.getExpanded(), *entries(x));
    return success();
  }
  int64_t a = axis(x);
  if (a < 0)
    return success();
  auto axes = getAxesOperandOrAttr(op.getAxesInput(), op.getAxes());
  int64_t ro = rankOf(op.getExpanded());
  if (!axes || ro < 0)
    return fail(op, "has axes not known at compile time");
  SmallVector<bool> inserted(ro, false);
  for (int64_t ax : *axes) {
    auto n = normalizeAxis(ax, ro);
    if (!n)
      return fail(op, "has an axis out of range");
    inserted[*n] = true;
  }
  for (int64_t o = 0, i = 0; o < ro; ++o) {
    if (inserted[o])
      continue;
    if (i++ == a) {
      setAxis(op.getExpanded(), o);
      return success();
    }
  }
  return fail(op, "has more axes than its result has dims");
}

LogicalResult Checker::squeeze(SqueezeOp op) {
  Value x = op.getData();
  if (sees(op.getAxesInput()))
    return fail(op, "takes its axes from the batch size");
  if (usesBatchSize(x)) {
    setEntries(op.getSqueezed(), *entries(x));
    return success();
  }
  int64_t a = axis(x), r = rankOf(x);
  if (a < 0)
    return success();
  auto axes = getAxesOperandOrAttr(op.getAxesInput(), op.getAxes());
  if (!axes || axes->empty())
    return fail(op, "has no axes: with one sample it would remove the batch "
                    "dim too");
  int64_t before = 0;
  for (int64_t ax : *axes) {
    auto n = normalizeAxis(ax, r);
    if (!n || *n == a)
      return fail(op, "removes the batch dim");
    before += *n < a;
  }
  setAxis(op.getSqueezed(), a - before);
  return success();
}

LogicalResult Checker::resize(Operation *op) {
  Value x = op->getOperand(0);
  int64_t a = axis(x);
  // Resize(X, roi, scales, sizes), Upsample(X, scales).
  bool isResize = isa<ResizeOp>(op);
  Value scales = op->getOperand(isResize ? 2 : 1);
  Value sizes = isResize && op->getNumOperands() > 3 ? op->getOperand(3)
                                                     : Value();
  for (Value v : op->getOperands().drop_front())
    if (v != sizes && sees(v))
      return fail(op, "takes its scales from the batch size");
  if (a < 0)
    return sizes && sees(sizes) ? fail(op, "makes a batch dim out of data "
                                           "that has none")
                                : success();
  if (a != 0)
    return fail(op, "would need the samples along dim 0");
  if (op->getAttr("axes"))
    return fail(op, "has an axes attribute");
  if (sizes && !isa<NoneType>(sizes.getType())) {
    auto e = entries(sizes);
    if (!e || e->empty() || (*e)[0] != kBatch ||
        hasBatch(ArrayRef<int64_t>(*e).drop_front()))
      return fail(op, "has sizes that do not keep the batch size");
  } else {
    std::optional<double> first;
    if (auto cst = scales.getDefiningOp<ConstantOp>())
      if (auto dense = dyn_cast<DenseFPElementsAttr>(cst.getValue()))
        if (dense.getNumElements() > 0)
          first = (*dense.getValues<APFloat>().begin()).convertToDouble();
    if (!first || *first != 1.0)
      return fail(op, "scales the batch dim (or its scale is not a constant)");
  }
  setAxis(op->getResult(0), 0);
  return success();
}

LogicalResult Checker::expand(ExpandOp op) {
  Value x = op.getInput();
  if (usesBatchSize(x))
    return fail(op, "uses the batch size as a number");
  auto shape = entries(op.getShape());
  int64_t ro = rankOf(op.getOutput()), r = rankOf(x);
  if (!shape || ro < 0 || r < 0)
    return sees(x) || usesBatchSize(op.getShape())
               ? fail(op, "has a shape not known at compile time")
               : success();
  int64_t len = shape->size();
  int64_t a = axis(x);
  if (a >= 0) {
    int64_t o = a + ro - r, p = o - (ro - len);
    if (p >= 0 && (*shape)[p] != 1 && (*shape)[p] != kBatch)
      return fail(op, "expands the batch dim");
    for (auto [i, e] : llvm::enumerate(*shape))
      if (e == kBatch && (int64_t)i != p)
        return fail(op, "puts the batch size at another dim");
    setAxis(op.getOutput(), o);
    return success();
  }
  int64_t p = -1;
  for (auto [i, e] : llvm::enumerate(*shape)) {
    if (e != kBatch)
      continue;
    if (p >= 0)
      return fail(op, "puts the batch size at two dims");
    p = i;
  }
  if (p < 0)
    return success();
  int64_t o = p + ro - len, q = o - (ro - r);
  if (q >= 0 && dimOf(x, q) != 1)
    return fail(op, "expands data that has no batch to the batch size");
  setAxis(op.getOutput(), o);
  return success();
}

LogicalResult Checker::alongAxes(Operation *op, ArrayRef<int64_t> axes,
                                 bool keepRank) {
  Value x = op->getOperand(0);
  for (Value v : op->getOperands().drop_front())
    if (sees(v))
      return fail(op, "takes the batch in an operand other than its input");
  if (usesBatchSize(x))
    return fail(op, "uses the batch size as a number");
  int64_t a = axis(x);
  if (a < 0)
    return success();
  int64_t before = 0;
  for (int64_t ax : axes) {
    if (ax == a)
      return fail(op, "works along the batch dim, across samples");
    before += ax < a;
  }
  for (Value r : op->getResults())
    setAxis(r, keepRank ? a : a - before);
  return success();
}

LogicalResult Checker::visit(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>())
    return success();
  bool any = llvm::any_of(op->getOperands(), [&](Value v) { return sees(v); });
  if (auto shape = dyn_cast<ShapeOfOp>(op)) {
    Value x = shape.getData();
    int64_t a = axis(x), r = rankOf(x);
    if (a < 0 || r < 0)
      return usesBatchSize(x) ? fail(op, "takes the shape of a shape value")
                              : success();
    SmallVector<int64_t> e(cast<RankedTensorType>(x.getType()).getShape());
    e[a] = kBatch;
    auto [s, end] = shapeOpRange(shape.getStart(), shape.getEnd(), r);
    setEntries(shape.getShape(),
               SmallVector<int64_t>(e.begin() + s, e.begin() + end));
    return success();
  }
  if (!any)
    return success();
  if (op->getNumRegions())
    return fail(op, "has subgraphs");
  int64_t rank = rankOf(op->getOperand(0));
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<AddOp, SubOp, MulOp, DivOp, CastOp, IdentityOp>([&](Operation *o) {
        if (llvm::any_of(o->getOperands(),
                         [&](Value v) { return usesBatchSize(v); }))
          return shapeArithmetic(o);
        return elementwise(o, o->getOperands());
      })
      .Case<ClipOp, CastLikeOp>([&](Operation *o) {
        for (Value v : o->getOperands().drop_front())
          if (sees(v))
            return fail(o, "takes the batch in an operand other than its "
                           "input");
        return elementwise(o, o->getOperands().take_front());
      })
      .Case<DropoutOp>([&](DropoutOp o) {
        return elementwise(o, o->getOperands().take_front());
      })
      .Case<ConvOp, ConvTransposeOp, MaxPoolOp, AveragePoolOp,
            GlobalAveragePoolOp, GlobalMaxPoolOp, InstanceNormalizationOp,
            GroupNormalizationOp, DepthToSpaceOp, SpaceToDepthOp>(
          [&](Operation *o) { return perSample(o, o->getOperand(0)); })
      .Case<BatchNormalizationOp>([&](BatchNormalizationOp o) {
        if (o.getTrainingMode())
          return fail(o, "computes statistics over the batch (training mode)");
        return perSample(o, o.getX());
      })
      .Case<MatMulOp>([&](MatMulOp o) { return matmul(o); })
      .Case<GemmOp>([&](GemmOp o) { return gemm(o); })
      .Case<FlattenOp>([&](FlattenOp o) { return flatten(o); })
      .Case<ReshapeOp>([&](ReshapeOp o) { return reshape(o); })
      .Case<TransposeOp>([&](TransposeOp o) {
        int64_t a = axis(o.getData());
        if (a < 0)
          return fail(o, "transposes a shape value");
        SmallVector<int64_t> perm;
        if (auto p = o.getPerm())
          perm.assign(p->begin(), p->end());
        else
          for (int64_t i = rank - 1; i >= 0; --i)
            perm.push_back(i);
        auto it = llvm::find(perm, a);
        if (it == perm.end())
          return fail(o, "has a permutation without the batch dim");
        setAxis(o.getTransposed(), it - perm.begin());
        return success();
      })
      .Case<ConcatOp>([&](ConcatOp o) { return concat(o); })
      .Case<SplitOp>([&](SplitOp o) {
        if (rank < 0)
          return fail(o, "has an input of unknown rank");
        int64_t along = (int64_t)o.getAxis() < 0 ? o.getAxis() + rank
                                                 : o.getAxis();
        return alongAxes(o, {along}, true);
      })
      .Case<SliceOp>([&](SliceOp o) { return slice(o); })
      .Case<GatherOp>([&](GatherOp o) { return gather(o); })
      .Case<UnsqueezeOp>([&](UnsqueezeOp o) { return unsqueeze(o); })
      .Case<SqueezeOp>([&](SqueezeOp o) { return squeeze(o); })
      .Case<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp,
            ReduceL1Op, ReduceL2Op, ReduceSumSquareOp, ReduceLogSumOp,
            ReduceLogSumExpOp>([&](Operation *o) {
        SmallVector<int64_t> axes;
        if (rank < 0 || resolveReduceAxes(o, rank, axes))
          return fail(o, "has axes not known at compile time");
        if (axes.empty() && rank > 0) // noop_with_empty_axes
          return elementwise(o, o->getOperands().take_front());
        auto keep = o->getAttrOfType<IntegerAttr>("keepdims");
        return alongAxes(o, axes, !keep || keep.getInt());
      })
      .Case<ArgMaxOp, ArgMinOp>([&](Operation *o) {
        auto ax = normalizeAxis(o->getAttrOfType<IntegerAttr>("axis").getInt(),
                                rank);
        if (!ax)
          return fail(o, "has an axis out of range");
        auto keep = o->getAttrOfType<IntegerAttr>("keepdims");
        return alongAxes(o, {*ax}, keep.getInt());
      })
      .Case<SoftmaxOp, LogSoftmaxOp, HardmaxOp>([&](Operation *o) {
        bool coerced2D = false;
        int64_t ax = getSoftmaxAxis(o, rank, coerced2D);
        if (coerced2D) {
          // Rows are the dims before the axis: the batch must be one of them.
          if (axis(o->getOperand(0)) >= ax)
            return fail(o, "works along the batch dim, across samples");
          return alongAxes(o, {}, true);
        }
        return alongAxes(o, {ax}, true);
      })
      .Case<LayerNormalizationOp>([&](LayerNormalizationOp o) {
        auto ax = normalizeAxis(o.getAxis(), rank);
        if (!ax)
          return fail(o, "has an axis out of range");
        SmallVector<int64_t> axes;
        for (int64_t d = *ax; d < rank; ++d)
          axes.push_back(d);
        return alongAxes(o, axes, true);
      })
      .Case<CumSumOp>([&](CumSumOp o) {
        auto ax = getConstantInts(o->getOperand(1));
        if (!ax || ax->size() != 1 || !normalizeAxis((*ax)[0], rank))
          return fail(o, "has an axis not known at compile time");
        return alongAxes(o, {*normalizeAxis((*ax)[0], rank)}, true);
      })
      .Case<TriluOp>([&](TriluOp o) {
        return alongAxes(o, {rank - 2, rank - 1}, true);
      })
      .Case<PadOp>([&](PadOp o) {
        SmallVector<int64_t> low, high;
        if (rank < 0 || resolvePads(o, rank, low, high))
          return fail(o, "has pads not known at compile time");
        SmallVector<int64_t> padded;
        for (int64_t d = 0; d < rank; ++d)
          if (low[d] || high[d])
            padded.push_back(d);
        return alongAxes(o, padded, true);
      })
      .Case<TileOp>([&](TileOp o) {
        auto reps = getConstantInts(o.getRepeats());
        if (!reps || (int64_t)reps->size() != rank)
          return fail(o, "has repeats not known at compile time");
        SmallVector<int64_t> tiled;
        for (int64_t d = 0; d < rank; ++d)
          if ((*reps)[d] != 1)
            tiled.push_back(d);
        return alongAxes(o, tiled, true);
      })
      .Case<ResizeOp, UpsampleOp>([&](Operation *o) { return resize(o); })
      .Case<ExpandOp>([&](ExpandOp o) { return expand(o); })
      .Case<ConstantOfShapeOp>([&](ConstantOfShapeOp o) {
        auto e = entries(o.getInput());
        int64_t n = e ? llvm::count(*e, kBatch) : 0;
        if (n != 1)
          return fail(o, "puts the batch size at more than one dim");
        setAxis(o.getOutput(), llvm::find(*e, kBatch) - e->begin());
        return success();
      })
      .Default([&](Operation *o) {
        if (o->hasTrait<kiln::onnx::OnnxTrait::Elementwise>())
          return elementwise(o, o->getOperands());
        return fail(o, "is not known to keep samples apart");
      });
}

std::optional<BatchSplitFailure> Checker::run(func::FuncOp func,
                                              ArrayRef<bool> batched) {
  for (auto [i, arg] : llvm::enumerate(func.getArguments()))
    if (i < batched.size() && batched[i])
      setAxis(arg, 0);
  for (Operation &op : func.getBody().front())
    if (failed(visit(&op)))
      return failure;
  Operation *ret = func.getBody().front().getTerminator();
  for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
    if (usesBatchSize(v) || axis(v) != 0) {
      std::string what =
          axis(v) > 0 ? "has the batch at dim " + std::to_string(axis(v))
                      : std::string("does not depend on the batch");
      return BatchSplitFailure{ret, "output " + std::to_string(i) + " " +
                                        what + ", not at dim 0"};
    }
  }
  return std::nullopt;
}

struct OnnxCheckBatchSplitPass
    : public kiln::onnx::impl::OnnxCheckBatchSplitBase<OnnxCheckBatchSplitPass> {
  using OnnxCheckBatchSplitBase::OnnxCheckBatchSplitBase;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<bool> batched;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto params = func.getArgAttrOfType<ArrayAttr>(i, "onnx.dim_params");
      auto first = params && !params.empty()
                       ? dyn_cast<StringAttr>(params[0])
                       : StringAttr();
      batched.push_back(first && first.getValue() == dim);
    }
    if (auto f = checkBatchSplit(func, batched)) {
      f->op->emitError() << "'" << f->op->getName() << "' " << f->reason;
      return signalPassFailure();
    }
    func.emitRemark() << "each sample along '" << dim
                      << "' is computed on its own";
  }
};

} // namespace

std::optional<BatchSplitFailure>
kiln::onnx::checkBatchSplit(func::FuncOp func, ArrayRef<bool> batched) {
  return Checker().run(func, batched);
}
