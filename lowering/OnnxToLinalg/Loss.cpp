//===- Loss.cpp - NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss -----===//
//
// Static or dynamic shapes. With x of N x C x d1 ... dk and the target t of N x d1 ...
// dk, one generic over t's shape picks each entry's class:
//
//   c = clamp(t[n, d], 0, C - 1)                  (never out of bounds)
//   w[n, d]    = weight[c] (or 1), 0 where t[n, d] == ignore_index
//   loss[n, d] = -x[n, c, d] * w[n, d]           (0 where ignored)
//
// then reduction "none" returns loss, "sum" its sum and "mean" its sum over
// the sum of w. SoftmaxCrossEntropyLoss takes the log-softmax of its scores
// over the classes first (`softmaxOver` dim 1, as LogSoftmax), which is also
// its optional second result.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

using utils::IteratorType;

/// The sum of every element of `v`, as a 0-d tensor.
Value sumAll(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  Type elem = t.getElementType();
  auto scalar = RankedTensorType::get({}, elem);
  Value init = filledTensor(b, loc, scalar, scalarConstant(b, loc, elem, 0));
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps{
      AffineMap::getMultiDimIdentityMap(t.getRank(), ctx),
      AffineMap::get(t.getRank(), 0, ctx)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{scalar}, ValueRange{v}, ValueRange{init}, maps,
             SmallVector<IteratorType>(t.getRank(), IteratorType::reduction),
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, addV(nb, l, a[1], a[0]));
             })
      .getResult(0);
}

/// The loss of `x` (N x C x d...) at the classes `target` (N x d...), per
/// `reduction`.
Value nllLoss(OpBuilder &b, Location loc, Value x, Value target, Value weight,
              std::optional<int64_t> ignore, StringRef reduction) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto tt = cast<RankedTensorType>(target.getType());
  Type elem = xt.getElementType();
  int64_t rank = tt.getRank();
  Value lastClass = arith::SubIOp::create(
      b, loc, tensor::DimOp::create(b, loc, x, 1),
      arith::ConstantIndexOp::create(b, loc, 1));
  auto perEntry = RankedTensorType::get(tt.getShape(), elem);
  SmallVector<Value> sizes = dimsOf(b, loc, perEntry, target);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  auto picked = linalg::GenericOp::create(
      b, loc, TypeRange{perEntry, perEntry}, ValueRange{target},
      ValueRange{emptyTensor(b, loc, perEntry, sizes),
                 emptyTensor(b, loc, perEntry, sizes)},
      SmallVector<AffineMap>(3, id),
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value given = a[0];
        Value c = arith::IndexCastOp::create(nb, l, nb.getIndexType(), given);
        c = arith::MaxSIOp::create(
            nb, l, arith::ConstantIndexOp::create(nb, l, 0),
            arith::MinSIOp::create(nb, l, c, lastClass));
        SmallVector<Value> at;
        for (int64_t d = 0; d < rank; ++d) {
          at.push_back(linalg::IndexOp::create(nb, l, d));
          if (d == 0)
            at.push_back(c);
        }
        Value xv = tensor::ExtractOp::create(nb, l, x, at);
        Value zero = cst(nb, l, xv, 0);
        Value w = weight ? tensor::ExtractOp::create(nb, l, weight, c)
                         : cst(nb, l, xv, 1);
        Value loss = arith::NegFOp::create(nb, l, mulV(nb, l, xv, w));
        if (ignore) {
          Value kept = arith::CmpIOp::create(
              nb, l, arith::CmpIPredicate::ne, given,
              arith::ConstantOp::create(
                  nb, l, IntegerAttr::get(given.getType(), *ignore)));
          w = arith::SelectOp::create(nb, l, kept, w, zero);
          loss = arith::SelectOp::create(nb, l, kept, loss, zero);
        }
        linalg::YieldOp::create(nb, l, ValueRange{loss, w});
      });
  Value loss = picked.getResult(0);
  if (reduction == "none")
    return loss;
  Value sum = sumAll(b, loc, loss);
  if (reduction == "sum")
    return sum;
  Value total = tensor::ExtractOp::create(b, loc, sum, ValueRange{});
  Value weights = tensor::ExtractOp::create(
      b, loc, sumAll(b, loc, picked.getResult(1)), ValueRange{});
  return tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, elem),
      ValueRange{divV(b, loc, total, weights)});
}

Value optional(Value v) { return isa<NoneType>(v.getType()) ? Value() : v; }

struct NllLossPattern : OnnxPattern<kop::NegativeLogLikelihoodLossOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::NegativeLogLikelihoodLossOp op,
                      PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, nllLoss(rewriter, op.getLoc(), op.getInput(),
                                   op.getTarget(), optional(op.getWeight()),
                                   op.getIgnoreIndex(), op.getReduction()));
    return success();
  }
};

struct SoftmaxCrossEntropyPattern
    : OnnxPattern<kop::SoftmaxCrossEntropyLossOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::SoftmaxCrossEntropyLossOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logProb = softmaxOver(rewriter, loc, op.getScores(), {1},
                                /*log=*/true);
    Value loss = nllLoss(rewriter, loc, logProb, op.getLabels(),
                         optional(op.getWeights()), op.getIgnoreIndex(),
                         op.getReduction());
    SmallVector<Value> results{loss};
    if (op.getLogProb())
      results.push_back(logProb);
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void kiln::populateLossPatterns(RewritePatternSet &patterns) {
  patterns.add<NllLossPattern, SoftmaxCrossEntropyPattern>(
      patterns.getContext());
}
