//===- TensorOps.cpp - lowering of more onnx ops -------------------------===//
//
// The ops of OnnxTensorOps.td. Most become one linalg.generic over the
// result whose body finds its source with linalg.index: by position
// (Trilu, EyeLike, OneHot), or reading with tensor.extract at computed
// coordinates (GatherElements, Pad's reflect/edge/wrap modes).
// DepthToSpace and SpaceToDepth are a reshape, a transpose and a reshape;
// CumSum is a triangular reduction; Hardmax an ArgMax then a comparison;
// ScatterElements writes into a fresh copy of data in an scf.for nest.
// Indices read at run time are clamped into range, so an invalid model
// never reads or writes out of bounds.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;
using utils::IteratorType;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value indexAt(OpBuilder &b, Location loc, int64_t dim) {
  return linalg::IndexOp::create(b, loc, dim);
}
Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// An index read from a tensor, as `index`: negative values count from
/// `dim`, then the result is clamped into [0, dim).
/// The same, for a dim known at run time (an index value).
Value normalizeIndex(OpBuilder &b, Location l, Value idx, Value dim) {
  Type it = idx.getType();
  Value zero = scalarConstant(b, l, it, 0);
  Value n = arith::IndexCastOp::create(b, l, it, dim);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, idx, zero);
  idx = arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, idx, n),
                                idx);
  idx = arith::MinSIOp::create(
      b, l, idx, arith::SubIOp::create(b, l, n, scalarConstant(b, l, it, 1)));
  idx = arith::MaxSIOp::create(b, l, idx, zero);
  return arith::IndexCastOp::create(b, l, b.getIndexType(), idx);
}

Value normalizeIndex(OpBuilder &b, Location l, Value idx, int64_t dim) {
  Type it = idx.getType();
  Value zero = scalarConstant(b, l, it, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, idx, zero);
  idx = arith::SelectOp::create(
      b, l, neg,
      arith::AddIOp::create(b, l, idx, scalarConstant(b, l, it, dim)), idx);
  idx = arith::MaxSIOp::create(b, l, idx, zero);
  idx = arith::MinSIOp::create(b, l, idx, scalarConstant(b, l, it, dim - 1));
  return arith::IndexCastOp::create(b, l, b.getIndexType(), idx);
}

/// Replaces `op` by a tensor.empty when its result has no elements.
bool replaceIfEmpty(Operation *op, PatternRewriter &rewriter) {
  auto type = staticResultType(op);
  if (!type || type.getNumElements() != 0)
    return false;
  rewriter.replaceOp(op, emptyTensor(rewriter, op->getLoc(), type));
  return true;
}

/// The map from `rank` loop dimensions to all of them but `axis`.
AffineMap droppedMap(MLIRContext *ctx, int64_t rank, int64_t axis) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

RankedTensorType droppedType(RankedTensorType t, int64_t axis, Type elem) {
  SmallVector<int64_t> shape(t.getShape());
  shape.erase(shape.begin() + axis);
  return RankedTensorType::get(shape, elem);
}

//===----------------------------------------------------------------------===//
// CastLike, EyeLike, Trilu
//===----------------------------------------------------------------------===//

struct CastLikePattern : OnnxPattern<kop::CastLikeOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::CastLikeOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (op.getInput().getType() == type) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    if (replaceIfEmpty(op, rewriter))
      return success();
    Type to = type.getElementType();
    rewriter.replaceOp(
        op, buildElementwise(rewriter, op.getLoc(), op.getInput(), type,
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return convertScalar(b, l, a[0], to);
                             }));
    return success();
  }
};

/// EyeLike: out[i, j] = (j - i == k).
struct EyeLikePattern : OnnxPattern<kop::EyeLikeOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::EyeLikeOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "result is not 2-D");
    if (replaceIfEmpty(op, rewriter))
      return success();
    int64_t k = op.getK();
    Type elem = type.getElementType();
    // The input only gives the (dynamic) sizes; its values are not read.
    SmallVector<Value> sizeFrom;
    if (!type.hasStaticShape())
      sizeFrom.push_back(op.getInput());
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), sizeFrom, type,
                [&](OpBuilder &b, Location l, ValueRange) -> Value {
                  Value shifted = arith::AddIOp::create(b, l, indexAt(b, l, 0),
                                                        indexConst(b, l, k));
                  Value on =
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                            indexAt(b, l, 1), shifted);
                  return arith::SelectOp::create(b, l, on,
                                                 scalarConstant(b, l, elem, 1),
                                                 scalarConstant(b, l, elem, 0));
                }));
    return success();
  }
};

/// Trilu: keeps x[..., i, j] where j - i >= k (upper) or <= k (lower). `k`
/// is read at run time, so it need not be a constant.
struct TriluPattern : OnnxPattern<kop::TriluOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::TriluOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank < 2)
      return rewriter.notifyMatchFailure(op, "rank is below 2");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    Value k = isNone(op.getK()) ? scalarConstant(rewriter, loc, i64, 0)
                                : extractElement(rewriter, loc, op.getK());
    auto pred =
        op.getUpper() ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle;
    Type elem = type.getElementType();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, loc, op.getInput(), type,
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  auto at = [&](int64_t d) -> Value {
                    return arith::IndexCastOp::create(b, l, i64,
                                                      indexAt(b, l, d));
                  };
                  // Named first: argument evaluation order differs between
                  // compilers.
                  Value row = at(rank - 2);
                  Value col = at(rank - 1);
                  Value diff = arith::SubIOp::create(b, l, col, row);
                  Value keep = arith::CmpIOp::create(b, l, pred, diff, k);
                  return arith::SelectOp::create(b, l, keep, a[0],
                                                 scalarConstant(b, l, elem, 0));
                }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// GatherElements, ScatterElements, OneHot
//===----------------------------------------------------------------------===//

/// Indices must fit inside data in every dimension but the axis.
bool indicesFit(RankedTensorType data, RankedTensorType indices, int64_t axis) {
  if (data.getRank() != indices.getRank())
    return false;
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (d != axis && !indices.isDynamicDim(d) && !data.isDynamicDim(d) &&
        indices.getDimSize(d) > data.getDimSize(d))
      return false;
  return true;
}

/// GatherElements: out[p] = data[p with p[axis] = indices[p]].
struct GatherElementsPattern : OnnxPattern<kop::GatherElementsOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::GatherElementsOp op,
                      PatternRewriter &rewriter) const override {
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    auto type = cast<RankedTensorType>(op.getType());
    auto axisOr = kop::normalizeAxis(op.getAxis(), dataType.getRank());
    if (!axisOr)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    int64_t axis = *axisOr, rank = type.getRank();
    if (!indicesFit(dataType, idxType, axis) ||
        type.getShape() != idxType.getShape())
      return rewriter.notifyMatchFailure(op, "indices do not fit the data");
    if (replaceIfEmpty(op, rewriter))
      return success();
    int64_t dim = dataType.getDimSize(axis);
    if (dim == 0)
      return rewriter.notifyMatchFailure(op, "gathering from an empty axis");
    Value data = op.getData();
    checkIndices(rewriter, op.getLoc(), op, op.getIndices(), data, {axis});
    Value dynDim = dataType.isDynamicDim(axis)
                       ? (Value)tensor::DimOp::create(rewriter, op.getLoc(),
                                                      data, axis)
                       : Value();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), op.getIndices(), type,
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  SmallVector<Value> coords;
                  for (int64_t d = 0; d < rank; ++d)
                    coords.push_back(
                        d != axis ? indexAt(b, l, d)
                        : dynDim  ? normalizeIndex(b, l, a[0], dynDim)
                                  : normalizeIndex(b, l, a[0], dim));
                  return tensor::ExtractOp::create(b, l, data, coords);
                }));
    return success();
  }
};

/// ScatterElements and Scatter: a fresh copy of data (never the caller's
/// buffer), then one tensor.insert per index in an scf.for nest, in index
/// order, so repeated indices reduce (or the last one wins) as the spec
/// says.
template <typename OpTy> struct ScatterPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    auto updType = cast<RankedTensorType>(op.getUpdates().getType());
    auto axisOr = kop::normalizeAxis(op.getAxis(), dataType.getRank());
    if (!axisOr)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    int64_t axis = *axisOr, rank = dataType.getRank();
    if (!indicesFit(dataType, idxType, axis) ||
        idxType.getShape() != updType.getShape())
      return rewriter.notifyMatchFailure(op, "indices do not fit the data");
    if (op.getType() != dataType)
      return rewriter.notifyMatchFailure(op, "result type differs from data");
    auto reductionAttr = op->template getAttrOfType<StringAttr>("reduction");
    StringRef reduction = reductionAttr ? reductionAttr.getValue() : "none";
    if (idxType.hasStaticShape() && idxType.getNumElements() == 0) {
      rewriter.replaceOp(op, op.getData());
      return success();
    }
    int64_t dim = dataType.getDimSize(axis);
    if (dim == 0)
      return rewriter.notifyMatchFailure(op, "scattering into an empty axis");
    Location loc = op.getLoc();
    checkIndices(rewriter, loc, op, op.getIndices(), op.getData(), {axis});
    Value dynDim = dataType.isDynamicDim(axis)
                       ? (Value)tensor::DimOp::create(rewriter, loc,
                                                      op.getData(), axis)
                       : Value();
    Value init = bufferization::AllocTensorOp::create(
        rewriter, loc, dataType, ValueRange{}, op.getData());
    SmallVector<Value> lbs(rank, indexConst(rewriter, loc, 0)),
        steps(rank, indexConst(rewriter, loc, 1)), ubs;
    for (auto [d, size] : llvm::enumerate(idxType.getShape()))
      ubs.push_back(ShapedType::isDynamic(size)
                        ? (Value)tensor::DimOp::create(rewriter, loc,
                                                       op.getIndices(), d)
                        : indexConst(rewriter, loc, size));
    Value indices = op.getIndices(), updates = op.getUpdates();
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{init},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange args) -> scf::ValueVector {
          Value idx = tensor::ExtractOp::create(b, l, indices, ivs);
          Value upd = tensor::ExtractOp::create(b, l, updates, ivs);
          SmallVector<Value> coords(ivs.begin(), ivs.end());
          coords[axis] = dynDim ? normalizeIndex(b, l, idx, dynDim)
                                : normalizeIndex(b, l, idx, dim);
          if (reduction != "none") {
            Value old = tensor::ExtractOp::create(b, l, args[0], coords);
            bool f = isF(upd);
            if (reduction == "add")
              upd = addV(b, l, old, upd);
            else if (reduction == "mul")
              upd = f ? (Value)arith::MulFOp::create(b, l, old, upd)
                      : (Value)arith::MulIOp::create(b, l, old, upd);
            else if (reduction == "max")
              upd = f ? (Value)arith::MaximumFOp::create(b, l, old, upd)
                      : (Value)arith::MaxSIOp::create(b, l, old, upd);
            else
              upd = f ? (Value)arith::MinimumFOp::create(b, l, old, upd)
                      : (Value)arith::MinSIOp::create(b, l, old, upd);
          }
          return {
              tensor::InsertOp::create(b, l, upd, args[0], coords).getResult()};
        });
    rewriter.replaceOp(op, nest.results.front());
    return success();
  }
};

/// The data coordinates of index tuple `tuple` (the leading coords of
/// indices, without its last dim): `batch` leading coords, then the k
/// entries of the tuple, normalized against data's dims.
SmallVector<Value> tupleCoords(OpBuilder &b, Location l, Value data,
                               Value indices, ArrayRef<Value> tuple,
                               int64_t batch, int64_t k) {
  auto dataType = cast<RankedTensorType>(data.getType());
  SmallVector<Value> coords(tuple.take_front(batch));
  SmallVector<Value> at(tuple);
  at.push_back(Value());
  for (int64_t t = 0; t < k; ++t) {
    at.back() = indexConst(b, l, t);
    Value idx = tensor::ExtractOp::create(b, l, indices, at);
    int64_t d = batch + t;
    coords.push_back(
        dataType.isDynamicDim(d)
            ? normalizeIndex(b, l, idx, tensor::DimOp::create(b, l, data, d))
            : normalizeIndex(b, l, idx, dataType.getDimSize(d)));
  }
  return coords;
}

/// GatherND: one generic over the result; each element reads its index
/// tuple, then data at the tuple followed by the trailing coords.
struct GatherNDPattern : OnnxPattern<kop::GatherNDOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::GatherNDOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    int64_t k = idxType.getShape().back(), batch = op.getBatchDims();
    int64_t q = idxType.getRank() - 1;
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices();
    SmallVector<int64_t> tupleDims;
    for (int64_t t = 0; t < k; ++t)
      tupleDims.push_back(batch + t);
    checkIndices(rewriter, loc, op, indices, data, tupleDims);
    Value y = generateTensor(
        rewriter, loc, type,
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
          SmallVector<Value> coords = tupleCoords(
              b, l, data, indices, SmallVector<Value>(ivs.take_front(q)),
              batch, k);
          llvm::append_range(coords, ivs.drop_front(q));
          return tensor::ExtractOp::create(b, l, data, coords);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// ScatterND: a fresh copy of data, then one tensor.insert per element of
/// updates in an scf.for nest, in order (repeated tuples: the last wins, or
/// the reduction combines).
struct ScatterNDPattern : OnnxPattern<kop::ScatterNDOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::ScatterNDOp op,
                      PatternRewriter &rewriter) const override {
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    auto updType = cast<RankedTensorType>(op.getUpdates().getType());
    int64_t k = idxType.getShape().back(), q = idxType.getRank() - 1;
    if (updType.getNumElements() == 0) {
      rewriter.replaceOp(op, op.getData());
      return success();
    }
    Location loc = op.getLoc();
    StringRef reduction = op.getReduction();
    checkIndices(rewriter, loc, op, op.getIndices(), op.getData(),
                 llvm::to_vector(llvm::seq<int64_t>(0, k)));
    Value init = bufferization::AllocTensorOp::create(
        rewriter, loc, dataType, ValueRange{}, op.getData());
    SmallVector<Value> lbs(updType.getRank(), indexConst(rewriter, loc, 0)),
        steps(updType.getRank(), indexConst(rewriter, loc, 1)), ubs;
    for (int64_t size : updType.getShape())
      ubs.push_back(indexConst(rewriter, loc, size));
    Value data = op.getData(), indices = op.getIndices(),
          updates = op.getUpdates();
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{init},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange args) -> scf::ValueVector {
          SmallVector<Value> coords = tupleCoords(
              b, l, data, indices, SmallVector<Value>(ivs.take_front(q)), 0, k);
          llvm::append_range(coords, ivs.drop_front(q));
          Value upd = tensor::ExtractOp::create(b, l, updates, ivs);
          if (reduction != "none")
            upd = scatterCombine(
                b, l, reduction,
                tensor::ExtractOp::create(b, l, args[0], coords), upd);
          return {
              tensor::InsertOp::create(b, l, upd, args[0], coords).getResult()};
        });
    rewriter.replaceOp(op, nest.results.front());
    return success();
  }
};

/// ReverseSequence: one generic over the result; element (b, t, ...) reads
/// t' = len[b] - 1 - t where t < len[b], else t.
struct ReverseSequencePattern : OnnxPattern<kop::ReverseSequenceOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::ReverseSequenceOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (replaceIfEmpty(op, rewriter))
      return success();
    int64_t bAxis = op.getBatchAxis(), tAxis = op.getTimeAxis();
    int64_t steps = type.getDimSize(tAxis);
    Value input = op.getInput(), lens = op.getSequenceLens();
    Location loc = op.getLoc();
    Value y = generateTensor(
        rewriter, loc, type,
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
          SmallVector<Value> coords(ivs);
          Value len = tensor::ExtractOp::create(b, l, lens, coords[bAxis]);
          len = arith::IndexCastOp::create(b, l, b.getIndexType(), len);
          len = arith::MinSIOp::create(
              b, l, arith::MaxSIOp::create(b, l, len, indexConst(b, l, 0)),
              indexConst(b, l, steps));
          Value t = coords[tAxis];
          Value inside =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, t, len);
          Value flipped = arith::SubIOp::create(
              b, l, arith::SubIOp::create(b, l, len, indexConst(b, l, 1)), t);
          coords[tAxis] = arith::SelectOp::create(b, l, inside, flipped, t);
          return tensor::ExtractOp::create(b, l, input, coords);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// OneHot: out[p] = values[1] where p[axis] is the index at p without
/// axis, values[0] elsewhere. The depth is the result's dimension.
struct OneHotPattern : OnnxPattern<kop::OneHotOp> {
  using OnnxPattern::OnnxPattern;
  /// A depth read at run time: the result's dims are derived dims.
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::OneHotOp op,
                      PatternRewriter &rewriter) const override {
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    auto valType = cast<RankedTensorType>(op.getValues().getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto axisOr = kop::normalizeAxis(op.getAxis(), rank);
    if (!axisOr || rank != idxType.getRank() + 1)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    if (valType.getNumElements() != 2)
      return rewriter.notifyMatchFailure(op, "values must hold two elements");
    int64_t axis = *axisOr;
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    Value depth; // index, where known at run time only
    if (!type.hasStaticShape()) {
      auto derived = derivedSizes(op, type);
      if (!derived)
        return rewriter.notifyMatchFailure(op, "a depth not derived");
      sizes = *derived;
      if (type.isDynamicDim(axis))
        depth = sizes[type.getDynamicDimIndex(axis)];
    } else if (replaceIfEmpty(op, rewriter)) {
      return success();
    }
    Value off = extractElement(rewriter, loc, op.getValues(), 0);
    Value on = extractElement(rewriter, loc, op.getValues(), 1);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps{droppedMap(ctx, rank, axis),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    Type i64 = rewriter.getI64Type();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{op.getIndices()},
        ValueRange{emptyTensor(rewriter, loc, type, sizes)}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value idx = convertScalar(b, l, args[0], i64);
          Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                            idx, scalarConstant(b, l, i64, 0));
          idx = arith::SelectOp::create(
              b, l, neg,
              arith::AddIOp::create(
                  b, l, idx,
                  depth ? (Value)arith::IndexCastOp::create(b, l, i64, depth)
                        : scalarConstant(b, l, i64, type.getDimSize(axis))),
              idx);
          Value at = arith::IndexCastOp::create(b, l, i64, indexAt(b, l, axis));
          Value hot =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx, at);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::SelectOp::create(b, l, hot, on, off)});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// CumSum, Hardmax
//===----------------------------------------------------------------------===//

/// out[.., i, ..] = sum of x[.., k, ..] over k <= i (k < i when exclusive;
/// k >= i, k > i when reverse): one generic whose extra last loop dimension,
/// a reduction, is k.
Value buildCumSum(OpBuilder &b, Location loc, Value x, int64_t axis,
                  bool exclusive, bool reverse) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t d = 0; d < rank; ++d) {
    inExprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
    outExprs.push_back(getAffineDimExpr(d, ctx));
  }
  SmallVector<AffineMap> maps{AffineMap::get(rank + 1, 0, inExprs, ctx),
                              AffineMap::get(rank + 1, 0, outExprs, ctx)};
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  iters.push_back(IteratorType::reduction);
  Type elem = type.getElementType();
  Value init = filledTensor(b, loc, type, scalarConstant(b, loc, elem, 0),
                            dimsOf(b, loc, type, x));
  auto pred =
      reverse
          ? (exclusive ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::uge)
          : (exclusive ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{x}, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        // Named first: argument evaluation order differs between compilers.
        Value i = indexAt(nb, l, axis);
        Value k = indexAt(nb, l, rank);
        Value counts = arith::CmpIOp::create(nb, l, pred, k, i);
        Value term = arith::SelectOp::create(nb, l, counts, args[0],
                                             scalarConstant(nb, l, elem, 0));
        linalg::YieldOp::create(nb, l, ValueRange{addV(nb, l, args[1], term)});
      });
  return generic.getResult(0);
}

/// CumSum. A constant axis gives one scan; an axis known only at run time
/// gives one scan per axis and an elementwise pick among them.
struct CumSumPattern : OnnxPattern<kop::CumSumOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::CumSumOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank == 0)
      return rewriter.notifyMatchFailure(op, "rank is 0");
    if (op.getX().getType() != type)
      return rewriter.notifyMatchFailure(op, "result type differs from x");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    auto scan = [&](int64_t axis) {
      return buildCumSum(rewriter, loc, op.getX(), axis, exclusive, reverse);
    };
    std::optional<int64_t> axis;
    if (rank == 1)
      axis = 0;
    else if (auto c = constantInts(op.getAxis()); c && c->size() == 1)
      axis = kop::normalizeAxis(c->front(), rank);
    if (axis) {
      rewriter.replaceOp(op, scan(*axis));
      return success();
    }
    if (constantInts(op.getAxis()))
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    SmallVector<Value> scans;
    for (int64_t a = 0; a < rank; ++a)
      scans.push_back(scan(a));
    Type i64 = rewriter.getI64Type();
    Value given = convertScalar(
        rewriter, loc, extractElement(rewriter, loc, op.getAxis()), i64);
    Value neg =
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, given,
                              scalarConstant(rewriter, loc, i64, 0));
    given = arith::SelectOp::create(
        rewriter, loc, neg,
        arith::AddIOp::create(rewriter, loc, given,
                              scalarConstant(rewriter, loc, i64, rank)),
        given);
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, loc, scans, type,
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  Value picked = a[rank - 1];
                  for (int64_t d = rank - 2; d >= 0; --d) {
                    Value is = arith::CmpIOp::create(
                        b, l, arith::CmpIPredicate::eq, given,
                        scalarConstant(b, l, i64, d));
                    picked = arith::SelectOp::create(b, l, is, a[d], picked);
                  }
                  return picked;
                }));
    return success();
  }
};

/// Hardmax: the index of the first largest element along the axis (as
/// ArgMax), then 1 there and 0 elsewhere. Before opset 13 the input is
/// first reshaped to 2-D at the axis.
struct HardmaxPattern : OnnxPattern<kop::HardmaxOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::HardmaxOp op,
                      PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    Type elem = xt.getElementType();
    if (!isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    int64_t rank = xt.getRank();
    bool coerced2D;
    int64_t axis = kop::getSoftmaxAxis(op, rank, coerced2D);
    if (rank == 0 || axis < 0 || axis >= rank)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    RankedTensorType work = xt;
    SmallVector<ReassociationIndices> groups;
    if (coerced2D) {
      // [d0 .. axis), [axis .. rank): a collapse, undone at the end.
      groups.resize(2);
      for (int64_t d = 0; d < rank; ++d)
        groups[d < axis ? 0 : 1].push_back(d);
      if (axis == 0)
        groups[0].clear();
      x = axis == 0
              ? (Value)tensor::ExpandShapeOp::create(
                    rewriter, loc,
                    RankedTensorType::get(
                        {1, xt.hasStaticShape() ? xt.getNumElements()
                                                : ShapedType::kDynamic},
                        elem),
                    tensor::CollapseShapeOp::create(rewriter, loc, x,
                                                    SmallVector<ReassociationIndices>{groups[1]}),
                    SmallVector<ReassociationIndices>{{0, 1}})
              : (Value)tensor::CollapseShapeOp::create(rewriter, loc, x, groups);
      work = cast<RankedTensorType>(x.getType());
      axis = 1;
      rank = 2;
    }
    MLIRContext *ctx = rewriter.getContext();
    Type i64 = rewriter.getI64Type();
    auto valType = droppedType(work, axis, elem);
    auto idxType = droppedType(work, axis, i64);
    SmallVector<int64_t> kept;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        kept.push_back(d);
    SmallVector<Value> sizes = dimsOf(rewriter, loc, valType, x, kept);
    Value valInit = filledTensor(rewriter, loc, valType,
                                 lowestValue(rewriter, loc, elem), sizes);
    Value idxInit = filledTensor(rewriter, loc, idxType,
                                 scalarConstant(rewriter, loc, i64, 0), sizes);
    AffineMap dropped = droppedMap(ctx, rank, axis);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters[axis] = IteratorType::reduction;
    auto argmax = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valType, idxType}, ValueRange{x},
        ValueRange{valInit, idxInit},
        SmallVector<AffineMap>{identity, dropped, dropped}, iters,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value idx =
              arith::IndexCastOp::create(b, l, i64, indexAt(b, l, axis));
          // Strictly greater keeps the first maximum; the first element
          // always counts, so a row of -inf or NaN still picks index 0.
          Value better = arith::OrIOp::create(
              b, l,
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a[0],
                                    a[1]),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx,
                                    scalarConstant(b, l, i64, 0)));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, better, a[0], a[1]),
                         arith::SelectOp::create(b, l, better, idx, a[2])});
        });
    SmallVector<IteratorType> parallel(rank, IteratorType::parallel);
    auto hard = linalg::GenericOp::create(
        rewriter, loc, TypeRange{work}, ValueRange{argmax.getResult(1)},
        ValueRange{emptyTensor(rewriter, loc, work, dimsOf(rewriter, loc, work, x))},
        SmallVector<AffineMap>{dropped, identity}, parallel,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value idx =
              arith::IndexCastOp::create(b, l, i64, indexAt(b, l, axis));
          Value hit =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx, a[0]);
          linalg::YieldOp::create(b, l,
                                  ValueRange{arith::SelectOp::create(
                                      b, l, hit, scalarConstant(b, l, elem, 1),
                                      scalarConstant(b, l, elem, 0))});
        });
    Value result = hard.getResult(0);
    if (coerced2D && xt.hasStaticShape()) {
      result = reshapeTensor(rewriter, loc, result, xt);
    } else if (coerced2D) {
      // Back to x's shape, its dims as they were.
      SmallVector<OpFoldResult> sizes;
      for (int64_t d = 0; d < xt.getRank(); ++d)
        sizes.push_back(xt.isDynamicDim(d)
                            ? OpFoldResult(tensor::DimOp::create(
                                               rewriter, loc, op.getInput(), d)
                                               .getResult())
                            : OpFoldResult(rewriter.getIndexAttr(xt.getDimSize(d))));
      SmallVector<ReassociationIndices> all(1);
      for (int64_t d = 0; d < xt.getRank(); ++d)
        all[0].push_back(d);
      Value flat = tensor::CollapseShapeOp::create(
          rewriter, loc, result, SmallVector<ReassociationIndices>{{0, 1}});
      result = xt.getRank() == 1
                   ? (Value)tensor::CastOp::create(rewriter, loc, xt, flat)
                   : (Value)tensor::ExpandShapeOp::create(rewriter, loc, xt,
                                                          flat, all, sizes);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// DepthToSpace, SpaceToDepth
//===----------------------------------------------------------------------===//

/// expand_shape to `expanded`, transpose by `perm`, collapse_shape to the
/// result type.
Value shuffleBlocks(OpBuilder &b, Location loc, Value x,
                    ArrayRef<OpFoldResult> expanded,
                    ArrayRef<ReassociationIndices> expandRe,
                    ArrayRef<int64_t> perm, RankedTensorType resultType,
                    ArrayRef<ReassociationIndices> collapseRe) {
  Type elem = resultType.getElementType();
  SmallVector<int64_t> shape;
  SmallVector<Value> dynSizes;
  for (OpFoldResult s : expanded)
    shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
  auto expType = RankedTensorType::get(shape, elem);
  Value e = tensor::ExpandShapeOp::create(b, loc, expType, x, expandRe,
                                          expanded);
  SmallVector<int64_t> permuted;
  for (int64_t p : perm) {
    permuted.push_back(shape[p]);
    if (ShapedType::isDynamic(shape[p]))
      dynSizes.push_back(cast<Value>(expanded[p]));
  }
  Value init =
      emptyTensor(b, loc, RankedTensorType::get(permuted, elem), dynSizes);
  Value t = linalg::TransposeOp::create(b, loc, e, init, perm)->getResult(0);
  return tensor::CollapseShapeOp::create(b, loc, resultType, t, collapseRe);
}

/// Dim `d` of `x`, and that divided (or multiplied) by `f`, as sizes.
OpFoldResult dimOf(OpBuilder &b, Location loc, Value x, int64_t d) {
  auto t = cast<RankedTensorType>(x.getType());
  if (!t.isDynamicDim(d))
    return b.getIndexAttr(t.getDimSize(d));
  return tensor::DimOp::create(b, loc, x, d).getResult();
}
OpFoldResult divided(OpBuilder &b, Location loc, OpFoldResult v, int64_t f) {
  if (auto c = getConstantIntValue(v))
    return b.getIndexAttr(*c / f);
  return arith::DivUIOp::create(b, loc, cast<Value>(v), indexConst(b, loc, f))
      .getResult();
}

/// The dims of a shape op's result as expected from its input: `dyn` where
/// a dim is dynamic.
bool matchesShape(RankedTensorType type, ArrayRef<OpFoldResult> expected) {
  for (auto [d, e] : llvm::enumerate(expected)) {
    auto c = getConstantIntValue(e);
    if (c ? type.isDynamicDim(d) || type.getDimSize(d) != *c
          : !type.isDynamicDim(d))
      return false;
  }
  return true;
}

/// DepthToSpace: N x C x H x W viewed as N x b x b x C' x H x W (DCR) or
/// N x C' x b x b x H x W (CRD), permuted to N x C' x H x b x W x b.
struct DepthToSpacePattern : OnnxPattern<kop::DepthToSpaceOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::DepthToSpaceOp op,
                      PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t b = op.getBlocksize();
    if (xt.getRank() != 4 || b < 1 ||
        (!xt.isDynamicDim(1) && xt.getDimSize(1) % (b * b) != 0))
      return rewriter.notifyMatchFailure(op, "input does not split in blocks");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    OpFoldResult n = dimOf(rewriter, loc, x, 0),
                 c = divided(rewriter, loc, dimOf(rewriter, loc, x, 1), b * b),
                 h = dimOf(rewriter, loc, x, 2), w = dimOf(rewriter, loc, x, 3);
    auto times = [&](OpFoldResult v) -> OpFoldResult {
      if (auto k = getConstantIntValue(v))
        return rewriter.getIndexAttr(*k * b);
      return arith::MulIOp::create(rewriter, loc, cast<Value>(v),
                                   indexConst(rewriter, loc, b))
          .getResult();
    };
    if (!matchesShape(type, {n, c, times(h), times(w)}))
      return rewriter.notifyMatchFailure(op, "result type differs");
    OpFoldResult bb = rewriter.getIndexAttr(b);
    bool dcr = op.getMode() == "DCR";
    SmallVector<OpFoldResult> expanded =
        dcr ? SmallVector<OpFoldResult>{n, bb, bb, c, h, w}
            : SmallVector<OpFoldResult>{n, c, bb, bb, h, w};
    SmallVector<int64_t> perm = dcr ? SmallVector<int64_t>{0, 3, 4, 1, 5, 2}
                                    : SmallVector<int64_t>{0, 1, 4, 2, 5, 3};
    rewriter.replaceOp(op, shuffleBlocks(rewriter, loc, x, expanded,
                                         {{0}, {1, 2, 3}, {4}, {5}}, perm,
                                         type, {{0}, {1}, {2, 3}, {4, 5}}));
    return success();
  }
};

/// SpaceToDepth: N x C x H x W viewed as N x C x H' x b x W' x b, permuted
/// to N x b x b x C x H' x W'.
struct SpaceToDepthPattern : OnnxPattern<kop::SpaceToDepthOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::SpaceToDepthOp op,
                      PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t b = op.getBlocksize();
    if (xt.getRank() != 4 || b < 1 ||
        (!xt.isDynamicDim(2) && xt.getDimSize(2) % b != 0) ||
        (!xt.isDynamicDim(3) && xt.getDimSize(3) % b != 0))
      return rewriter.notifyMatchFailure(op, "input does not split in blocks");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    OpFoldResult n = dimOf(rewriter, loc, x, 0), c = dimOf(rewriter, loc, x, 1),
                 h = divided(rewriter, loc, dimOf(rewriter, loc, x, 2), b),
                 w = divided(rewriter, loc, dimOf(rewriter, loc, x, 3), b);
    OpFoldResult cbb =
        getConstantIntValue(c)
            ? OpFoldResult(rewriter.getIndexAttr(*getConstantIntValue(c) * b * b))
            : OpFoldResult(arith::MulIOp::create(rewriter, loc, cast<Value>(c),
                                                 indexConst(rewriter, loc, b * b))
                               .getResult());
    if (!matchesShape(type, {n, cbb, h, w}))
      return rewriter.notifyMatchFailure(op, "result type differs");
    OpFoldResult bb = rewriter.getIndexAttr(b);
    rewriter.replaceOp(op, shuffleBlocks(rewriter, loc, x, {n, c, h, bb, w, bb},
                                         {{0}, {1}, {2, 3}, {4, 5}},
                                         {0, 3, 5, 1, 2, 4}, type,
                                         {{0}, {1, 2, 3}, {4}, {5}}));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

/// The source position along one dimension of size `n` for result position
/// `i` in reflect, edge or wrap mode, with `low` elements added in front.
/// `n`: the input's size along the dim (an index value, maybe known only at
/// run time; a size of 1 reflects to itself, the period is then at least 1).
Value padSource(OpBuilder &b, Location l, StringRef mode, Value i, Value low,
                Value n) {
  auto c = [&](int64_t v) { return indexConst(b, l, v); };
  Value j = arith::SubIOp::create(b, l, i, low);
  std::optional<int64_t> fixed = getConstantIntValue(n);
  Value last = fixed ? c(*fixed - 1) : arith::SubIOp::create(b, l, n, c(1));
  auto clamp = [&](Value v) -> Value {
    return arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, v, c(0)),
                                  last);
  };
  if (mode == "edge" || getConstantIntValue(n) == 1)
    return clamp(j);
  if (mode == "wrap") {
    Value r = arith::RemSIOp::create(b, l, j, n);
    Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r, c(0));
    return arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, r, n),
                                   r);
  }
  // reflect: period 2(n - 1), mirrored in its second half.
  Value period =
      fixed ? c(2 * (*fixed - 1))
            : arith::MaxSIOp::create(
                  b, l, arith::MulIOp::create(b, l, last, c(2)), c(1));
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, j, c(0));
  j = arith::SelectOp::create(b, l, neg, arith::SubIOp::create(b, l, c(0), j),
                              j);
  j = arith::RemSIOp::create(b, l, j, period);
  Value back = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, j, n);
  j = arith::SelectOp::create(b, l, back,
                              arith::SubIOp::create(b, l, period, j), j);
  return clamp(j);
}

/// Pad. Constant mode crops negative pads with extract_slice and pads with
/// tensor.pad; the other modes are one generic reading the input at the
/// reflected, clamped or wrapped position.
struct PadPattern : OnnxPattern<kop::PadOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  /// Pads read at run time: the result's dims are derived dims, and one
  /// generic reads the input at the position the mode gives (the constant
  /// outside it in constant mode).
  LogicalResult lowerDerived(kop::PadOp op, PatternRewriter &rewriter,
                             ArrayRef<Value> outSizes) const {
    Value x = op.getData();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    auto padsType = dyn_cast<RankedTensorType>(op.getPadsInput().getType());
    int64_t rank = xt.getRank();
    if (!padsType || !padsType.hasStaticShape() ||
        padsType.getNumElements() != 2 * rank)
      return rewriter.notifyMatchFailure(op, "pads of another length");
    for (int64_t d = 0; d < rank; ++d)
      if (xt.getDimSize(d) == 0)
        return rewriter.notifyMatchFailure(op, "padding an empty dimension");
    Location loc = op.getLoc();
    SmallVector<Value> low, inSizes;
    for (int64_t d = 0; d < rank; ++d) {
      low.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(),
          extractElement(rewriter, loc, op.getPadsInput(), d)));
      inSizes.push_back(
          xt.isDynamicDim(d)
              ? (Value)tensor::DimOp::create(rewriter, loc, x, d)
              : (Value)indexConst(rewriter, loc, xt.getDimSize(d)));
    }
    Value init = emptyTensor(rewriter, loc, type, outSizes);
    StringRef mode = op.getMode();
    if (mode != "constant") {
      rewriter.replaceOp(
          op, gatherByCoords(rewriter, loc, type, init, x,
                             [&](OpBuilder &b, Location l, int64_t d, Value i) {
                               return padSource(b, l, mode, i, low[d],
                                                inSizes[d]);
                             }));
      return success();
    }
    Type elem = xt.getElementType();
    Value value =
        !isNone(op.getConstantValue())
            ? extractElement(rewriter, loc, op.getConstantValue())
            : scalarConstant(rewriter, loc, elem,
                             op.getValue() ? op.getValue()->convertToDouble()
                                           : 0.0);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<IteratorType>(rank, IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          Value inside;
          SmallVector<Value> at;
          Value zero = indexConst(b, l, 0);
          for (int64_t d = 0; d < rank; ++d) {
            Value j = arith::SubIOp::create(b, l, indexAt(b, l, d), low[d]);
            Value in = arith::AndIOp::create(
                b, l,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, j, zero),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, j,
                                      inSizes[d]));
            inside = inside ? arith::AndIOp::create(b, l, inside, in) : in;
            Value last = arith::SubIOp::create(b, l, inSizes[d],
                                               indexConst(b, l, 1));
            at.push_back(arith::MaxSIOp::create(
                b, l, arith::MinSIOp::create(b, l, j, last), zero));
          }
          Value v = tensor::ExtractOp::create(b, l, x, at);
          if (inside)
            v = arith::SelectOp::create(b, l, inside, v, value);
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  LogicalResult lower(kop::PadOp op, PatternRewriter &rewriter) const override {
    Value x = op.getData();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = xt.getRank();
    if (auto derived = derivedSizes(op, type))
      return lowerDerived(op, rewriter, *derived);
    SmallVector<int64_t> low, high;
    if (auto err = kop::resolvePads(op, rank, low, high, constantInts))
      return rewriter.notifyMatchFailure(op, *err);
    for (int64_t d = 0; d < rank; ++d)
      if (xt.isDynamicDim(d) != type.isDynamicDim(d) ||
          (!xt.isDynamicDim(d) &&
           xt.getDimSize(d) + low[d] + high[d] != type.getDimSize(d)))
        return rewriter.notifyMatchFailure(op, "result type differs from pads");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    // The input's sizes (values where dynamic) and the result's dynamic ones.
    SmallVector<Value> inSizes, outSizes;
    for (int64_t d = 0; d < rank; ++d) {
      inSizes.push_back(
          xt.isDynamicDim(d)
              ? (Value)tensor::DimOp::create(rewriter, loc, x, d)
              : (Value)indexConst(rewriter, loc, xt.getDimSize(d)));
      if (type.isDynamicDim(d))
        outSizes.push_back(arith::AddIOp::create(
            rewriter, loc, inSizes.back(),
            indexConst(rewriter, loc, low[d] + high[d])));
    }
    Type elem = xt.getElementType();
    StringRef mode = op.getMode();
    if (mode == "constant") {
      Value value;
      if (!isNone(op.getConstantValue()))
        value = extractElement(rewriter, loc, op.getConstantValue());
      else
        value = scalarConstant(rewriter, loc, elem,
                               op.getValue() ? op.getValue()->convertToDouble()
                                             : 0.0);
      SmallVector<OpFoldResult> offsets, sizes, strides;
      bool crop = false;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t lo = std::min<int64_t>(low[d], 0),
                hi = std::min<int64_t>(high[d], 0);
        crop |= lo < 0 || hi < 0;
        offsets.push_back(rewriter.getIndexAttr(-lo));
        sizes.push_back(
            xt.isDynamicDim(d)
                ? OpFoldResult(arith::AddIOp::create(rewriter, loc, inSizes[d],
                                                     indexConst(rewriter, loc,
                                                                lo + hi))
                                   .getResult())
                : OpFoldResult(rewriter.getIndexAttr(xt.getDimSize(d) + lo + hi)));
        strides.push_back(rewriter.getIndexAttr(1));
        low[d] -= lo;
        high[d] -= hi;
      }
      if (crop)
        x = tensor::ExtractSliceOp::create(rewriter, loc, x, offsets, sizes,
                                           strides);
      rewriter.replaceOp(op, padTensor(rewriter, loc, x, low, high, value));
      return success();
    }
    for (int64_t d = 0; d < rank; ++d)
      if (xt.getDimSize(d) == 0)
        return rewriter.notifyMatchFailure(op, "padding an empty dimension");
    Value init = emptyTensor(rewriter, loc, type, outSizes);
    rewriter.replaceOp(
        op, gatherByCoords(rewriter, loc, type, init, x,
                           [&](OpBuilder &b, Location l, int64_t d, Value i) {
                             return low[d] == 0 && high[d] == 0
                                        ? i
                                        : padSource(b, l, mode, i,
                                                    indexConst(b, l, low[d]),
                                                    inSizes[d]);
                           }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// TopK, Compress, NonZero: sizes that depend on the values
//===----------------------------------------------------------------------===//

/// The 1-D bool or number tensor `c` as int64 zeros and ones.
Value asOnes(OpBuilder &b, Location loc, Value c) {
  auto ct = cast<RankedTensorType>(c.getType());
  auto type = RankedTensorType::get(ct.getShape(), b.getI64Type());
  return buildElementwise(b, loc, c, type,
                          [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                            Value v = a[0];
                            Value nonzero =
                                isF(v) ? (Value)arith::CmpFOp::create(
                                             nb, l, arith::CmpFPredicate::UNE,
                                             v, cst(nb, l, v, 0))
                                       : (Value)arith::CmpIOp::create(
                                             nb, l, arith::CmpIPredicate::ne,
                                             v, cst(nb, l, v, 0));
                            return arith::ExtUIOp::create(nb, l,
                                                          nb.getI64Type(),
                                                          nonzero);
                          });
}

/// The number of ones in the 1-D int64 tensor `ones`, as an index no larger
/// than `bound` (the size a buffer is planned for).
Value countOnes(OpBuilder &b, Location loc, Value ones, Value bound) {
  MLIRContext *ctx = b.getContext();
  auto zeroD = RankedTensorType::get({}, b.getI64Type());
  Value init = filledTensor(b, loc, zeroD, scalarConstant(b, loc, b.getI64Type(), 0));
  auto sum = linalg::GenericOp::create(
      b, loc, TypeRange{zeroD}, ValueRange{ones}, ValueRange{init},
      SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(1, ctx),
                             AffineMap::get(1, 0, {}, ctx)},
      SmallVector<IteratorType>{IteratorType::reduction},
      [](OpBuilder &nb, Location l, ValueRange a) {
        linalg::YieldOp::create(nb, l,
                                ValueRange{arith::AddIOp::create(nb, l, a[0], a[1])});
      });
  Value n = tensor::ExtractOp::create(b, loc, sum.getResult(0), ValueRange{});
  n = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
  return arith::MinSIOp::create(b, loc, n, bound);
}

/// TopK: each element's rank along the axis (how many come before it:
/// larger, or equal at a lower index), then output j is the element of
/// rank j. Quadratic in the axis' length; the values and indices come out
/// sorted. k known at run time only is a derived dim.
struct TopKPattern : OnnxPattern<kop::TopKOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::TopKOp op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    auto vt = cast<RankedTensorType>(op.getValues().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    int64_t rank = xt.getRank();
    auto axisOr = kop::normalizeAxis(op.getAxis(), rank);
    if (!axisOr || vt.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    int64_t axis = *axisOr;
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<Value> outSizes;
    if (auto derived = derivedSizes(op, vt)) {
      outSizes = *derived;
    } else {
      for (int64_t d = 0; d < rank; ++d) {
        if (!vt.isDynamicDim(d))
          continue;
        if (d == axis)
          return rewriter.notifyMatchFailure(op, "k is neither a constant nor "
                                                 "a derived dim");
        outSizes.push_back(tensor::DimOp::create(rewriter, loc, x, d));
      }
    }
    Type i64 = rewriter.getI64Type();
    bool largest = op.getLargest() != 0;
    Value ranks = rankAlong(rewriter, loc, x, axis, largest);
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters.push_back(IteratorType::reduction);
    // out[.., j, ..] = the element of rank j, and its index
    Type elem = xt.getElementType();
    Value initV = filledTensor(rewriter, loc, vt,
                               scalarConstant(rewriter, loc, elem, 0), outSizes);
    Value initI = filledTensor(rewriter, loc, it,
                               scalarConstant(rewriter, loc, i64, 0), outSizes);
    auto pick = linalg::GenericOp::create(
        rewriter, loc, TypeRange{vt, it},
        ValueRange{ranks, x}, ValueRange{initV, initI},
        SmallVector<AffineMap>{axisFromLast(ctx, rank, axis),
                               axisFromLast(ctx, rank, axis),
                               leadingDims(ctx, rank), leadingDims(ctx, rank)},
        iters, [&](OpBuilder &b, Location l, ValueRange a) {
          Value j = arith::IndexCastOp::create(b, l, i64, indexAt(b, l, axis));
          Value hit =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[0], j);
          Value i = arith::IndexCastOp::create(b, l, i64, indexAt(b, l, rank));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, hit, a[1], a[2]),
                         arith::SelectOp::create(b, l, hit, i, a[3])});
        });
    rewriter.replaceOp(op, pick.getResults());
    return success();
  }
};

/// Compress: an entry's place in the result is the number of true entries
/// before it (an exclusive running sum of the condition); the result's
/// size, the number of true entries, is known at run time only and
/// clamped to the input's (its bound).
struct CompressPattern : OnnxPattern<kop::CompressOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::CompressOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t axis = 0;
    if (auto a = op.getAxis()) {
      auto n = kop::normalizeAxis(*a, xt.getRank());
      if (!n)
        return rewriter.notifyMatchFailure(op, "axis is out of range");
      axis = *n;
    } else {
      if (xt.getRank() == 0)
        return rewriter.notifyMatchFailure(op, "a scalar input");
      SmallVector<ReassociationIndices> all(1);
      for (int64_t d = 0; d < xt.getRank(); ++d)
        all[0].push_back(d);
      x = tensor::CollapseShapeOp::create(rewriter, loc, x, all);
      xt = cast<RankedTensorType>(x.getType());
    }
    int64_t rank = xt.getRank();
    if (type.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "result rank differs");
    // Only the first min(len(condition), n) entries count.
    Value cond = op.getCondition();
    Value n = tensor::DimOp::create(rewriter, loc, x, axis);
    Value len = tensor::DimOp::create(rewriter, loc, cond, 0);
    Value m = arith::MinSIOp::create(rewriter, loc, n, len);
    auto slice1D = [&](Value v) -> Value {
      return tensor::ExtractSliceOp::create(
          rewriter, loc, v, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{m},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    };
    Value ones = asOnes(rewriter, loc, slice1D(cond));
    Value before = buildCumSum(rewriter, loc, ones, 0, /*exclusive=*/true,
                               /*reverse=*/false);
    Value count = countOnes(rewriter, loc, ones, n);
    // x along the axis cut to m entries
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
        sizes, strides(rank, rewriter.getIndexAttr(1));
    for (int64_t d = 0; d < rank; ++d)
      sizes.push_back(d == axis ? OpFoldResult(m)
                                : tensor::getMixedSize(rewriter, loc, x, d));
    Value xm = tensor::ExtractSliceOp::create(rewriter, loc, x, offsets, sizes,
                                              strides);
    SmallVector<Value> outSizes;
    for (int64_t d = 0; d < rank; ++d)
      if (type.isDynamicDim(d))
        outSizes.push_back(d == axis
                               ? count
                               : (Value)tensor::DimOp::create(rewriter, loc, x, d));
    Type elem = xt.getElementType();
    Value init = filledTensor(rewriter, loc, type,
                              scalarConstant(rewriter, loc, elem, 0), outSizes);
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters.push_back(IteratorType::reduction);
    AffineMap entry = AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, ctx));
    Type i64 = rewriter.getI64Type();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{ones, before, xm},
        ValueRange{init},
        SmallVector<AffineMap>{entry, entry, axisFromLast(ctx, rank, axis),
                               leadingDims(ctx, rank)},
        iters, [&](OpBuilder &b, Location l, ValueRange a) {
          Value j = arith::IndexCastOp::create(b, l, i64, indexAt(b, l, axis));
          Value hit = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[0],
                                    scalarConstant(b, l, i64, 1)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[1], j));
          linalg::YieldOp::create(
              b, l, ValueRange{arith::SelectOp::create(b, l, hit, a[2], a[3])});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// NonZero: over the flattened input, an element's column is the number of
/// nonzero elements before it; row d holds its coordinate along dim d.
struct NonZeroPattern : OnnxPattern<kop::NonZeroOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::NonZeroOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = xt.getRank();
    if (rank == 0 || type.getRank() != 2 || type.getDimSize(0) != rank)
      return rewriter.notifyMatchFailure(op, "a scalar input");
    SmallVector<ReassociationIndices> all(1);
    for (int64_t d = 0; d < rank; ++d)
      all[0].push_back(d);
    Value flat = rank == 1 ? x
                           : (Value)tensor::CollapseShapeOp::create(
                                 rewriter, loc, x, all);
    Value ones = asOnes(rewriter, loc, flat);
    Value before = buildCumSum(rewriter, loc, ones, 0, true, false);
    Value total = tensor::DimOp::create(rewriter, loc, flat, 0);
    Value count = countOnes(rewriter, loc, ones, total);
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(xt.isDynamicDim(d)
                         ? (Value)tensor::DimOp::create(rewriter, loc, x, d)
                         : (Value)indexConst(rewriter, loc, xt.getDimSize(d)));
    Type i64 = rewriter.getI64Type();
    Value init = filledTensor(rewriter, loc, type,
                              scalarConstant(rewriter, loc, i64, 0), {count});
    AffineMap entry = AffineMap::get(3, 0, getAffineDimExpr(2, ctx));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{ones, before},
        ValueRange{init},
        SmallVector<AffineMap>{entry, entry, leadingDims(ctx, 2)},
        SmallVector<IteratorType>{IteratorType::parallel,
                                  IteratorType::parallel,
                                  IteratorType::reduction},
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value j = arith::IndexCastOp::create(b, l, i64, indexAt(b, l, 1));
          Value hit = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[0],
                                    scalarConstant(b, l, i64, 1)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[1], j));
          // The coordinate along the row's dim of flat position i.
          Value i = indexAt(b, l, 2), row = indexAt(b, l, 0);
          Value coord = indexConst(b, l, 0), rest = i;
          for (int64_t d = rank - 1; d >= 0; --d) {
            Value c = arith::RemUIOp::create(b, l, rest, dims[d]);
            rest = arith::DivUIOp::create(b, l, rest, dims[d]);
            Value here = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                               row, indexConst(b, l, d));
            coord = arith::SelectOp::create(b, l, here, c, coord);
          }
          Value v = arith::IndexCastOp::create(b, l, i64, coord);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::SelectOp::create(b, l, hit, v, a[2])});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// Unique, on the input seen as n slices of w elements ([n, w]: the axis
/// moved to the front, the rest flattened; without an axis [N, 1]), pairwise:
/// the first element where slices s and t differ (w where none), so s
/// repeats t when they are equal and s < t in order when s's element there
/// is smaller. A slice is the first of its kind when no earlier one equals
/// it; its place in Y is the number of firsts smaller than it (sorted) or
/// before its first occurrence (not sorted): that is inverse_indices, and Y,
/// indices and counts are reductions over the slices, like Compress's.
/// Quadratic in n; the number of distinct slices is known at run time only
/// and bounded by n.
struct UniquePattern : OnnxPattern<kop::UniqueOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::UniqueOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    if (xt.getRank() == 0 || llvm::is_contained(xt.getShape(), 0))
      return rewriter.notifyMatchFailure(op, "an input of rank >= 1, not empty");
    Type elem = xt.getElementType();
    Type i64 = rewriter.getI64Type();
    int64_t rank = xt.getRank();
    std::optional<int64_t> axis;
    if (auto a = op.getAxis()) {
      axis = kop::normalizeAxis(*a, rank);
      if (!axis)
        return rewriter.notifyMatchFailure(op, "axis is out of range");
    }
    // The [n, w] view: the axis moved to the front and the rest collapsed,
    // or the flattened input as one column.
    Value front = x;
    if (axis && *axis != 0) {
      SmallVector<int64_t> perm{*axis}, shape{xt.getDimSize(*axis)};
      SmallVector<Value> dyn;
      if (xt.isDynamicDim(*axis))
        dyn.push_back(tensor::DimOp::create(rewriter, loc, x, *axis));
      for (int64_t d = 0; d < rank; ++d)
        if (d != *axis) {
          perm.push_back(d);
          shape.push_back(xt.getDimSize(d));
          if (xt.isDynamicDim(d))
            dyn.push_back(tensor::DimOp::create(rewriter, loc, x, d));
        }
      Value init =
          emptyTensor(rewriter, loc, RankedTensorType::get(shape, elem), dyn);
      front = linalg::TransposeOp::create(rewriter, loc, x, init, perm)
                  .getResult()[0];
    }
    auto collapse = [&](Value t, SmallVector<ReassociationIndices> groups) {
      return tensor::CollapseShapeOp::create(rewriter, loc, t, groups)
          .getResult();
    };
    SmallVector<ReassociationIndices> all(1), rest(2);
    for (int64_t d = 0; d < rank; ++d) {
      all[0].push_back(d);
      rest[d == 0 ? 0 : 1].push_back(d);
    }
    Value flat = rank == 1 ? x : collapse(x, all); // [N]
    Value v;
    if (axis && rank > 1) {
      v = collapse(front, rest);
    } else {
      Value column = axis ? front : flat;
      auto ct = cast<RankedTensorType>(column.getType());
      SmallVector<OpFoldResult> outShape{
          tensor::getMixedSize(rewriter, loc, column, 0),
          rewriter.getIndexAttr(1)};
      v = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get({ct.getDimSize(0), 1}, elem), column,
          SmallVector<ReassociationIndices>{{0, 1}}, outShape);
    }
    auto vt = cast<RankedTensorType>(v.getType());
    Value nIdx = tensor::DimOp::create(rewriter, loc, v, 0);
    Value wIdx = tensor::DimOp::create(rewriter, loc, v, 1);
    Value nV = arith::IndexCastOp::create(rewriter, loc, i64, nIdx);
    Value wV = arith::IndexCastOp::create(rewriter, loc, i64, wIdx);
    Value wLast = arith::SubIOp::create(rewriter, loc, wV,
                                        scalarConstant(rewriter, loc, i64, 1));
    auto c = [&](OpBuilder &b, Location l, int64_t k) {
      return scalarConstant(b, l, i64, k);
    };
    auto asI64 = [&](OpBuilder &b, Location l, int64_t dim) -> Value {
      return arith::IndexCastOp::create(b, l, i64, indexAt(b, l, dim));
    };
    auto par = IteratorType::parallel, red = IteratorType::reduction;
    auto reduce = [&](RankedTensorType type, ValueRange ins,
                      ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iters,
                      Value initValue, ValueRange dynSizes,
                      function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
      Value init = filledTensor(rewriter, loc, type, initValue, dynSizes);
      return linalg::GenericOp::create(
                 rewriter, loc, TypeRange{type}, ins, ValueRange{init}, maps,
                 iters,
                 [&](OpBuilder &b, Location l, ValueRange a) {
                   linalg::YieldOp::create(b, l, ValueRange{body(b, l, a)});
                 })
          .getResult(0);
    };
    auto ne = [&](OpBuilder &b, Location l, Value p, Value q) -> Value {
      return isF(p) ? (Value)arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, p, q)
                    : (Value)arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, p, q);
    };
    auto lt = [&](OpBuilder &b, Location l, Value p, Value q) -> Value {
      return isF(p) ? (Value)arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, p, q)
                    : (Value)arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, p, q);
    };
    auto eqI = [&](OpBuilder &b, Location l, Value p, Value q) -> Value {
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, p, q);
    };
    auto sltI = [&](OpBuilder &b, Location l, Value p, Value q) -> Value {
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, p, q);
    };
    int64_t n = vt.getDimSize(0);
    auto nn = RankedTensorType::get({n, n}, i64);
    auto vecN = RankedTensorType::get({n}, i64);
    SmallVector<Value> nnSizes, nSizes;
    if (ShapedType::isDynamic(n)) {
      nnSizes = {nIdx, nIdx};
      nSizes = {nIdx};
    }
    // fd[s, t]: the first k where slices s and t differ, w where none.
    Value fd = reduce(nn, {v, v}, {dimsMap(ctx, 3, {0, 2}), dimsMap(ctx, 3, {1, 2}), dimsMap(ctx, 3, {0, 1})},
                      {par, par, red}, wV, nnSizes,
                      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                        Value cand = arith::SelectOp::create(
                            b, l, ne(b, l, a[0], a[1]), asI64(b, l, 2), wV);
                        return arith::MinSIOp::create(b, l, a[2], cand);
                      });
    // first[s]: 1 unless an earlier slice equals s. f[s]: the first equal one.
    Value first = reduce(vecN, {fd}, {dimsMap(ctx, 2, {0, 1}), dimsMap(ctx, 2, {0})}, {par, red}, c(rewriter, loc, 1), nSizes,
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value dup = arith::AndIOp::create(
                               b, l, eqI(b, l, a[0], wV),
                               sltI(b, l, asI64(b, l, 1), asI64(b, l, 0)));
                           return arith::SelectOp::create(b, l, dup, c(b, l, 0), a[1]);
                         });
    // place[s]: Y's entry for slice s (= inverse_indices).
    Value place;
    if (op.getSorted() != 0) {
      // #{t first : slice t < slice s}
      place = reduce(vecN, {fd, first}, {dimsMap(ctx, 2, {1, 0}), dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})},
                     {par, red}, c(rewriter, loc, 0), nSizes,
                     [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                       Value k = a[0]; // fd[t, s]
                       Value differ = sltI(b, l, k, wV);
                       Value kk = arith::IndexCastOp::create(
                           b, l, b.getIndexType(),
                           arith::MinSIOp::create(b, l, k, wLast));
                       Value tv = tensor::ExtractOp::create(
                           b, l, v, ValueRange{indexAt(b, l, 1), kk});
                       Value sv = tensor::ExtractOp::create(
                           b, l, v, ValueRange{indexAt(b, l, 0), kk});
                       Value smaller = arith::AndIOp::create(
                           b, l, arith::AndIOp::create(b, l, differ, lt(b, l, tv, sv)),
                           eqI(b, l, a[1], c(b, l, 1)));
                       return arith::AddIOp::create(
                           b, l, a[2], arith::ExtUIOp::create(b, l, i64, smaller));
                     });
    } else {
      Value f = reduce(vecN, {fd}, {dimsMap(ctx, 2, {0, 1}), dimsMap(ctx, 2, {0})}, {par, red}, nV, nSizes,
                       [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                         Value same = eqI(b, l, a[0], wV);
                         return arith::MinSIOp::create(
                             b, l, a[1],
                             arith::SelectOp::create(b, l, same, asI64(b, l, 1),
                                                     nV));
                       });
      // #{t first : t < f[s]}
      place = reduce(vecN, {f, first}, {dimsMap(ctx, 2, {0}), dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})},
                     {par, red}, c(rewriter, loc, 0), nSizes,
                     [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                       Value counts = arith::AndIOp::create(
                           b, l, sltI(b, l, asI64(b, l, 1), a[0]),
                           eqI(b, l, a[1], c(b, l, 1)));
                       return arith::AddIOp::create(
                           b, l, a[2], arith::ExtUIOp::create(b, l, i64, counts));
                     });
    }
    Value u = countOnes(rewriter, loc, first, nIdx);
    // Y: slice s at place[s] where s is a first.
    auto yType = cast<RankedTensorType>(op.getY().getType());
    int64_t yAxis = axis ? *axis : 0;
    Value src = axis ? x : flat;
    int64_t yRank = yType.getRank();
    SmallVector<Value> ySizes;
    for (int64_t d = 0; d < yRank; ++d)
      if (yType.isDynamicDim(d))
        ySizes.push_back(d == yAxis ? u
                                    : (Value)tensor::DimOp::create(rewriter,
                                                                   loc, src, d));
    SmallVector<IteratorType> yIters(yRank, par);
    yIters.push_back(red);
    AffineMap slice = dimsMap(ctx, yRank + 1, {yRank});
    Value y = reduce(yType, {first, place, src},
                     {slice, slice, axisFromLast(ctx, yRank, yAxis),
                      leadingDims(ctx, yRank)},
                     yIters, scalarConstant(rewriter, loc, elem, 0), ySizes,
                     [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                       Value hit = arith::AndIOp::create(
                           b, l, eqI(b, l, a[0], c(b, l, 1)),
                           eqI(b, l, a[1], asI64(b, l, yAxis)));
                       return arith::SelectOp::create(b, l, hit, a[2], a[3]);
                     });
    auto vecU = [&](Value r) { return cast<RankedTensorType>(r.getType()); };
    Value indices = reduce(vecU(op.getIndices()), {first, place},
                           {dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})}, {par, red},
                           c(rewriter, loc, 0), {u}, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                             Value hit = arith::AndIOp::create(
                                 b, l, eqI(b, l, a[0], c(b, l, 1)),
                                 eqI(b, l, a[1], asI64(b, l, 0)));
                             return arith::SelectOp::create(b, l, hit,
                                                            asI64(b, l, 1), a[2]);
                           });
    Value counts = reduce(vecU(op.getCounts()), {place},
                          {dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})}, {par, red}, c(rewriter, loc, 0), {u},
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value hit = eqI(b, l, a[0], asI64(b, l, 0));
                            return arith::AddIOp::create(
                                b, l, a[1], arith::ExtUIOp::create(b, l, i64, hit));
                          });
    Value inverse = place;
    if (inverse.getType() != op.getInverseIndices().getType())
      inverse = tensor::CastOp::create(rewriter, loc,
                                       op.getInverseIndices().getType(), inverse);
    rewriter.replaceOp(op, ValueRange{y, indices, inverse, counts});
    return success();
  }
};

} // namespace

void kiln::populateTensorOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<CastLikePattern, EyeLikePattern, TriluPattern,
               GatherElementsPattern, ScatterPattern<kop::ScatterElementsOp>,
               ScatterPattern<kop::ScatterOp>, OneHotPattern, CumSumPattern,
               HardmaxPattern, DepthToSpacePattern, SpaceToDepthPattern,
               PadPattern, TopKPattern, CompressPattern, NonZeroPattern,
               UniquePattern, GatherNDPattern, ScatterNDPattern,
               ReverseSequencePattern>(
      patterns.getContext());
}
