//===- Sequence.cpp - sequences known at compile time to tensors ----------===//
//
// A sequence's elements are known values (resolveSequence): SequenceAt is
// the element, SequenceLength a constant, ConcatFromSequence a Concat of
// the elements (each unsqueezed when stacking). A SplitToSequence piece is
// an extract_slice of the split input. The sequence ops themselves have no
// users left then and are erased as dead.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

/// The tensor of element `e` (a slice of a static split input, squeezed as
/// SplitToSequence says); null when its shape is not static.
Value materialize(OpBuilder &b, Location loc, const kop::SeqElement &e) {
  if (e.value)
    return e.value;
  kop::SplitToSequenceOp split = e.split;
  auto pieces = kop::splitPieces(split);
  auto in = dyn_cast<RankedTensorType>(split.getInput().getType());
  if (!pieces || !in || !in.hasStaticShape())
    return Value();
  int64_t rank = in.getRank();
  int64_t axis = *kop::normalizeAxis(split.getAxis(), rank);
  SmallVector<int64_t> offsets(rank, 0), sizes(in.getShape()),
      strides(rank, 1);
  offsets[axis] = pieces->first[e.index];
  sizes[axis] = pieces->second[e.index];
  auto type = cast<RankedTensorType>(kop::seqElementType(e));
  return tensor::ExtractSliceOp::create(b, loc, type, split.getInput(),
                                        indexAttrs(b, offsets),
                                        indexAttrs(b, sizes),
                                        indexAttrs(b, strides));
}

std::optional<int64_t> position(Value v, int64_t n) {
  auto c = kop::getConstantInts(v);
  if (!c || c->size() != 1 || (*c)[0] < -n || (*c)[0] >= n)
    return std::nullopt;
  return (*c)[0] < 0 ? (*c)[0] + n : (*c)[0];
}

constexpr StringLiteral kUnresolved =
    "a sequence whose elements are not known when compiling (positions "
    "must be constants; sequences may not be graph inputs or outputs or "
    "be carried by a Loop)";

struct SequenceAtPattern : OpRewritePattern<kop::SequenceAtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceAtOp op,
                                PatternRewriter &rewriter) const override {
    auto elems = kop::resolveSequence(op.getInputSequence());
    if (!elems)
      return rewriter.notifyMatchFailure(op, kUnresolved);
    auto at = position(op.getPosition(), elems->size());
    if (!at)
      return rewriter.notifyMatchFailure(op, "position not a constant");
    Value v = materialize(rewriter, op.getLoc(), (*elems)[*at]);
    if (!v)
      return rewriter.notifyMatchFailure(op, "a piece of dynamic shape");
    if (v.getType() != op.getType())
      v = tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), v);
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct SequenceLengthPattern : OpRewritePattern<kop::SequenceLengthOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceLengthOp op,
                                PatternRewriter &rewriter) const override {
    auto elems = kop::resolveSequence(op.getInputSequence());
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!elems || !type)
      return rewriter.notifyMatchFailure(op, kUnresolved);
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, type, DenseElementsAttr::get(type, (int64_t)elems->size()));
    return success();
  }
};

struct ConcatFromSequencePattern
    : OpRewritePattern<kop::ConcatFromSequenceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::ConcatFromSequenceOp op,
                                PatternRewriter &rewriter) const override {
    auto elems = kop::resolveSequence(op.getInputSequence());
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!elems || elems->empty() || !type || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, kUnresolved);
    Location loc = op.getLoc();
    int64_t axis = *kop::normalizeAxis(op.getAxis(), type.getRank());
    SmallVector<Value> parts;
    for (const kop::SeqElement &e : *elems) {
      Value v = materialize(rewriter, loc, e);
      auto t = v ? dyn_cast<RankedTensorType>(v.getType()) : nullptr;
      if (!t || !t.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "an element of dynamic shape");
      if (op.getNewAxis()) {
        SmallVector<int64_t> shape(t.getShape());
        shape.insert(shape.begin() + axis, 1);
        v = makeOnnx<kop::UnsqueezeOp>(
            rewriter, loc, RankedTensorType::get(shape, t.getElementType()),
            {v, noValue(rewriter, loc)},
            {rewriter.getNamedAttr("axes",
                                   rewriter.getDenseI64ArrayAttr({axis}))});
      }
      parts.push_back(v);
    }
    rewriter.replaceOp(op, makeOnnx<kop::ConcatOp>(
                               rewriter, loc, type, parts,
                               {rewriter.getNamedAttr(
                                   "axis", rewriter.getI64IntegerAttr(axis))}));
    return success();
  }
};

} // namespace

void kiln::populateSequencePatterns(RewritePatternSet &patterns) {
  patterns.add<SequenceAtPattern, SequenceLengthPattern,
               ConcatFromSequencePattern>(patterns.getContext());
}
