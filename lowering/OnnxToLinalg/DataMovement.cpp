//===- DataMovement.cpp - shape and data movement ops to tensor/linalg ---===//
//
// Constants, reshapes, transposes, slicing, gathering and broadcasting. Ops
// that only change the shape become tensor.collapse_shape/expand_shape (no
// copy after bufferization); contiguous slices become tensor.extract_slice /
// insert_slice; everything else is a linalg.generic whose indexing maps do
// the address arithmetic. Shapes, slice bounds and split sizes come from the
// same helpers shape inference uses (ShapeHelpers.h), so the two agree.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Reshapes a static tensor to `to` (same number of elements) with a single
/// collapse_shape or expand_shape where the shapes allow one, else through
/// the 1-D form. Rank-0 tensors take an empty reassociation.
Value reshapeTo(OpBuilder &b, Location loc, Value v, RankedTensorType to) {
  auto from = cast<RankedTensorType>(v.getType());
  if (from == to)
    return v;
  if (from.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, to, v,
                                         ArrayRef<ReassociationIndices>{});
  if (to.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, to, v,
                                           ArrayRef<ReassociationIndices>{});
  if (from.getRank() != to.getRank())
    if (auto re = getReassociationIndicesForReshape(from, to)) {
      if (from.getRank() > to.getRank())
        return tensor::CollapseShapeOp::create(b, loc, to, v, *re);
      return tensor::ExpandShapeOp::create(b, loc, to, v, *re);
    }
  return reshapeTensor(b, loc, v, to);
}

/// Replaces `op` by a tensor.empty when its result has no elements; the
/// lowerings below then never build loops or slices over empty ranges.
bool replaceIfEmpty(Operation *op, PatternRewriter &rewriter) {
  if (op->getNumResults() != 1)
    return false;
  auto type = staticResultType(op);
  if (!type || type.getNumElements() != 0)
    return false;
  rewriter.replaceOp(op, emptyTensor(rewriter, op->getLoc(), type));
  return true;
}

/// Whether lowering the user of `use` reads the operand through the
/// ShapeHelpers (split sizes, slice bounds, reduction axes), which only see
/// onnx.Constant: that constant must outlive the user.
bool readsConstantOperand(OpOperand &use) {
  Operation *user = use.getOwner();
  unsigned n = use.getOperandNumber();
  if (isa<kop::SplitOp, kop::SliceOp>(user))
    return n >= 1;
  if (user->getName().getStringRef().starts_with("onnx.Reduce"))
    return n == 1;
  return false;
}

/// The elements of a constant operand, whether its onnx.Constant has been
/// lowered to arith.constant yet or not; null when it is not a constant.
DenseElementsAttr constantElements(Value v) {
  Attribute attr;
  if (auto c = v.getDefiningOp<kop::ConstantOp>())
    attr = c.getValue();
  else if (auto c = v.getDefiningOp<arith::ConstantOp>())
    attr = c.getValue();
  return dyn_cast_or_null<DenseElementsAttr>(attr);
}

/// The single value of a one-element constant, as a double.
std::optional<double> constantScalar(Value v) {
  DenseElementsAttr dense = constantElements(v);
  if (!dense || dense.getNumElements() != 1)
    return std::nullopt;
  if (isa<FloatType>(dense.getElementType()))
    return (*dense.getValues<APFloat>().begin()).convertToDouble();
  if (dense.getElementType().isInteger(1))
    return (double)(*dense.getValues<APInt>().begin()).getZExtValue();
  return (double)(*dense.getValues<APInt>().begin()).getSExtValue();
}

//===----------------------------------------------------------------------===//
// Values: Constant, NoValue, Identity, Dropout
//===----------------------------------------------------------------------===//

struct ConstantPattern : OnnxPattern<kop::ConstantOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::ConstantOp op,
                      PatternRewriter &rewriter) const override {
    for (OpOperand &use : op->getUses())
      if (readsConstantOperand(use))
        return rewriter.notifyMatchFailure(
            op, "a user reads the value while it is lowered");
    // Dense or dense_resource alike: the attribute is kept as it is.
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value || value.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "value type differs from result");
    // Weights held as resource blobs become 1-D globals viewed at their
    // shape: LLVM builds a nested constant per dimension otherwise, which
    // costs seconds for a large model.
    auto type = cast<RankedTensorType>(op.getType());
    auto resource = dyn_cast<DenseResourceElementsAttr>(op.getValue());
    if (resource && type.getRank() > 1) {
      auto flatType = RankedTensorType::get({type.getNumElements()},
                                            type.getElementType());
      auto flat = arith::ConstantOp::create(
          rewriter, op.getLoc(),
          DenseResourceElementsAttr::get(flatType, resource.getRawHandle()));
      rewriter.replaceOp(op, reshapeTensor(rewriter, op.getLoc(), flat, type));
      return success();
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

struct NoValuePattern : OpRewritePattern<kop::NoValueOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::NoValueOp op,
                                PatternRewriter &rewriter) const override {
    if (!op->use_empty())
      return rewriter.notifyMatchFailure(op, "still used");
    rewriter.eraseOp(op);
    return success();
  }
};

struct IdentityPattern : OnnxPattern<kop::IdentityOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::IdentityOp op,
                      PatternRewriter &rewriter) const override {
    if (op.getX().getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "result type differs from input");
    rewriter.replaceOp(op, op.getX());
    return success();
  }
};

/// Inference Dropout: the output is the input, the mask all true.
struct DropoutPattern : OnnxPattern<kop::DropoutOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::DropoutOp op,
                      PatternRewriter &rewriter) const override {
    Value training = op.getTrainingMode();
    if (!isa<NoneType>(training.getType())) {
      auto mode = constantScalar(training);
      if (!mode)
        return rewriter.notifyMatchFailure(op,
                                           "training_mode is not a constant");
      if (*mode != 0.0) {
        std::optional<double> ratio = 0.5;
        if (!isa<NoneType>(op.getRatio().getType()))
          ratio = constantScalar(op.getRatio());
        if (!ratio || *ratio != 0.0)
          return rewriter.notifyMatchFailure(
              op, "training mode with a nonzero ratio is random");
      }
    }
    if (op.getData().getType() != op.getOutput().getType())
      return rewriter.notifyMatchFailure(op, "result type differs from input");
    Value mask;
    if (!op.getMask().use_empty()) {
      auto maskType = cast<RankedTensorType>(op.getMask().getType());
      if (!maskType.getElementType().isInteger(1))
        return rewriter.notifyMatchFailure(op, "mask is not a bool tensor");
      mask = maskType.hasStaticShape()
                 ? (Value)arith::ConstantOp::create(
                       rewriter, op.getLoc(),
                       DenseElementsAttr::get(maskType,
                                              rewriter.getBoolAttr(true)))
                 : filledTensor(rewriter, op.getLoc(), maskType,
                                arith::ConstantIntOp::create(
                                    rewriter, op.getLoc(), 1, 1),
                                dimsOf(rewriter, op.getLoc(), maskType,
                                       op.getData()));
    }
    rewriter.replaceOp(op, {op.getData(), mask});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reshapes: Reshape, Flatten, Squeeze, Unsqueeze
//===----------------------------------------------------------------------===//

/// An op whose result is its first operand with another static shape.
template <typename OpTy> struct ReshapeLikePattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    Value input = op->getOperand(0);
    auto from = cast<RankedTensorType>(input.getType());
    auto to = cast<RankedTensorType>(op->getResult(0).getType());
    if (!from.hasStaticShape() || !to.hasStaticShape())
      return lowerDynamic(op, rewriter, input, from, to);
    if (from.getNumElements() != to.getNumElements() ||
        from.getElementType() != to.getElementType())
      return rewriter.notifyMatchFailure(op, "element counts or types differ");
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), input, to));
    return success();
  }

  /// With dynamic dims: through a 1-D tensor, expanded to the result's
  /// sizes (dynamicSizes). The same elements in the same order.
  LogicalResult lowerDynamic(OpTy op, PatternRewriter &rewriter, Value input,
                             RankedTensorType from,
                             RankedTensorType to) const {
    if (from.getElementType() != to.getElementType() || from.getRank() == 0 ||
        to.getRank() == 0)
      return rewriter.notifyMatchFailure(op, "dynamic reshape of this kind");
    Location loc = op.getLoc();
    // A Reshape between equal dynamic types may still move elements
    // between dims ([2, 3, 4] to [2, 6, 2] as tensor<?x?x?>), and one to a
    // shape read from an input has its sizes from main_graph_dims: neither
    // is a view of the input's dims.
    bool sizesFromShape =
        std::is_same_v<OpTy, kop::ReshapeOp> &&
        ((from == to && !from.hasStaticShape()) || derivedSizes(op, to));
    if (Value direct = sizesFromShape
                           ? Value()
                           : reshapeTensor(rewriter, loc, input, to)) {
      rewriter.replaceOp(op, direct);
      return success();
    }
    SmallVector<ReassociationIndices> all(1);
    for (int64_t i = 0; i < from.getRank(); ++i)
      all[0].push_back(i);
    Value flat = from.getRank() == 1
                     ? input
                     : (Value)tensor::CollapseShapeOp::create(rewriter, loc,
                                                              input, all);
    if (to.hasStaticShape()) {
      // Every dim known: the flat input cast to its count (Kiln's rule: a
      // dynamic dim takes the size the static side needs).
      Value count = tensor::CastOp::create(
          rewriter, loc,
          RankedTensorType::get({to.getNumElements()}, to.getElementType()),
          flat);
      rewriter.replaceOp(op, reshapeTensor(rewriter, loc, count, to));
      return success();
    }
    // Sizes read at run time: the flat input as tensor<?>, which they expand.
    auto runTime = [&](SmallVector<OpFoldResult> found) {
      if (!found.empty() &&
          !cast<RankedTensorType>(flat.getType()).isDynamicDim(0))
        flat = tensor::CastOp::create(
            rewriter, loc,
            RankedTensorType::get({ShapedType::kDynamic}, to.getElementType()),
            flat);
      return found;
    };
    // A shape read from an input: derived dims (main_graph_dims checked
    // that their product is the element count).
    SmallVector<OpFoldResult> sizes;
    if (auto derived = derivedSizes(op, to)) {
      size_t k = 0;
      SmallVector<OpFoldResult> found;
      for (int64_t d = 0; d < to.getRank(); ++d)
        found.push_back(to.isDynamicDim(d)
                            ? OpFoldResult((*derived)[k++])
                            : OpFoldResult(rewriter.getIndexAttr(to.getDimSize(d))));
      sizes = runTime(found);
    } else {
      sizes = dynamicSizes(op, rewriter, loc, input, flat, to);
    }
    if constexpr (std::is_same_v<OpTy, kop::SqueezeOp> ||
                  std::is_same_v<OpTy, kop::UnsqueezeOp>)
      if (sizes.empty() && !isa<NoneType>(op.getAxesInput().getType())) {
        sizes = runTime(runTimeAxesSizes(op, rewriter, loc, input, flat, to));
      }
    if constexpr (std::is_same_v<OpTy, kop::ReshapeOp>)
      if (sizes.empty()) {
        sizes = runTime(runTimeSizes(op, rewriter, loc, input, flat, to));
      }
    if (sizes.empty())
      return rewriter.notifyMatchFailure(
          op, "cannot tell the sizes of the result's dynamic dims");
    // No elements whatever the other dims (a fixed 0): an empty result of
    // those sizes (a view would collapse a fixed 0 with dynamic dims).
    if (llvm::is_contained(from.getShape(), 0)) {
      SmallVector<Value> dyn;
      for (auto [d, size] : llvm::enumerate(sizes))
        if (to.isDynamicDim(d))
          dyn.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, size));
      rewriter.replaceOp(op, emptyTensor(rewriter, loc, to, dyn));
      return success();
    }
    if (to.getRank() == 1) {
      rewriter.replaceOp(op, tensor::CastOp::create(rewriter, loc, to, flat));
      return success();
    }
    SmallVector<ReassociationIndices> out(1);
    for (int64_t i = 0; i < to.getRank(); ++i)
      out[0].push_back(i);
    rewriter.replaceOp(op, tensor::ExpandShapeOp::create(rewriter, loc, to,
                                                         flat, out, sizes));
    return success();
  }

  /// Squeeze / Unsqueeze with axes read at run time: each result dim is 1
  /// where an axis is inserted, else the input dim it keeps (Unsqueeze), or
  /// the input dims left after the squeezed ones (Squeeze). Axes that do not
  /// fit (repeated, out of range) give [count, 1, ...], never a read past
  /// the input.
  SmallVector<OpFoldResult> runTimeAxesSizes(OpTy op,
                                             PatternRewriter &rewriter,
                                             Location loc, Value input,
                                             Value flat,
                                             RankedTensorType to) const {
    auto from = cast<RankedTensorType>(input.getType());
    Value axesIn = op.getAxesInput();
    auto at = dyn_cast<RankedTensorType>(axesIn.getType());
    if (!at || at.getRank() != 1 || at.isDynamicDim(0) ||
        !isa<IntegerType>(at.getElementType()))
      return {};
    constexpr bool unsqueeze = std::is_same_v<OpTy, kop::UnsqueezeOp>;
    int64_t inRank = from.getRank(), outRank = to.getRank(),
            numAxes = at.getDimSize(0);
    if (outRank != (unsqueeze ? inRank + numAxes : inRank - numAxes))
      return {};
    Type i64 = rewriter.getI64Type();
    auto c = [&](int64_t v) {
      return arith::ConstantIntOp::create(rewriter, loc, i64, v).getResult();
    };
    auto sel = [&](Value cond, Value a, Value b) {
      return arith::SelectOp::create(rewriter, loc, cond, a, b).getResult();
    };
    auto eq = [&](Value a, Value b) {
      return arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, a,
                                   b)
          .getResult();
    };
    auto asI64 = [&](Value b1) {
      return arith::ExtUIOp::create(rewriter, loc, i64, b1).getResult();
    };
    int64_t axisRank = unsqueeze ? outRank : inRank;
    SmallVector<Value> axes;
    for (int64_t k = 0; k < numAxes; ++k) {
      Value a = tensor::ExtractOp::create(
          rewriter, loc, axesIn,
          ValueRange{arith::ConstantIndexOp::create(rewriter, loc, k)});
      if (a.getType() != i64)
        a = arith::ExtSIOp::create(rewriter, loc, i64, a);
      a = sel(arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                                    a, c(0)),
              arith::AddIOp::create(rewriter, loc, a, c(axisRank)), a);
      axes.push_back(a);
    }
    SmallVector<Value> in;
    for (int64_t i = 0; i < inRank; ++i)
      in.push_back(arith::IndexCastOp::create(
          rewriter, loc, i64,
          from.isDynamicDim(i)
              ? (Value)tensor::DimOp::create(rewriter, loc, input, i)
              : (Value)arith::ConstantIndexOp::create(rewriter, loc,
                                                      from.getDimSize(i))));
    auto isAxis = [&](int64_t p) {
      Value any = arith::ConstantIntOp::create(rewriter, loc, 0, 1);
      for (Value a : axes)
        any = arith::OrIOp::create(rewriter, loc, any, eq(a, c(p)));
      return any;
    };
    SmallVector<Value> dims;
    if (unsqueeze) {
      for (int64_t p = 0; p < outRank; ++p) {
        // The input dim at p: p less the axes before it.
        Value before = c(0);
        for (Value a : axes)
          before = arith::AddIOp::create(
              rewriter, loc, before,
              asI64(arith::CmpIOp::create(
                  rewriter, loc, arith::CmpIPredicate::slt, a, c(p))));
        Value j = arith::SubIOp::create(rewriter, loc, c(p), before);
        Value dim = c(1);
        for (int64_t i = 0; i < inRank; ++i)
          dim = sel(eq(j, c(i)), in[i], dim);
        dims.push_back(sel(isAxis(p), c(1), dim));
      }
    } else {
      SmallVector<Value> keep, prefix;
      Value kept = c(0);
      for (int64_t i = 0; i < inRank; ++i) {
        Value k = arith::XOrIOp::create(
            rewriter, loc, isAxis(i),
            arith::ConstantIntOp::create(rewriter, loc, 1, 1));
        keep.push_back(k);
        prefix.push_back(kept);
        kept = arith::AddIOp::create(rewriter, loc, kept, asI64(k));
      }
      for (int64_t q = 0; q < outRank; ++q) {
        Value dim = c(1);
        for (int64_t i = 0; i < inRank; ++i)
          dim = sel(arith::AndIOp::create(rewriter, loc, keep[i],
                                          eq(prefix[i], c(q))),
                    in[i], dim);
        dims.push_back(dim);
      }
    }
    Value count = arith::IndexCastOp::create(
        rewriter, loc, i64, tensor::DimOp::create(rewriter, loc, flat, 0));
    Value product = c(1);
    for (Value d : dims)
      product = arith::MulIOp::create(rewriter, loc, product, d);
    Value ok = eq(product, count);
    SmallVector<OpFoldResult> sizes;
    for (auto [p, d] : llvm::enumerate(dims)) {
      Value size = arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(),
          sel(ok, d, p == 0 ? count : c(1)));
      sizes.push_back(to.isDynamicDim(p)
                          ? OpFoldResult(size)
                          : OpFoldResult(rewriter.getIndexAttr(to.getDimSize(p))));
    }
    return sizes;
  }

  /// A Reshape to a shape read at run time (an input): each entry, 0
  /// copying the input's dim (unless allowzero), -1 what the others leave of
  /// the element count, clamped to the count. A shape whose product is not
  /// the count becomes [count, 1, ...], so nothing is read past the input
  /// (the result is then wrong, not undefined: the entry point does not yet
  /// return an error for it).
  SmallVector<OpFoldResult> runTimeSizes(kop::ReshapeOp op,
                                         PatternRewriter &rewriter,
                                         Location loc, Value input, Value flat,
                                         RankedTensorType to) const {
    auto from = cast<RankedTensorType>(input.getType());
    auto st = dyn_cast<RankedTensorType>(op.getShape().getType());
    if (!st || st.getRank() != 1 || st.isDynamicDim(0) ||
        st.getDimSize(0) != to.getRank() ||
        !st.getElementType().isInteger(64))
      return {};
    Type i64 = rewriter.getI64Type();
    auto c = [&](int64_t v) {
      return arith::ConstantIntOp::create(rewriter, loc, i64, v).getResult();
    };
    Value count = arith::IndexCastOp::create(
        rewriter, loc, i64, tensor::DimOp::create(rewriter, loc, flat, 0));
    SmallVector<Value> entries;
    Value known = c(1);
    for (int64_t d = 0; d < to.getRank(); ++d) {
      Value e = tensor::ExtractOp::create(
          rewriter, loc, op.getShape(),
          ValueRange{arith::ConstantIndexOp::create(rewriter, loc, d)});
      if (!op.getAllowzero() && d < from.getRank()) {
        Value in = arith::IndexCastOp::create(
            rewriter, loc, i64, tensor::DimOp::create(rewriter, loc, input, d));
        e = arith::SelectOp::create(
            rewriter, loc,
            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, e,
                                  c(0)),
            in, e);
      }
      Value inferred = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, e, c(-1));
      known = arith::MulIOp::create(
          rewriter, loc, known,
          arith::SelectOp::create(rewriter, loc, inferred, c(1), e));
      entries.push_back(e);
    }
    Value rest = arith::DivSIOp::create(
        rewriter, loc, count,
        arith::MaxSIOp::create(rewriter, loc, known, c(1)));
    Value product = c(1);
    for (Value &e : entries) {
      Value inferred = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, e, c(-1));
      e = arith::SelectOp::create(rewriter, loc, inferred, rest, e);
      e = arith::MinSIOp::create(
          rewriter, loc, arith::MaxSIOp::create(rewriter, loc, e, c(0)), count);
      product = arith::MulIOp::create(rewriter, loc, product, e);
    }
    Value ok = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                     product, count);
    SmallVector<OpFoldResult> sizes;
    for (auto [d, e] : llvm::enumerate(entries)) {
      Value safe = arith::SelectOp::create(rewriter, loc, ok, e,
                                           d == 0 ? count : c(1));
      Value size = arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), safe);
      sizes.push_back(to.isDynamicDim(d)
                          ? OpFoldResult(size)
                          : OpFoldResult(rewriter.getIndexAttr(to.getDimSize(d))));
    }
    return sizes;
  }

  /// The result's sizes: its static dims, and each dynamic one from the
  /// input's dims. Squeeze and Unsqueeze keep the dynamic dims in order;
  /// Flatten multiplies them on each side of the axis; Reshape reads its
  /// shape entries (constants, 0 copying the input dim, a traced Shape
  /// entry). Where that does not tell, one dynamic dim is what the others
  /// leave of the element count. Empty when no rule applies.
  SmallVector<OpFoldResult> dynamicSizes(OpTy op, PatternRewriter &rewriter,
                                         Location loc, Value input, Value flat,
                                         RankedTensorType to) const {
    auto from = cast<RankedTensorType>(input.getType());
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : to.getShape())
      sizes.push_back(ShapedType::isDynamic(d) ? OpFoldResult()
                                               : rewriter.getIndexAttr(d));
    auto dimOf = [&](int64_t i) -> OpFoldResult {
      if (!from.isDynamicDim(i))
        return rewriter.getIndexAttr(from.getDimSize(i));
      return tensor::DimOp::create(rewriter, loc, input, i).getResult();
    };
    auto product = [&](int64_t begin, int64_t end) -> OpFoldResult {
      Value p = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (int64_t i = begin; i < end; ++i)
        p = rewriter.createOrFold<arith::MulIOp>(
            loc, p, getValueOrCreateConstantIndexOp(rewriter, loc, dimOf(i)));
      return p;
    };
    if constexpr (std::is_same_v<OpTy, kop::SqueezeOp> ||
                  std::is_same_v<OpTy, kop::UnsqueezeOp>) {
      SmallVector<int64_t> dyn;
      for (int64_t i = 0; i < from.getRank(); ++i)
        if (from.isDynamicDim(i))
          dyn.push_back(i);
      if ((int64_t)dyn.size() == to.getNumDynamicDims()) {
        size_t next = 0;
        for (auto [d, size] : llvm::enumerate(sizes))
          if (!size)
            size = dimOf(dyn[next++]);
      }
    } else if constexpr (std::is_same_v<OpTy, kop::FlattenOp>) {
      int64_t axis = op.getAxis(), rank = from.getRank();
      if (axis < 0)
        axis += rank; // [-r, r]: -1 is r - 1
      if (axis >= 0 && axis <= rank && to.getRank() == 2) {
        if (to.isDynamicDim(0))
          sizes[0] = product(0, axis);
        if (to.isDynamicDim(1))
          sizes[1] = product(axis, rank);
      }
    } else if constexpr (std::is_same_v<OpTy, kop::ReshapeOp>) {
      // (a Shape operand already lowered has no entries known here)
      auto entries = kop::getPartialInts(op.getShape());
      if (!entries)
        entries = SmallVector<int64_t>(to.getRank(), ShapedType::kDynamic);
      if ((int64_t)entries->size() == to.getRank())
        for (auto [d, size] : llvm::enumerate(sizes)) {
          if (size)
            continue;
          int64_t e = (*entries)[d];
          if (e == 0 && !op.getAllowzero() && (int64_t)d < from.getRank())
            size = dimOf(d);
          else if (e > 0)
            size = rewriter.getIndexAttr(e);
          else if (auto origin = kop::traceShapeEntry(op.getShape(), d))
            if (Operation *def = origin->first.getDefiningOp();
                def ? def->getBlock() == op->getBlock() &&
                          def->isBeforeInBlock(op)
                    : origin->first.getParentBlock() == op->getBlock())
              size = tensor::DimOp::create(rewriter, loc, origin->first,
                                           origin->second)
                         .getResult();
          // A Shape already lowered: its entry is a size read at run time.
          if (auto elements =
                  op.getShape().template getDefiningOp<tensor::FromElementsOp>();
              !size && elements &&
              elements.getElements().size() == sizes.size()) {
            Value el = elements.getElements()[d];
            while (auto cast = el.getDefiningOp<arith::IndexCastOp>())
              el = cast.getIn();
            if (el.getType().isIndex() && el.getDefiningOp<tensor::DimOp>())
              size = el;
          }
        }
    }
    // One dim left: the element count over the others.
    if (llvm::count_if(sizes, [](OpFoldResult s) { return !s; }) == 1) {
      Value count = tensor::DimOp::create(rewriter, loc, flat, 0);
      Value others = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (OpFoldResult s : sizes)
        if (s)
          others = rewriter.createOrFold<arith::MulIOp>(
              loc, others, getValueOrCreateConstantIndexOp(rewriter, loc, s));
      for (OpFoldResult &s : sizes)
        if (!s)
          s = rewriter.createOrFold<arith::DivUIOp>(loc, count, others);
    }
    if (llvm::any_of(sizes, [](OpFoldResult s) { return !s; }))
      return {};
    return sizes;
  }
};

//===----------------------------------------------------------------------===//
// Transpose, Concat, Split, Slice
//===----------------------------------------------------------------------===//

struct TransposePattern : OnnxPattern<kop::TransposeOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::TransposeOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    SmallVector<int64_t> perm;
    if (auto p = op.getPerm())
      perm.assign(p->begin(), p->end());
    else
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    if ((int64_t)perm.size() != rank)
      return rewriter.notifyMatchFailure(op, "perm length differs from rank");
    if (llvm::equal(perm, llvm::seq<int64_t>(0, rank))) {
      rewriter.replaceOp(op, op.getData());
      return success();
    }
    Value init = emptyTensor(rewriter, op.getLoc(), type,
                             dimsOf(rewriter, op.getLoc(), type, op.getData(),
                                    perm));
    rewriter.replaceOp(op, linalg::TransposeOp::create(rewriter, op.getLoc(),
                                                       op.getData(), init, perm)
                               ->getResult(0));
    return success();
  }
};

/// Concat: each input is inserted into an empty result at its offset.
struct ConcatPattern : OnnxPattern<kop::ConcatOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::ConcatOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape() ||
        llvm::any_of(op.getInputs(), [](Value in) {
          return !cast<RankedTensorType>(in.getType()).hasStaticShape();
        }))
      return lowerDynamic(op, rewriter);
    return lowerStatic(op, rewriter);
  }

  /// With dynamic dims: the sizes off the axis from the first input dynamic
  /// there (Kiln's rule: they agree), the axis the sum of the inputs'.
  LogicalResult lowerDynamic(kop::ConcatOp op,
                             PatternRewriter &rewriter) const {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto axis = kop::normalizeAxis((int64_t)op.getAxis(), rank);
    if (!axis)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    Location loc = op.getLoc();
    auto dimOf = [&](Value v, int64_t d) -> OpFoldResult {
      auto t = cast<RankedTensorType>(v.getType());
      if (!t.isDynamicDim(d))
        return rewriter.getIndexAttr(t.getDimSize(d));
      return tensor::DimOp::create(rewriter, loc, v, d).getResult();
    };
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
        strides(rank, rewriter.getIndexAttr(1));
    SmallVector<SmallVector<OpFoldResult>> inSizes;
    for (Value in : op.getInputs()) {
      auto inType = cast<RankedTensorType>(in.getType());
      if (inType.getElementType() != type.getElementType() ||
          inType.getRank() != rank)
        return rewriter.notifyMatchFailure(op, "element types or ranks differ");
      SmallVector<OpFoldResult> s;
      for (int64_t d = 0; d < rank; ++d)
        s.push_back(dimOf(in, d));
      inSizes.push_back(s);
    }
    SmallVector<Value> dynSizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!type.isDynamicDim(d))
        continue;
      if (d == *axis) {
        Value sum = arith::ConstantIndexOp::create(rewriter, loc, 0);
        for (auto &s : inSizes)
          sum = rewriter.createOrFold<arith::AddIOp>(
              loc, sum, getValueOrCreateConstantIndexOp(rewriter, loc, s[d]));
        dynSizes.push_back(sum);
        continue;
      }
      Value size;
      for (auto [in, s] : llvm::zip(op.getInputs(), inSizes))
        if (cast<RankedTensorType>(in.getType()).isDynamicDim(d)) {
          size = cast<Value>(s[d]);
          break;
        }
      if (!size)
        return rewriter.notifyMatchFailure(op, "no input gives a dynamic dim");
      dynSizes.push_back(size);
    }
    Value result = emptyTensor(rewriter, loc, type, dynSizes);
    // Off the axis every input covers the result's dims (sizes from the
    // result, so that static and dynamic inputs agree with it).
    Value offset = arith::ConstantIndexOp::create(rewriter, loc, 0);
    for (auto [in, s] : llvm::zip(op.getInputs(), inSizes)) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(d == *axis ? s[d] : dimOf(result, d));
      offsets[*axis] = offset;
      Value cast = in;
      auto sliceType = tensor::ExtractSliceOp::inferResultType(type, sizes);
      if (sliceType != in.getType())
        cast = tensor::CastOp::create(rewriter, loc, sliceType, in);
      result = tensor::InsertSliceOp::create(rewriter, loc, cast, result,
                                             offsets, sizes, strides);
      offset = rewriter.createOrFold<arith::AddIOp>(
          loc, offset, getValueOrCreateConstantIndexOp(rewriter, loc, s[*axis]));
    }
    rewriter.replaceOp(op, result);
    return success();
  }

  LogicalResult lowerStatic(kop::ConcatOp op,
                            PatternRewriter &rewriter) const {
    auto type = cast<RankedTensorType>(op.getType());
    auto axis = kop::normalizeAxis((int64_t)op.getAxis(), type.getRank());
    if (!axis)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    if (op.getInputs().size() == 1 &&
        op.getInputs().front().getType() == type) {
      rewriter.replaceOp(op, op.getInputs().front());
      return success();
    }
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    Value result = emptyTensor(rewriter, loc, type);
    SmallVector<int64_t> offsets(type.getRank(), 0), strides(type.getRank(), 1);
    for (Value in : op.getInputs()) {
      auto inType = cast<RankedTensorType>(in.getType());
      if (inType.getElementType() != type.getElementType())
        return rewriter.notifyMatchFailure(op, "element types differ");
      if (inType.getNumElements() == 0)
        continue;
      result = tensor::InsertSliceOp::create(
          rewriter, loc, in, result, indexAttrs(rewriter, offsets),
          indexAttrs(rewriter, inType.getShape()),
          indexAttrs(rewriter, strides));
      offsets[*axis] += inType.getDimSize(*axis);
    }
    if (offsets[*axis] != type.getDimSize(*axis))
      return rewriter.notifyMatchFailure(op, "input sizes do not add up");
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Split: one extract_slice per result.
struct SplitPattern : OnnxPattern<kop::SplitOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::SplitOp op,
                      PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto axis = kop::normalizeAxis((int64_t)op.getAxis(), inType.getRank());
    if (!axis)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    SmallVector<int64_t> sizes;
    if (auto err = kop::resolveSplitSizes(op, inType.getDimSize(*axis), sizes))
      return rewriter.notifyMatchFailure(op, *err);
    Location loc = op.getLoc();
    if (inType.isDynamicDim(*axis) ||
        llvm::any_of(sizes, ShapedType::isDynamic))
      return lowerDynamicAxis(op, rewriter, *axis, sizes);
    SmallVector<int64_t> offsets(inType.getRank(), 0),
        strides(inType.getRank(), 1);
    SmallVector<Value> results;
    for (auto [result, size] : llvm::zip_equal(op.getResults(), sizes)) {
      auto type = cast<RankedTensorType>(result.getType());
      if (type.getDimSize(*axis) != size)
        return rewriter.notifyMatchFailure(op,
                                           "result type differs from split");
      if (!type.hasStaticShape()) {
        // Dynamic dims other than the axis: taken whole.
        SmallVector<OpFoldResult> sizes;
        for (int64_t d = 0; d < type.getRank(); ++d)
          sizes.push_back(type.isDynamicDim(d)
                              ? OpFoldResult(tensor::DimOp::create(
                                                 rewriter, loc, op.getInput(), d)
                                                 .getResult())
                              : OpFoldResult(rewriter.getIndexAttr(
                                    type.getDimSize(d))));
        results.push_back(tensor::ExtractSliceOp::create(
            rewriter, loc, type, op.getInput(), indexAttrs(rewriter, offsets),
            sizes, indexAttrs(rewriter, strides)));
      } else if (type.getNumElements() == 0)
        results.push_back(emptyTensor(rewriter, loc, type));
      else
        results.push_back(tensor::ExtractSliceOp::create(
            rewriter, loc, type, op.getInput(), indexAttrs(rewriter, offsets),
            indexAttrs(rewriter, type.getShape()),
            indexAttrs(rewriter, strides)));
      offsets[*axis] += size;
    }
    rewriter.replaceOp(op, results);
    return success();
  }

  /// A dynamic axis: the given sizes in order, or parts of ceil(n / parts)
  /// (kDynamic sizes: an equal split), each clamped to what is left.
  LogicalResult lowerDynamicAxis(kop::SplitOp op, PatternRewriter &rewriter,
                                 int64_t axis, ArrayRef<int64_t> given) const {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t rank = inType.getRank(), parts = op.getNumResults();
    Value n = inType.isDynamicDim(axis)
                  ? (Value)tensor::DimOp::create(rewriter, loc, input, axis)
                  : (Value)arith::ConstantIndexOp::create(
                        rewriter, loc, inType.getDimSize(axis));
    auto c = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    Value chunk = arith::CeilDivSIOp::create(rewriter, loc, n, c(parts));
    // Sizes read at run time (the split input): each clamped to what is
    // left of the axis, in order.
    Value splitIn = op.getSplitInput();
    bool runTime = !isa<NoneType>(splitIn.getType()) &&
                   !constantInts(splitIn);
    Value taken = c(0);
    SmallVector<Value> results;
    int64_t fixedOffset = 0;
    for (auto [i, result] : llvm::enumerate(op.getResults())) {
      auto type = cast<RankedTensorType>(result.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
          sizes, strides(rank, rewriter.getIndexAttr(1));
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(
            inType.isDynamicDim(d)
                ? OpFoldResult(
                      tensor::DimOp::create(rewriter, loc, input, d).getResult())
                : OpFoldResult(rewriter.getIndexAttr(inType.getDimSize(d))));
      if (runTime) {
        Value e = tensor::ExtractOp::create(rewriter, loc, splitIn,
                                            ValueRange{c(i)});
        e = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                       e);
        // min(max(e, 0), n) first: a bound for kiln-plan-arena.
        Value size = arith::MinSIOp::create(
            rewriter, loc, arith::MaxSIOp::create(rewriter, loc, e, c(0)), n);
        size = arith::MinSIOp::create(
            rewriter, loc, size, arith::SubIOp::create(rewriter, loc, n, taken));
        offsets[axis] = taken;
        sizes[axis] = size;
        taken = arith::AddIOp::create(rewriter, loc, taken, size);
      } else if (ShapedType::isDynamic(given[i])) {
        Value start = arith::MinSIOp::create(
            rewriter, loc, arith::MulIOp::create(rewriter, loc, chunk, c(i)), n);
        Value left = arith::SubIOp::create(rewriter, loc, n, start);
        offsets[axis] = start;
        sizes[axis] =
            arith::MinSIOp::create(rewriter, loc, left, chunk).getResult();
      } else {
        offsets[axis] = rewriter.getIndexAttr(fixedOffset);
        sizes[axis] = rewriter.getIndexAttr(given[i]);
        fixedOffset += given[i];
      }
      auto sliceType = tensor::ExtractSliceOp::inferResultType(inType, sizes);
      Value slice = tensor::ExtractSliceOp::create(rewriter, loc, sliceType,
                                                   input, offsets, sizes,
                                                   strides);
      if (sliceType != type)
        slice = tensor::CastOp::create(rewriter, loc, type, slice);
      results.push_back(slice);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// One axis of a Slice whose parameters are read at run time: the i-th
/// entry of starts/ends/axes/steps (axes and steps may be none).
struct RunTimeSliceEntry {
  Value start, end, axis, step; // i64
};

/// Slice: an extract_slice when every step is positive; otherwise a generic
/// reading input[start + i * step] along each axis.
struct SlicePattern : OnnxPattern<kop::SliceOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::SliceOp op,
                      PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getData().getType());
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> starts, ends, axes, steps;
    if (!inType.hasStaticShape() || !type.hasStaticShape())
      return lowerDynamic(op, rewriter, inType, type);
    if (auto err = kop::getSliceParams(op, inType.getRank(), starts, ends, axes,
                                       steps))
      return rewriter.notifyMatchFailure(op, *err);
    SmallVector<kop::SliceAxis> slice;
    if (auto err = kop::computeSlice(inType.getShape(), starts, ends, axes,
                                     steps, slice))
      return rewriter.notifyMatchFailure(op, *err);
    for (auto [axis, dim] : llvm::zip_equal(slice, type.getShape()))
      if (axis.size != dim)
        return rewriter.notifyMatchFailure(op,
                                           "result type differs from slice");
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    if (llvm::all_of(slice,
                     [](const kop::SliceAxis &a) { return a.step > 0; })) {
      if (type == inType) {
        rewriter.replaceOp(op, op.getData());
        return success();
      }
      auto field = [&](auto get) {
        return llvm::map_to_vector(slice, [&](const kop::SliceAxis &a) {
          return (OpFoldResult)rewriter.getIndexAttr(get(a));
        });
      };
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          op, type, op.getData(),
          field([](const kop::SliceAxis &a) { return a.start; }),
          field([](const kop::SliceAxis &a) { return a.size; }),
          field([](const kop::SliceAxis &a) { return a.step; }));
      return success();
    }
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i)
      exprs.push_back(getAffineConstantExpr(slice[i].start, ctx) +
                      getAffineDimExpr(i, ctx) * slice[i].step);
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, exprs, ctx),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{op.getData()},
        ValueRange{emptyTensor(rewriter, loc, type)}, maps, iters,
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  /// Dynamic dims the slice leaves whole, and forward slices of static dims,
  /// their ends known at compile time or read at run time (x[:, :n] with n
  /// from a shape), each size clamped to the dim.
  /// starts, ends, axes and steps read at run time: per dim of the input,
  /// the entry whose axis it is (the last one, as entries should not
  /// repeat an axis) gives start, step and size with the spec's clamping;
  /// one generic reads input[start + i * step]. Every size is at most the
  /// input's dim.
  LogicalResult lowerRunTime(kop::SliceOp op, PatternRewriter &rewriter,
                             RankedTensorType inType,
                             RankedTensorType type) const {
    Location loc = op.getLoc();
    int64_t rank = inType.getRank();
    auto entriesOf = [](Value v) -> int64_t {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      return t && t.getRank() == 1 && !t.isDynamicDim(0) &&
                     isa<IntegerType>(t.getElementType())
                 ? t.getDimSize(0)
                 : -1;
    };
    if (op.getStartsAttrAttr() || type.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "slice attributes of this kind");
    int64_t count = entriesOf(op.getStarts());
    bool hasAxes = !isa<NoneType>(op.getAxesInput().getType()),
         hasSteps = !isa<NoneType>(op.getSteps().getType());
    if (count < 0 || entriesOf(op.getEnds()) != count ||
        (hasAxes && entriesOf(op.getAxesInput()) != count) ||
        (hasSteps && entriesOf(op.getSteps()) != count))
      return rewriter.notifyMatchFailure(op, "starts/ends/axes/steps shapes");
    Type i64 = rewriter.getI64Type();
    auto c = [&](int64_t v) {
      return arith::ConstantIntOp::create(rewriter, loc, i64, v).getResult();
    };
    auto read = [&](Value t, int64_t i) -> Value {
      Value v = tensor::ExtractOp::create(
          rewriter, loc, t,
          ValueRange{arith::ConstantIndexOp::create(rewriter, loc, i)});
      if (v.getType() != i64)
        v = arith::ExtSIOp::create(rewriter, loc, i64, v);
      return v;
    };
    auto sel = [&](Value cond, Value a, Value b) {
      return arith::SelectOp::create(rewriter, loc, cond, a, b).getResult();
    };
    auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) {
      return arith::CmpIOp::create(rewriter, loc, p, a, b).getResult();
    };
    auto clamp = [&](Value v, Value lo, Value hi) {
      return arith::MinSIOp::create(
                 rewriter, loc, arith::MaxSIOp::create(rewriter, loc, v, lo), hi)
          .getResult();
    };
    SmallVector<RunTimeSliceEntry> entries;
    for (int64_t i = 0; i < count; ++i) {
      RunTimeSliceEntry e;
      e.start = read(op.getStarts(), i);
      e.end = read(op.getEnds(), i);
      e.axis = hasAxes ? read(op.getAxesInput(), i) : c(i);
      e.axis = sel(cmp(arith::CmpIPredicate::slt, e.axis, c(0)),
                   arith::AddIOp::create(rewriter, loc, e.axis, c(rank)),
                   e.axis);
      e.step = hasSteps ? read(op.getSteps(), i) : c(1);
      e.step = sel(cmp(arith::CmpIPredicate::eq, e.step, c(0)), c(1), e.step);
      entries.push_back(e);
    }
    SmallVector<Value> starts, steps, outSizes;
    SmallVector<Value> dynSizes;
    for (int64_t d = 0; d < rank; ++d) {
      Value n = arith::IndexCastOp::create(
          rewriter, loc, i64,
          inType.isDynamicDim(d)
              ? (Value)tensor::DimOp::create(rewriter, loc, op.getData(), d)
              : (Value)arith::ConstantIndexOp::create(rewriter, loc,
                                                      inType.getDimSize(d)));
      Value start = c(0), step = c(1), size = n;
      for (const RunTimeSliceEntry &e : entries) {
        Value mine = cmp(arith::CmpIPredicate::eq, e.axis, c(d));
        Value up = cmp(arith::CmpIPredicate::sgt, e.step, c(0));
        Value s = sel(cmp(arith::CmpIPredicate::slt, e.start, c(0)),
                      arith::AddIOp::create(rewriter, loc, e.start, n), e.start);
        Value t = sel(cmp(arith::CmpIPredicate::slt, e.end, c(0)),
                      arith::AddIOp::create(rewriter, loc, e.end, n), e.end);
        Value nm1 = arith::SubIOp::create(rewriter, loc, n, c(1));
        s = sel(up, clamp(s, c(0), n), clamp(s, c(0), nm1));
        t = sel(up, clamp(t, c(0), n), clamp(t, c(-1), nm1));
        // ceil((t - s) / step) for either sign of step, at least 0.
        Value span = sel(up, arith::SubIOp::create(rewriter, loc, t, s),
                         arith::SubIOp::create(rewriter, loc, s, t));
        Value mag = sel(up, e.step,
                        arith::SubIOp::create(rewriter, loc, c(0), e.step));
        Value len = arith::CeilDivSIOp::create(
            rewriter, loc, arith::MaxSIOp::create(rewriter, loc, span, c(0)),
            mag);
        start = sel(mine, s, start);
        step = sel(mine, e.step, step);
        size = sel(mine, len, size);
      }
      size = arith::MinSIOp::create(rewriter, loc, size, n); // a bound
      Value idxSize = arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), size);
      if (type.isDynamicDim(d))
        dynSizes.push_back(idxSize);
      starts.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), start));
      steps.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), step));
    }
    Value init = emptyTensor(rewriter, loc, type, dynSizes);
    rewriter.replaceOp(
        op, gatherByCoords(rewriter, loc, type, init, op.getData(),
                           [&](OpBuilder &b, Location l, int64_t d, Value i) {
                             return arith::AddIOp::create(
                                 b, l, starts[d],
                                 arith::MulIOp::create(b, l, i, steps[d]));
                           }));
    return success();
  }

  LogicalResult lowerDynamic(kop::SliceOp op, PatternRewriter &rewriter,
                             RankedTensorType inType,
                             RankedTensorType type) const {
    SmallVector<int64_t> starts, ends, axes, steps;
    if (kop::getSliceParams(op, inType.getRank(), starts, ends, axes, steps,
                            /*runTimeEnds=*/true))
      return lowerRunTime(op, rewriter, inType, type);
    int64_t rank = inType.getRank();
    SmallVector<int64_t> shape(inType.getShape()), fixedEnds(ends);
    for (auto [i, a] : llvm::enumerate(axes)) {
      auto n = kop::normalizeAxis(a, rank);
      if (!n || inType.isDynamicDim(*n))
        return rewriter.notifyMatchFailure(op, "slices a dynamic dim");
      axes[i] = *n;
      if (ShapedType::isDynamic(ends[i])) {
        if (steps[i] != 1)
          return rewriter.notifyMatchFailure(op, "a strided run-time slice");
        fixedEnds[i] = inType.getDimSize(*n); // size computed below
      }
    }
    for (int64_t &d : shape)
      if (ShapedType::isDynamic(d))
        d = 1; // not sliced: any size gives the whole dim
    SmallVector<kop::SliceAxis> slice;
    if (auto err =
            kop::computeSlice(shape, starts, fixedEnds, axes, steps, slice))
      return rewriter.notifyMatchFailure(op, *err);
    SmallVector<OpFoldResult> offsets, sizes, strides;
    Location loc = op.getLoc();
    auto idx = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, v);
    };
    for (auto [d, a] : llvm::enumerate(slice)) {
      if (a.step <= 0)
        return rewriter.notifyMatchFailure(op, "a backward dynamic slice");
      offsets.push_back(rewriter.getIndexAttr(a.start));
      strides.push_back(rewriter.getIndexAttr(a.step));
      auto at = llvm::find(axes, (int64_t)d);
      size_t i = at - axes.begin();
      if (at != axes.end() && ShapedType::isDynamic(ends[i])) {
        // end from the ends operand, as ONNX clamps it, then the size.
        int64_t dim = inType.getDimSize(d);
        Value e = tensor::ExtractOp::create(rewriter, loc, op.getEnds(),
                                            ValueRange{idx(i)});
        e = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                       e);
        Value neg = arith::CmpIOp::create(rewriter, loc,
                                          arith::CmpIPredicate::slt, e, idx(0));
        e = arith::SelectOp::create(
            rewriter, loc, neg, arith::AddIOp::create(rewriter, loc, e, idx(dim)),
            e);
        e = arith::MaxSIOp::create(rewriter, loc, e, idx(a.start));
        e = arith::MinSIOp::create(rewriter, loc, e, idx(dim));
        sizes.push_back(
            arith::SubIOp::create(rewriter, loc, e, idx(a.start)).getResult());
        continue;
      }
      sizes.push_back(inType.isDynamicDim(d)
                          ? OpFoldResult(tensor::DimOp::create(
                                             rewriter, loc, op.getData(), d)
                                             .getResult())
                          : OpFoldResult(rewriter.getIndexAttr(a.size)));
    }
    Value r = tensor::ExtractSliceOp::create(rewriter, loc, op.getData(),
                                             offsets, sizes, strides);
    if (r.getType() != type)
      r = tensor::CastOp::create(rewriter, loc, type, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Gather, Expand, Tile
//===----------------------------------------------------------------------===//

/// Gather along `axis`: out[pre, idx..., post] = data[pre, indices[idx...],
/// post]. Negative indices count from the end; out-of-range indices (an
/// invalid model) are clamped so the generated code never reads out of
/// bounds.
struct GatherPattern : OnnxPattern<kop::GatherOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::GatherOp op,
                      PatternRewriter &rewriter) const override {
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto idxType = cast<RankedTensorType>(op.getIndices().getType());
    auto type = cast<RankedTensorType>(op.getType());
    auto axisOr = kop::normalizeAxis((int64_t)op.getAxis(), dataType.getRank());
    if (!axisOr)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    if (!isa<IntegerType>(idxType.getElementType()))
      return rewriter.notifyMatchFailure(op, "indices are not integers");
    if (replaceIfEmpty(op, rewriter))
      return success();
    int64_t axis = *axisOr, idxRank = idxType.getRank(), rank = type.getRank(),
            dim = dataType.getDimSize(axis);
    if (dim == 0)
      return rewriter.notifyMatchFailure(op, "gathering from an empty axis");
    // A dynamic axis: its size read at run time (an index clamps into it).
    Value dynDim;
    if (ShapedType::isDynamic(dim))
      dynDim = arith::IndexCastOp::create(
          rewriter, op.getLoc(), idxType.getElementType(),
          tensor::DimOp::create(rewriter, op.getLoc(), op.getData(), axis));
    // Result dims: data's before the axis, the indices', data's after.
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!type.isDynamicDim(d))
        continue;
      bool fromIdx = d >= axis && d < axis + idxRank;
      sizes.push_back(tensor::DimOp::create(
          rewriter, op.getLoc(), fromIdx ? op.getIndices() : op.getData(),
          fromIdx ? d - axis : (d < axis ? d : d - idxRank + 1)));
    }
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i < idxRank; ++i)
      idxExprs.push_back(getAffineDimExpr(axis + i, ctx));
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, idxExprs, ctx),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    Value data = op.getData();
    Location loc = op.getLoc();
    checkIndices(rewriter, loc, op, op.getIndices(), data, {axis});
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{op.getIndices()},
        ValueRange{emptyTensor(rewriter, loc, type, sizes)}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value idx = args[0];
          Type it = idx.getType();
          Value zero = scalarConstant(b, l, it, 0);
          Value size = dynDim ? dynDim : scalarConstant(b, l, it, dim);
          Value neg =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, idx, zero);
          idx = arith::SelectOp::create(
              b, l, neg, arith::AddIOp::create(b, l, idx, size), idx);
          if (dynDim) { // clamped to [0, n - 1] (to 0 when n is 0)
            idx = arith::MinSIOp::create(
                b, l, idx,
                arith::SubIOp::create(b, l, size, scalarConstant(b, l, it, 1)));
            idx = arith::MaxSIOp::create(b, l, idx, zero);
          } else {
            idx = arith::MaxSIOp::create(b, l, idx, zero);
            idx = arith::MinSIOp::create(b, l, idx,
                                         scalarConstant(b, l, it, dim - 1));
          }
          Value at = arith::IndexCastOp::create(b, l, b.getIndexType(), idx);
          SmallVector<Value> coords;
          for (int64_t i = 0; i < dataType.getRank(); ++i) {
            if (i == axis)
              coords.push_back(at);
            else
              coords.push_back(linalg::IndexOp::create(
                  b, l, i < axis ? i : i - 1 + idxRank));
          }
          linalg::YieldOp::create(
              b, l, tensor::ExtractOp::create(b, l, data, coords).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ExpandPattern : OnnxPattern<kop::ExpandOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }

  /// Dynamic dims: the result's sizes are derived dims (a shape read at run
  /// time) or the input's; an input dim known only at run time reads index
  /// 0 where it is 1 (broadcast) and i elsewhere.
  LogicalResult lowerDynamic(kop::ExpandOp op,
                             PatternRewriter &rewriter) const {
    Value x = op.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank(), inRank = inType.getRank();
    if (inRank > rank)
      return rewriter.notifyMatchFailure(op, "input has a higher rank");
    Location loc = op.getLoc();
    SmallVector<Value> outSizes;
    if (auto derived = derivedSizes(op, type)) {
      outSizes = *derived;
    } else {
      for (int64_t d = 0; d < rank; ++d) {
        if (!type.isDynamicDim(d))
          continue;
        int64_t p = d - (rank - inRank);
        if (p < 0 || !inType.isDynamicDim(p))
          return rewriter.notifyMatchFailure(
              op, "a result dim from the shape's values, not derived");
        outSizes.push_back(tensor::DimOp::create(rewriter, loc, x, p));
      }
    }
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{},
        ValueRange{emptyTensor(rewriter, loc, type, outSizes)},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          for (int64_t p = 0; p < inRank; ++p) {
            Value i = linalg::IndexOp::create(b, l, p + rank - inRank);
            if (!inType.isDynamicDim(p)) {
              at.push_back(inType.getDimSize(p) == 1 ? zero : i);
              continue;
            }
            Value n = tensor::DimOp::create(b, l, x, p);
            Value one = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::eq, n,
                arith::ConstantIndexOp::create(b, l, 1));
            at.push_back(arith::SelectOp::create(b, l, one, zero, i));
          }
          linalg::YieldOp::create(
              b, l, tensor::ExtractOp::create(b, l, x, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  LogicalResult lower(kop::ExpandOp op,
                      PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto type = cast<RankedTensorType>(op.getType());
    if (!inType.hasStaticShape() || !type.hasStaticShape())
      return lowerDynamic(op, rewriter);
    // Shape inference folded the shape operand into the result type.
    auto expected = kop::broadcastShapes(inType.getShape(), type.getShape());
    if (!expected || ArrayRef<int64_t>(*expected) != type.getShape())
      return rewriter.notifyMatchFailure(op,
                                         "input does not broadcast to result");
    if (inType == type) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    if (replaceIfEmpty(op, rewriter))
      return success();
    rewriter.replaceOp(op, buildElementwise(rewriter, op.getLoc(),
                                            op.getInput(), type,
                                            [](OpBuilder &, Location,
                                               ValueRange a) { return a[0]; }));
    return success();
  }
};

/// Tile: out[i...] = in[i mod inDim...].
struct TilePattern : OnnxPattern<kop::TileOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::TileOp op,
                      PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto type = cast<RankedTensorType>(op.getType());
    if (!inType.hasStaticShape() || !type.hasStaticShape())
      return lowerDynamic(op, rewriter);
    // Shape inference folded the repeats into the result type.
    int64_t rank = type.getRank();
    if (inType.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "result rank differs from input");
    for (int64_t i = 0; i < rank; ++i) {
      int64_t in = inType.getDimSize(i), out = type.getDimSize(i);
      if (in == 0 ? out != 0 : out % in != 0)
        return rewriter.notifyMatchFailure(op,
                                           "result is not a tiling of input");
    }
    if (inType == type) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    if (replaceIfEmpty(op, rewriter))
      return success();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t in = inType.getDimSize(i);
      AffineExpr d = getAffineDimExpr(i, ctx);
      if (in == 1)
        exprs.push_back(getAffineConstantExpr(0, ctx));
      else if (in == type.getDimSize(i))
        exprs.push_back(d);
      else
        exprs.push_back(d % in);
    }
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, exprs, ctx),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    Location loc = op.getLoc();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{op.getInput()},
        ValueRange{emptyTensor(rewriter, loc, type)}, maps, iters,
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  /// Dynamic dims: the repeats are constants, or the result's dims are
  /// derived dims (repeats read at run time); out[i] = x[i mod n] with n
  /// read at run time.
  LogicalResult lowerDynamic(kop::TileOp op, PatternRewriter &rewriter) const {
    Value x = op.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto repeats = constantInts(op.getRepeats());
    auto derived = derivedSizes(op, type);
    if (inType.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "result rank differs from input");
    if (!derived &&
        (!repeats || (int64_t)repeats->size() != rank ||
         llvm::any_of(*repeats, [](int64_t r) { return r < 0; })))
      return rewriter.notifyMatchFailure(
          op, "repeats are neither constants nor derived dims");
    Location loc = op.getLoc();
    SmallVector<Value> inSizes, outSizes;
    for (int64_t d = 0; d < rank; ++d) {
      inSizes.push_back(
          inType.isDynamicDim(d)
              ? (Value)tensor::DimOp::create(rewriter, loc, x, d)
              : (Value)arith::ConstantIndexOp::create(rewriter, loc,
                                                      inType.getDimSize(d)));
      if (type.isDynamicDim(d) && !derived)
        outSizes.push_back(arith::MulIOp::create(
            rewriter, loc, inSizes[d],
            arith::ConstantIndexOp::create(rewriter, loc, (*repeats)[d])));
    }
    if (derived)
      outSizes = *derived; // repeats read at run time (main_graph_dims)
    // Repeats known to be 1 keep the index; a dim of 1 reads index 0.
    auto keeps = [&](int64_t d) {
      return repeats && (int64_t)repeats->size() == rank && (*repeats)[d] == 1;
    };
    Value init = emptyTensor(rewriter, loc, type, outSizes);
    rewriter.replaceOp(
        op, gatherByCoords(rewriter, loc, type, init, x,
                           [&](OpBuilder &b, Location l, int64_t d, Value i) {
                             if (keeps(d))
                               return i;
                             if (!inType.isDynamicDim(d) &&
                                 inType.getDimSize(d) == 1)
                               return (Value)arith::ConstantIndexOp::create(
                                   b, l, 0);
                             return (Value)arith::RemUIOp::create(
                                 b, l, i, inSizes[d]);
                           }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Values computed at compile time: ConstantOfShape, Range, Shape, Size
//===----------------------------------------------------------------------===//

struct ConstantOfShapePattern : OnnxPattern<kop::ConstantOfShapeOp> {
  using OnnxPattern::OnnxPattern;
  /// A shape read at run time: its dims are derived dims.
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::ConstantOfShapeOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Type elem = type.getElementType();
    TypedAttr value;
    if (auto attr = op.getValueAttr()) {
      auto dense = dyn_cast<DenseElementsAttr>(attr);
      if (!dense || dense.getNumElements() != 1)
        return rewriter.notifyMatchFailure(op,
                                           "value is not one dense element");
      value = dyn_cast<TypedAttr>(*dense.getValues<Attribute>().begin());
    } else {
      value = rewriter.getFloatAttr(rewriter.getF32Type(), 0.0);
    }
    if (!value || value.getType() != elem)
      return rewriter.notifyMatchFailure(op, "value type differs from result");
    SmallVector<Value> sizes;
    if (!type.hasStaticShape()) {
      auto derived = derivedSizes(op, type);
      if (!derived)
        return rewriter.notifyMatchFailure(op, "a shape not derived");
      sizes = *derived;
    } else if (replaceIfEmpty(op, rewriter)) {
      return success();
    }
    Location loc = op.getLoc();
    Value scalar = arith::ConstantOp::create(rewriter, loc, value);
    rewriter.replaceOp(op, filledTensor(rewriter, loc, type, scalar, sizes));
    return success();
  }
};

/// Range with constant inputs: out[i] = start + i * delta.
struct RangePattern : OnnxPattern<kop::RangeOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }

  /// An integer Range whose limit is known at run time only (positions
  /// 0..n-1 of a sequence): start + i * delta for i < n, n computed as ONNX
  /// says and clamped to the bound kiln-dynamic-entry found (kiln.max_size),
  /// or, where the dim has no bound (kiln.size_from_dim), not clamped.
  LogicalResult lowerDynamic(kop::RangeOp op, PatternRewriter &rewriter,
                             RankedTensorType type) const {
    if (auto derived = derivedSizes(op, type))
      return lowerDerived(op, rewriter, type, (*derived)[0]);
    auto bound = op->getAttrOfType<IntegerAttr>("kiln.max_size");
    bool fromDim = op->hasAttr("kiln.size_from_dim");
    auto it = dyn_cast<IntegerType>(type.getElementType());
    DenseElementsAttr start = constantElements(op.getStart());
    DenseElementsAttr delta = constantElements(op.getDelta());
    if ((!bound && !fromDim) || !it || !start || !delta ||
        start.getNumElements() != 1 ||
        delta.getNumElements() != 1)
      return rewriter.notifyMatchFailure(
          op, "a Range of run-time length needs integer constant start and "
              "delta and a limit from a bounded symbolic dim");
    int64_t first = (*start.getValues<APInt>().begin()).getSExtValue();
    int64_t step = (*delta.getValues<APInt>().begin()).getSExtValue();
    if (step <= 0)
      return rewriter.notifyMatchFailure(op, "a Range counting down");
    Location loc = op.getLoc();
    auto idx = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, v);
    };
    Value limit = tensor::ExtractOp::create(rewriter, loc, op.getLimit(),
                                            ValueRange{});
    limit = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                       limit);
    Value n = arith::CeilDivSIOp::create(
        rewriter, loc, arith::SubIOp::create(rewriter, loc, limit, idx(first)),
        idx(step));
    n = arith::MaxSIOp::create(rewriter, loc, n, idx(0));
    if (bound)
      n = arith::MinSIOp::create(rewriter, loc, n, idx(bound.getInt()));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{},
        ValueRange{emptyTensor(rewriter, loc, type, {n})},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = arith::IndexCastOp::create(b, l, it, linalg::IndexOp::create(b, l, 0));
          Value v = arith::AddIOp::create(
              b, l, scalarConstant(b, l, it, first),
              arith::MulIOp::create(b, l, i, scalarConstant(b, l, it, step)));
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  /// start, limit and delta read at run time: the length is a derived dim
  /// (main_graph_dims computes it as ONNX says); out[i] = start + i * delta.
  LogicalResult lowerDerived(kop::RangeOp op, PatternRewriter &rewriter,
                             RankedTensorType type, Value n) const {
    Type elem = type.getElementType();
    Location loc = op.getLoc();
    auto scalar = [&](Value t) -> Value {
      auto tt = cast<RankedTensorType>(t.getType());
      SmallVector<Value> at(tt.getRank(),
                            arith::ConstantIndexOp::create(rewriter, loc, 0));
      return tensor::ExtractOp::create(rewriter, loc, t, at);
    };
    Value start = scalar(op.getStart()), delta = scalar(op.getDelta());
    if (start.getType() != elem || delta.getType() != elem)
      return rewriter.notifyMatchFailure(op, "operand types differ");
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{},
        ValueRange{emptyTensor(rewriter, loc, type, {n})},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                               linalg::IndexOp::create(b, l, 0));
          Value v = addV(b, l, start,
                         mulV(b, l, convertScalar(b, l, i, elem), delta));
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  LogicalResult lower(kop::RangeOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.hasStaticShape())
      return lowerDynamic(op, rewriter, type);
    Type elem = type.getElementType();
    int64_t n = type.getNumElements();
    DenseElementsAttr value;
    if (auto ft = dyn_cast<FloatType>(elem)) {
      auto start = constantScalar(op.getStart());
      auto delta = constantScalar(op.getDelta());
      if (!start || !delta)
        return rewriter.notifyMatchFailure(op, "inputs are not constants");
      SmallVector<APFloat> values;
      for (int64_t i = 0; i < n; ++i) {
        APFloat v(*start + (double)i * *delta);
        bool lost;
        v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
        values.push_back(v);
      }
      value = DenseElementsAttr::get(type, values);
    } else if (auto it = dyn_cast<IntegerType>(elem)) {
      DenseElementsAttr start = constantElements(op.getStart());
      DenseElementsAttr delta = constantElements(op.getDelta());
      if (!start || !delta || start.getNumElements() != 1 ||
          delta.getNumElements() != 1)
        return rewriter.notifyMatchFailure(op, "inputs are not constants");
      int64_t first = (*start.getValues<APInt>().begin()).getSExtValue();
      int64_t step = (*delta.getValues<APInt>().begin()).getSExtValue();
      SmallVector<APInt> values;
      for (int64_t i = 0; i < n; ++i)
        values.push_back(APInt(it.getWidth(), first + i * step,
                               /*isSigned=*/true, /*implicitTrunc=*/true));
      value = DenseElementsAttr::get(type, values);
    } else {
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// Integer constant of a static tensor type.
Value intConstant(OpBuilder &b, Location loc, RankedTensorType type,
                  ArrayRef<int64_t> values) {
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  SmallVector<APInt> ints;
  for (int64_t v : values)
    ints.push_back(APInt(width, v, /*isSigned=*/true, /*implicitTrunc=*/true));
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ints));
}

struct ShapePattern : OnnxPattern<kop::ShapeOfOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::ShapeOfOp op,
                      PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getData().getType());
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(op, "result is not int64");
    // The same clamping as ShapeOfOp::inferShapes.
    int64_t r = inType.getRank();
    int64_t s = op.getStartAttr() ? op.getStartAttr().getInt() : 0;
    int64_t e = op.getEndAttr() ? op.getEndAttr().getInt() : r;
    s = std::clamp<int64_t>(s < 0 ? s + r : s, 0, r);
    e = std::clamp<int64_t>(e < 0 ? e + r : e, 0, r);
    ArrayRef<int64_t> dims = inType.getShape();
    dims = e > s ? dims.slice(s, e - s) : ArrayRef<int64_t>();
    if (!type.hasStaticShape() ||
        (int64_t)dims.size() != type.getNumElements())
      return rewriter.notifyMatchFailure(op, "result type differs from shape");
    if (llvm::any_of(dims, ShapedType::isDynamic)) {
      // Dynamic dims read at run time.
      Location loc = op.getLoc();
      SmallVector<Value> values;
      for (auto [i, d] : llvm::enumerate(dims))
        values.push_back(
            ShapedType::isDynamic(d)
                ? (Value)arith::IndexCastOp::create(
                      rewriter, loc, rewriter.getI64Type(),
                      tensor::DimOp::create(rewriter, loc, op.getData(), s + i))
                : (Value)arith::ConstantOp::create(
                      rewriter, loc, rewriter.getI64IntegerAttr(d)));
      rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, type, values);
      return success();
    }
    rewriter.replaceOp(op, intConstant(rewriter, op.getLoc(), type, dims));
    return success();
  }
};

struct SizePattern : OnnxPattern<kop::SizeOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::SizeOp op,
                      PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getData().getType());
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.getElementType().isInteger(64) || !type.hasStaticShape() ||
        type.getNumElements() != 1)
      return rewriter.notifyMatchFailure(op, "result is not one int64");
    if (!inType.hasStaticShape()) {
      // The product of the dims, read at run time.
      Location loc = op.getLoc();
      Value n = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (int64_t d = 0; d < inType.getRank(); ++d)
        n = rewriter.createOrFold<arith::MulIOp>(
            loc, n,
            inType.isDynamicDim(d)
                ? (Value)tensor::DimOp::create(rewriter, loc, op.getData(), d)
                : (Value)arith::ConstantIndexOp::create(rewriter, loc,
                                                        inType.getDimSize(d)));
      Value v = arith::IndexCastOp::create(rewriter, loc,
                                           rewriter.getI64Type(), n);
      rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, type, v);
      return success();
    }
    rewriter.replaceOp(op, intConstant(rewriter, op.getLoc(), type,
                                       {inType.getNumElements()}));
    return success();
  }
};

} // namespace

void kiln::populateDataMovementPatterns(RewritePatternSet &patterns) {
  patterns.add<
      ConstantPattern, NoValuePattern, IdentityPattern, DropoutPattern,
      ReshapeLikePattern<kop::ReshapeOp>, ReshapeLikePattern<kop::FlattenOp>,
      ReshapeLikePattern<kop::SqueezeOp>, ReshapeLikePattern<kop::UnsqueezeOp>,
      TransposePattern, ConcatPattern, SplitPattern, SlicePattern,
      GatherPattern, ExpandPattern, TilePattern, ConstantOfShapePattern,
      RangePattern, ShapePattern, SizePattern>(patterns.getContext());
}
