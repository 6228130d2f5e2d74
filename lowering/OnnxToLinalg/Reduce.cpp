//===- Reduce.cpp - reductions, ArgMax/ArgMin and softmax to linalg -------===//
//
// A reduction is a linalg.generic over the input's dims in order, with
// reduction iterators on the reduced axes, writing the keepdims=0 shape; the
// result is then reshaped to the op's type (which keeps size-1 dims or not).
// Epilogues (mean, sqrt, log) are elementwise generics on the reduced tensor.
// Axes come from resolveReduceAxes / getSoftmaxAxis, as in shape inference.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

using utils::IteratorType;

Value absV(OpBuilder &b, Location l, Value x) {
  return isF(x) ? (Value)math::AbsFOp::create(b, l, x)
                : (Value)math::AbsIOp::create(b, l, x);
}
Value expV(OpBuilder &b, Location l, Value x) {
  return math::ExpOp::create(b, l, x);
}
Value logV(OpBuilder &b, Location l, Value x) {
  return math::LogOp::create(b, l, x);
}

/// The shape of `type` without `axes`.
RankedTensorType droppedType(RankedTensorType type, ArrayRef<int64_t> axes,
                             Type elem = nullptr) {
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!llvm::is_contained(axes, i))
      shape.push_back(type.getDimSize(i));
  return RankedTensorType::get(shape, elem ? elem : type.getElementType());
}

/// The map from the iteration space of a rank-`rank` tensor to the dims that
/// are not in `axes`.
AffineMap droppedMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(axes, i))
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// A linalg.generic over the dims of `fullType`. The `full` operands have
/// that shape; the `partial` ones the shape without `axes` (earlier reduction
/// results). With `init` (of the partial shape) it reduces over `axes`,
/// `body` getting the scalars of full..., partial..., then the accumulator;
/// without, it writes a new tensor of `fullType`.
Value buildOverAxes(OpBuilder &b, Location loc, RankedTensorType fullType,
                    ArrayRef<int64_t> axes, ValueRange full, ValueRange partial,
                    Value init, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = fullType.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap dropped = droppedMap(ctx, rank, axes);
  SmallVector<Value> inputs(full);
  llvm::append_range(inputs, partial);
  SmallVector<AffineMap> maps(full.size(), id);
  maps.append(partial.size(), dropped);
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  if (init) {
    maps.push_back(dropped);
    for (int64_t a : axes)
      iters[a] = IteratorType::reduction;
  } else {
    maps.push_back(id);
    init = emptyTensor(b, loc, fullType,
                       fullType.hasStaticShape()
                           ? SmallVector<Value>()
                           : dimsOf(b, loc, fullType, full[0]));
  }
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, body(nb, nl, args));
             })
      .getResult(0);
}

/// Reshapes a reduction result (keepdims=0 shape) to the op's result type:
/// one expand_shape re-inserting the size-1 dims when keepdims is set.
Value toResultType(OpBuilder &b, Location loc, Value v, RankedTensorType to) {
  auto from = cast<RankedTensorType>(v.getType());
  if (from == to)
    return v;
  if (from.getRank() < to.getRank())
    if (auto assoc = getReassociationIndicesForReshape(from, to))
      return tensor::ExpandShapeOp::create(b, loc, to, v, *assoc);
  return reshapeTensor(b, loc, v, to);
}

/// Reduces `x` over `axes` into a tensor of the keepdims=0 shape, starting
/// from `identity`.
Value reduce(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
             ValueRange partial, Value identity, BodyFn body) {
  auto xt = cast<RankedTensorType>(x.getType());
  RankedTensorType type = droppedType(xt, axes);
  SmallVector<int64_t> kept;
  for (int64_t i = 0; i < xt.getRank(); ++i)
    if (!llvm::is_contained(axes, i))
      kept.push_back(i);
  Value init = filledTensor(b, loc, type, identity,
                            dimsOf(b, loc, type, x, kept));
  return buildOverAxes(b, loc, xt, axes, x, partial, init, body);
}

//===----------------------------------------------------------------------===//
// Reduce*
//===----------------------------------------------------------------------===//

enum class Kind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  SumSquare,
  LogSum,
  LogSumExp
};

/// What is accumulated for one element.
Value mapElement(Kind kind, OpBuilder &b, Location l, Value x) {
  switch (kind) {
  case Kind::L1:
    return absV(b, l, x);
  case Kind::L2:
  case Kind::SumSquare:
    return mulV(b, l, x, x);
  default:
    return x;
  }
}

Value combine(Kind kind, OpBuilder &b, Location l, Value acc, Value x) {
  switch (kind) {
  case Kind::Max:
    return maxV(b, l, acc, x);
  case Kind::Min:
    return minV(b, l, acc, x);
  case Kind::Prod:
    return mulV(b, l, acc, x);
  default:
    return addV(b, l, acc, x);
  }
}

Value identityOf(Kind kind, OpBuilder &b, Location l, Type elem) {
  switch (kind) {
  case Kind::Max:
    return lowestValue(b, l, elem);
  case Kind::Min:
    return highestValue(b, l, elem);
  case Kind::Prod:
    return scalarConstant(b, l, elem, 1);
  default:
    return scalarConstant(b, l, elem, 0);
  }
}

/// The result from the accumulated value over `count` elements (nullptr:
/// one).
Value finalize(Kind kind, OpBuilder &b, Location l, Value acc, Value count) {
  switch (kind) {
  case Kind::Mean:
    return count ? divV(b, l, acc, count) : acc;
  case Kind::L2:
    return math::SqrtOp::create(b, l, acc);
  case Kind::LogSum:
    return logV(b, l, acc);
  default:
    return acc;
  }
}

bool hasEpilogue(Kind kind) {
  return kind == Kind::Mean || kind == Kind::L2 || kind == Kind::LogSum;
}

template <typename OpTy, Kind K> struct ReducePattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }

  /// Axes read at run time (keepdims): the result has the input's rank, a
  /// dim 1 where an axis names it; a loop nest over the input accumulates
  /// x[i] into out[i with the reduced dims at 0] (not a tuned kernel).
  LogicalResult lowerRunTimeAxes(OpTy op, PatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    Value x = op.getData();
    auto xt = cast<RankedTensorType>(x.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Value axesIn = op->getOperand(1);
    auto at = dyn_cast<RankedTensorType>(axesIn.getType());
    Type elem = xt.getElementType();
    int64_t rank = xt.getRank();
    bool keep = op.getKeepdims();
    if (K == Kind::LogSumExp || !at || at.getRank() != 1 ||
        !at.hasStaticShape() || !isa<IntegerType>(at.getElementType()) ||
        outType.getRank() != (keep ? rank : rank - at.getDimSize(0)))
      return rewriter.notifyMatchFailure(op, "the axes input is not a constant");
    // Without keepdims: reduced as with them, then the reduced dims dropped.
    SmallVector<int64_t> keptShape;
    for (int64_t d = 0; d < rank; ++d)
      keptShape.push_back(xt.getDimSize(d) == 1 ? 1 : ShapedType::kDynamic);
    RankedTensorType keptType =
        keep ? outType : RankedTensorType::get(keptShape, elem);
    Type i64 = rewriter.getI64Type();
    auto c64 = [&](int64_t v) {
      return arith::ConstantIntOp::create(rewriter, loc, i64, v).getResult();
    };
    auto idx = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    SmallVector<Value> reduced(rank,
                               arith::ConstantIntOp::create(rewriter, loc, 0, 1));
    for (int64_t k = 0; k < at.getDimSize(0); ++k) {
      Value a = tensor::ExtractOp::create(rewriter, loc, axesIn,
                                          ValueRange{idx(k)});
      if (a.getType() != i64)
        a = arith::ExtSIOp::create(rewriter, loc, i64, a);
      a = arith::SelectOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, a,
                                c64(0)),
          arith::AddIOp::create(rewriter, loc, a, c64(rank)), a);
      for (int64_t d = 0; d < rank; ++d)
        reduced[d] = arith::OrIOp::create(
            rewriter, loc, reduced[d],
            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, a,
                                  c64(d)));
    }
    SmallVector<Value> inSizes, outSizes;
    Value count = idx(1);
    for (int64_t d = 0; d < rank; ++d) {
      Value n = xt.isDynamicDim(d)
                    ? (Value)tensor::DimOp::create(rewriter, loc, x, d)
                    : idx(xt.getDimSize(d));
      inSizes.push_back(n);
      Value size = arith::SelectOp::create(rewriter, loc, reduced[d], idx(1), n);
      count = arith::MulIOp::create(
          rewriter, loc, count,
          arith::SelectOp::create(rewriter, loc, reduced[d], n, idx(1)));
      if (keptType.isDynamicDim(d))
        outSizes.push_back(size);
    }
    Value init = filledTensor(rewriter, loc, keptType,
                              identityOf(K, rewriter, loc, elem), outSizes);
    SmallVector<Value> lbs(rank, idx(0)), steps(rank, idx(1));
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, inSizes, steps, ValueRange{init},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange args) -> scf::ValueVector {
          SmallVector<Value> at;
          for (int64_t d = 0; d < rank; ++d)
            at.push_back(arith::SelectOp::create(
                b, l, reduced[d], arith::ConstantIndexOp::create(b, l, 0),
                ivs[d]));
          Value acc = tensor::ExtractOp::create(b, l, args[0], at);
          Value v = tensor::ExtractOp::create(b, l, x, ivs);
          Value next = combine(K, b, l, acc, mapElement(K, b, l, v));
          return {tensor::InsertOp::create(b, l, next, args[0], at).getResult()};
        });
    Value r = nest.results.front();
    if (hasEpilogue(K)) {
      Value n = arith::IndexCastOp::create(rewriter, loc, i64, count);
      Value countElem =
          isa<FloatType>(elem) ? (Value)arith::SIToFPOp::create(rewriter, loc,
                                                                elem, n)
          : elem.isInteger(64) ? n
                               : (Value)arith::TruncIOp::create(rewriter, loc,
                                                                elem, n);
      r = buildElementwise(rewriter, loc, r, keptType,
                           [&](OpBuilder &b, Location l, ValueRange a) {
                             return finalize(K, b, l, a[0], countElem);
                           });
    }
    if (!keep)
      r = dropReduced(rewriter, loc, r, reduced, inSizes, outType);
    rewriter.replaceOp(op, r);
    return success();
  }

  /// `r` (the kept dims' shape) without the reduced dims: result dim q is
  /// the q-th input dim not reduced. Axes that repeat (fewer dims dropped
  /// than the rank says) give [count, 1, ...]: never a read past `r`.
  Value dropReduced(OpBuilder &b, Location loc, Value r,
                    ArrayRef<Value> reduced, ArrayRef<Value> inSizes,
                    RankedTensorType outType) const {
    auto rt = cast<RankedTensorType>(r.getType());
    auto idx = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    SmallVector<Value> prefix;
    Value kept = idx(0);
    for (Value red : reduced) {
      prefix.push_back(kept);
      kept = arith::AddIOp::create(
          b, loc, kept, arith::SelectOp::create(b, loc, red, idx(0), idx(1)));
    }
    SmallVector<Value> dims;
    Value product = idx(1);
    for (int64_t q = 0; q < outType.getRank(); ++q) {
      Value dim = idx(1);
      for (auto [i, red] : llvm::enumerate(reduced)) {
        Value mine = arith::AndIOp::create(
            b, loc,
            arith::XOrIOp::create(b, loc, red,
                                  arith::ConstantIntOp::create(b, loc, 1, 1)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, prefix[i],
                                  idx(q)));
        dim = arith::SelectOp::create(b, loc, mine, inSizes[i], dim);
      }
      dims.push_back(dim);
      product = arith::MulIOp::create(b, loc, product, dim);
    }
    SmallVector<ReassociationIndices> all(1);
    for (int64_t d = 0; d < rt.getRank(); ++d)
      all[0].push_back(d);
    Value flat = rt.getRank() == 1
                     ? r
                     : (Value)tensor::CollapseShapeOp::create(b, loc, r, all);
    Value count = tensor::DimOp::create(b, loc, flat, 0);
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, product,
                                     count);
    if (outType.getRank() == 0)
      return tensor::CollapseShapeOp::create(
          b, loc, outType,
          tensor::CastOp::create(
              b, loc, RankedTensorType::get({1}, outType.getElementType()),
              flat),
          ArrayRef<ReassociationIndices>{});
    SmallVector<OpFoldResult> sizes;
    for (auto [q, d] : llvm::enumerate(dims)) {
      Value safe = arith::SelectOp::create(b, loc, ok, d, q == 0 ? count : idx(1));
      sizes.push_back(outType.isDynamicDim(q)
                          ? OpFoldResult(safe)
                          : OpFoldResult(b.getIndexAttr(outType.getDimSize(q))));
    }
    if (outType.getRank() == 1)
      return tensor::CastOp::create(b, loc, outType, flat);
    SmallVector<ReassociationIndices> out(1);
    for (int64_t q = 0; q < outType.getRank(); ++q)
      out[0].push_back(q);
    return tensor::ExpandShapeOp::create(b, loc, outType, flat, out, sizes);
  }

  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getData();
    auto xt = cast<RankedTensorType>(x.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = xt.getElementType();
    bool floatOnly = K == Kind::L2 || K == Kind::LogSum || K == Kind::LogSumExp;
    if (floatOnly && !isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    if (!elem.isIntOrFloat() || elem.isInteger(1))
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    SmallVector<int64_t> axes;
    if (auto err = onnx::resolveReduceAxes(op, xt.getRank(), axes))
      return lowerRunTimeAxes(op, rewriter);

    // No axes (noop_with_empty_axes): each element reduces on its own.
    if (axes.empty()) {
      Value r = buildElementwise(
          rewriter, loc, x, outType,
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (K == Kind::LogSumExp)
              return a[0];
            if (K == Kind::L2)
              return absV(b, l, a[0]);
            return finalize(K, b, l, mapElement(K, b, l, a[0]), Value());
          });
      rewriter.replaceOp(op, r);
      return success();
    }

    Value count = K == Kind::Mean ? elementCount(rewriter, loc, x, axes, elem)
                                  : Value();
    Value r;
    if (K == Kind::LogSumExp) {
      // log(sum(exp(x - m))) + m with m the max, taken as 0 when it is not
      // finite (all -inf, or an inf input) so x - m stays defined.
      Value m =
          reduce(rewriter, loc, x, axes, {}, lowestValue(rewriter, loc, elem),
                 [](OpBuilder &b, Location l, ValueRange a) {
                   return maxV(b, l, a[1], a[0]);
                 });
      auto partialType = cast<RankedTensorType>(m.getType());
      m = buildElementwise(
          rewriter, loc, m, partialType,
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value inf = highestValue(b, l, elem);
            Value finite = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OLT, absV(b, l, a[0]), inf);
            return arith::SelectOp::create(b, l, finite, a[0],
                                           cst(b, l, a[0], 0));
          });
      Value s = reduce(
          rewriter, loc, x, axes, m, scalarConstant(rewriter, loc, elem, 0),
          [](OpBuilder &b, Location l, ValueRange a) {
            return addV(b, l, a[2], expV(b, l, subV(b, l, a[0], a[1])));
          });
      r = buildElementwise(rewriter, loc, ValueRange{s, m}, partialType,
                           [](OpBuilder &b, Location l, ValueRange a) {
                             return addV(b, l, logV(b, l, a[0]), a[1]);
                           });
    } else {
      r = reduce(rewriter, loc, x, axes, {}, identityOf(K, rewriter, loc, elem),
                 [](OpBuilder &b, Location l, ValueRange a) {
                   return combine(K, b, l, a[1], mapElement(K, b, l, a[0]));
                 });
      if (hasEpilogue(K))
        r = buildElementwise(rewriter, loc, r,
                             cast<RankedTensorType>(r.getType()),
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return finalize(K, b, l, a[0], count);
                             });
    }
    Value result = toResultType(rewriter, loc, r, outType);
    if (!result)
      return rewriter.notifyMatchFailure(op, "cannot reshape the dynamic result");
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ArgMax / ArgMin
//===----------------------------------------------------------------------===//

/// One generic with two accumulators, the best value and its index (i64);
/// ties keep the first index, or the last with select_last_index.
template <typename OpTy, bool IsMax> struct ArgPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = op.getData();
    auto xt = cast<RankedTensorType>(x.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = xt.getElementType();
    if (!elem.isIntOrFloat() || elem.isInteger(1))
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    int64_t rank = xt.getRank();
    auto axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (!axis)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    bool last = op.getSelectLastIndex();
    Type i64 = rewriter.getI64Type();

    auto valType = droppedType(xt, *axis);
    auto idxType = droppedType(xt, *axis, i64);
    SmallVector<int64_t> kept;
    for (int64_t i = 0; i < rank; ++i)
      if (i != *axis)
        kept.push_back(i);
    SmallVector<Value> sizes = dimsOf(rewriter, loc, valType, x, kept);
    Value valInit = filledTensor(rewriter, loc, valType,
                                 IsMax ? lowestValue(rewriter, loc, elem)
                                       : highestValue(rewriter, loc, elem),
                                 sizes);
    Value idxInit = filledTensor(rewriter, loc, idxType,
                                 scalarConstant(rewriter, loc, i64, 0), sizes);
    AffineMap dropped = droppedMap(ctx, rank, *axis);
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank), dropped,
                                dropped};
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters[*axis] = IteratorType::reduction;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valType, idxType}, ValueRange{x},
        ValueRange{valInit, idxInit}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value v = a[0], best = a[1], bestIdx = a[2];
          Value idx = arith::IndexCastOp::create(
              b, l, i64, linalg::IndexOp::create(b, l, *axis));
          Value better;
          if (isF(v)) {
            auto pred = IsMax ? (last ? arith::CmpFPredicate::OGE
                                      : arith::CmpFPredicate::OGT)
                              : (last ? arith::CmpFPredicate::OLE
                                      : arith::CmpFPredicate::OLT);
            better = arith::CmpFOp::create(b, l, pred, v, best);
          } else {
            auto pred = IsMax ? (last ? arith::CmpIPredicate::sge
                                      : arith::CmpIPredicate::sgt)
                              : (last ? arith::CmpIPredicate::sle
                                      : arith::CmpIPredicate::slt);
            better = arith::CmpIOp::create(b, l, pred, v, best);
          }
          // The first element always counts, so an all-lowest (or
          // all-highest) row still yields its first index.
          Value first =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx,
                                    scalarConstant(b, l, i64, 0));
          better = arith::OrIOp::create(b, l, better, first);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, better, v, best),
                         arith::SelectOp::create(b, l, better, idx, bestIdx)});
        });
    Value result = toResultType(rewriter, loc, generic.getResult(1), outType);
    if (!result)
      return rewriter.notifyMatchFailure(op, "cannot reshape the dynamic result");
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Softmax / LogSoftmax
//===----------------------------------------------------------------------===//

/// m = max(x), s = sum(exp(x - m)) over the normalized axes, then
/// exp(x - m) / s or x - m - log(s). Before opset 13 the axes are all dims
/// from `axis` on (the input coerced to 2-D); from 13 the single `axis`.
template <typename OpTy, bool IsLog> struct SoftmaxPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    Type elem = xt.getElementType();
    if (!isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    int64_t rank = xt.getRank();
    bool coerced2D;
    int64_t axis = onnx::getSoftmaxAxis(op, rank, coerced2D);
    if (rank == 0 || axis < 0 || axis >= rank)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    SmallVector<int64_t> axes{axis};
    if (coerced2D)
      for (int64_t i = axis + 1; i < rank; ++i)
        axes.push_back(i);
    rewriter.replaceOp(op, softmaxOver(rewriter, loc, x, axes, IsLog));
    return success();
  }
};

} // namespace

Value kiln::softmaxOver(OpBuilder &b, Location loc, Value x,
                        ArrayRef<int64_t> axes, bool log) {
  auto xt = cast<RankedTensorType>(x.getType());
  Type elem = xt.getElementType();
  Value m = reduce(b, loc, x, axes, {}, lowestValue(b, loc, elem),
                   [](OpBuilder &nb, Location l, ValueRange a) {
                     return maxV(nb, l, a[1], a[0]);
                   });
  Value s = reduce(b, loc, x, axes, m, scalarConstant(b, loc, elem, 0),
                   [](OpBuilder &nb, Location l, ValueRange a) {
                     return addV(nb, l, a[2],
                                 expV(nb, l, subV(nb, l, a[0], a[1])));
                   });
  return buildOverAxes(b, loc, xt, axes, x, ValueRange{m, s}, nullptr,
                       [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                         Value shifted = subV(nb, l, a[0], a[1]);
                         if (log)
                           return subV(nb, l, shifted, logV(nb, l, a[2]));
                         return divV(nb, l, expV(nb, l, shifted), a[2]);
                       });
}

void kiln::populateReducePatterns(RewritePatternSet &patterns) {
  patterns
      .add<ReducePattern<kop::ReduceSumOp, Kind::Sum>,
           ReducePattern<kop::ReduceMeanOp, Kind::Mean>,
           ReducePattern<kop::ReduceMaxOp, Kind::Max>,
           ReducePattern<kop::ReduceMinOp, Kind::Min>,
           ReducePattern<kop::ReduceProdOp, Kind::Prod>,
           ReducePattern<kop::ReduceL1Op, Kind::L1>,
           ReducePattern<kop::ReduceL2Op, Kind::L2>,
           ReducePattern<kop::ReduceSumSquareOp, Kind::SumSquare>,
           ReducePattern<kop::ReduceLogSumOp, Kind::LogSum>,
           ReducePattern<kop::ReduceLogSumExpOp, Kind::LogSumExp>,
           ArgPattern<kop::ArgMaxOp, true>, ArgPattern<kop::ArgMinOp, false>,
           SoftmaxPattern<kop::SoftmaxOp, false>,
           SoftmaxPattern<kop::LogSoftmaxOp, true>>(patterns.getContext());
}
