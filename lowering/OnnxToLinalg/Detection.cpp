//===- Detection.cpp - NonMaxSuppression to loops on tensors --------------===//
//
// Greedy non-maximum suppression is sequential by nature (whether a box is
// kept depends on the boxes kept before it), so it is scf loops on tensors:
// the boxes of each batch and class put in order of score first (each
// box's rank: how many score higher, or as high at a lower index, then the
// box of each rank), then one pass over them keeping a box unless it
// overlaps a kept one too much. The kept [batch, class, box] rows go into a
// buffer at its bound (batches x classes x boxes rows); the result is its
// first rows, as many as were kept: a size known once the model has run.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

/// A scalar operand (a 0-D or one-element tensor) read at run time, or
/// `fallback` where it is absent.
Value scalarOperand(OpBuilder &b, Location loc, Value t, Value fallback) {
  if (isa<NoneType>(t.getType()))
    return fallback;
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<Value> at(type.getRank(),
                        arith::ConstantIndexOp::create(b, loc, 0));
  return convertScalar(b, loc, tensor::ExtractOp::create(b, loc, t, at),
                       fallback.getType());
}

struct NonMaxSuppressionPattern : OnnxPattern<kop::NonMaxSuppressionOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }

  LogicalResult lower(kop::NonMaxSuppressionOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value boxes = op.getBoxes(), scores = op.getScores();
    auto bt = cast<RankedTensorType>(boxes.getType());
    auto st = cast<RankedTensorType>(scores.getType());
    if (bt.getRank() != 3 || st.getRank() != 3 || bt.isDynamicDim(2) ||
        bt.getDimSize(2) != 4 || !isa<FloatType>(st.getElementType()) ||
        bt.getElementType() != st.getElementType())
      return rewriter.notifyMatchFailure(
          op, "boxes [batches, boxes, 4] and scores of one float type");
    Type f = st.getElementType();
    Type i64 = rewriter.getI64Type();
    Type idx = rewriter.getIndexType();
    auto ic = [&](OpBuilder &b, Location l, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    // The sizes (index values; dims known at run time where dynamic).
    auto dimOf = [&](Value t, int64_t d) -> Value {
      auto tt = cast<RankedTensorType>(t.getType());
      return tt.isDynamicDim(d)
                 ? (Value)tensor::DimOp::create(rewriter, loc, t, d)
                 : ic(rewriter, loc, tt.getDimSize(d));
    };
    Value batches = dimOf(scores, 0), classes = dimOf(scores, 1),
          n = dimOf(scores, 2);
    auto mulI = [&](Value x, Value y) {
      return rewriter.createOrFold<arith::MulIOp>(loc, x, y);
    };
    auto fc = [&](OpBuilder &b, Location l, double v) -> Value {
      return scalarConstant(b, l, f, v);
    };

    // The limits, read at run time.
    Value maxOut = scalarOperand(rewriter, loc, op.getMaxOutputBoxesPerClass(),
                                 scalarConstant(rewriter, loc, i64, 0));
    maxOut = arith::IndexCastOp::create(rewriter, loc, idx, maxOut);
    maxOut = arith::MaxSIOp::create(
        rewriter, loc, arith::MinSIOp::create(rewriter, loc, maxOut, n),
        ic(rewriter, loc, 0));
    Value iouMax = scalarOperand(rewriter, loc, op.getIouThreshold(),
                                 fc(rewriter, loc, 0));
    bool hasScoreMin = !isa<NoneType>(op.getScoreThreshold().getType());
    Value scoreMin = scalarOperand(rewriter, loc, op.getScoreThreshold(),
                                   fc(rewriter, loc, 0));

    // rank[b, c, i]: how many boxes come before box i (higher score, or the
    // same at a lower index); order[b, c, r]: the box of rank r.
    auto par = utils::IteratorType::parallel,
         red = utils::IteratorType::reduction;
    auto cube = RankedTensorType::get(st.getShape(), i64);
    Value zeros = filledTensor(rewriter, loc, cube,
                               scalarConstant(rewriter, loc, i64, 0),
                               dimsOf(rewriter, loc, cube, scores));
    Value rank = rankAlong(rewriter, loc, scores, 2, /*largest=*/true);
    Value order =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{cube}, ValueRange{rank},
            ValueRange{zeros},
            SmallVector<AffineMap>{dimsMap(ctx, 4, {0, 1, 3}), dimsMap(ctx, 4, {0, 1, 2})},
            SmallVector<utils::IteratorType>{par, par, par, red},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value r = arith::IndexCastOp::create(
                  b, l, i64, linalg::IndexOp::create(b, l, 2));
              Value hit =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[0], r);
              Value i = arith::IndexCastOp::create(
                  b, l, i64, linalg::IndexOp::create(b, l, 3));
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::SelectOp::create(b, l, hit, i, a[1])});
            })
            .getResult(0);

    // The corners of box i of batch b (ymin, xmin, ymax, xmax).
    bool center = op.getCenterPointBox() != 0;
    auto corners = [&](OpBuilder &b, Location l, Value batch,
                       Value box) -> std::array<Value, 4> {
      Value v[4];
      for (int64_t k = 0; k < 4; ++k)
        v[k] = tensor::ExtractOp::create(b, l, boxes,
                                         ValueRange{batch, box, ic(b, l, k)});
      if (center) { // x_center, y_center, width, height
        Value hw = arith::MulFOp::create(b, l, v[2], fc(b, l, 0.5));
        Value hh = arith::MulFOp::create(b, l, v[3], fc(b, l, 0.5));
        return {arith::SubFOp::create(b, l, v[1], hh),
                arith::SubFOp::create(b, l, v[0], hw),
                arith::AddFOp::create(b, l, v[1], hh),
                arith::AddFOp::create(b, l, v[0], hw)};
      }
      return {arith::MinimumFOp::create(b, l, v[0], v[2]),
              arith::MinimumFOp::create(b, l, v[1], v[3]),
              arith::MaximumFOp::create(b, l, v[0], v[2]),
              arith::MaximumFOp::create(b, l, v[1], v[3])};
    };
    // Whether boxes i and j of batch b overlap by more than the threshold.
    auto overlaps = [&](OpBuilder &b, Location l, Value batch, Value i,
                        Value j) -> Value {
      auto p = corners(b, l, batch, i), q = corners(b, l, batch, j);
      auto sub = [&](Value x, Value y) {
        return arith::SubFOp::create(b, l, x, y).getResult();
      };
      auto mul = [&](Value x, Value y) {
        return arith::MulFOp::create(b, l, x, y).getResult();
      };
      Value zero = fc(b, l, 0);
      Value ih = arith::MaximumFOp::create(
          b, l,
          sub(arith::MinimumFOp::create(b, l, p[2], q[2]),
              arith::MaximumFOp::create(b, l, p[0], q[0])),
          zero);
      Value iw = arith::MaximumFOp::create(
          b, l,
          sub(arith::MinimumFOp::create(b, l, p[3], q[3]),
              arith::MaximumFOp::create(b, l, p[1], q[1])),
          zero);
      Value inter = mul(ih, iw);
      Value areaP = mul(sub(p[2], p[0]), sub(p[3], p[1]));
      Value areaQ = mul(sub(q[2], q[0]), sub(q[3], q[1]));
      Value uni = sub(arith::AddFOp::create(b, l, areaP, areaQ), inter);
      Value valid = arith::AndIOp::create(
          b, l,
          arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, inter, zero),
          arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, uni, zero));
      Value iou = arith::DivFOp::create(
          b, l, inter, arith::SelectOp::create(b, l, valid, uni, fc(b, l, 1)));
      return arith::AndIOp::create(
          b, l, valid,
          arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, iou, iouMax));
    };

    // The pass: rows [batch, class, box] into `out`, the boxes kept for the
    // current class in `kept`.
    Value pairs = mulI(batches, classes);
    Value capV = mulI(pairs, n);
    std::optional<int64_t> capFixed = getConstantIntValue(capV);
    auto outType = RankedTensorType::get(
        {capFixed ? *capFixed : ShapedType::kDynamic, 3}, i64);
    Value out = filledTensor(
        rewriter, loc, outType, scalarConstant(rewriter, loc, i64, 0),
        capFixed ? ValueRange{} : ValueRange{capV});
    std::optional<int64_t> nFixed = getConstantIntValue(n);
    Value kept0 = emptyTensor(
        rewriter, loc,
        RankedTensorType::get({nFixed ? *nFixed : ShapedType::kDynamic}, idx),
        nFixed ? ValueRange{} : ValueRange{n});
    Value zeroI = ic(rewriter, loc, 0), oneI = ic(rewriter, loc, 1);
    auto perClass = scf::ForOp::create(
        rewriter, loc, zeroI, pairs, oneI, ValueRange{out, zeroI},
        [&](OpBuilder &b, Location l, Value p, ValueRange outer) {
          Value batch = arith::DivUIOp::create(b, l, p, classes);
          Value cls = arith::RemUIOp::create(b, l, p, classes);
          auto perBox = scf::ForOp::create(
              b, l, ic(b, l, 0), n, ic(b, l, 1),
              ValueRange{outer[0], outer[1], kept0, ic(b, l, 0)},
              [&](OpBuilder &b, Location l, Value r, ValueRange st) {
                Value box = arith::IndexCastOp::create(
                    b, l, idx,
                    tensor::ExtractOp::create(b, l, order,
                                              ValueRange{batch, cls, r}));
                Value score = tensor::ExtractOp::create(
                    b, l, scores, ValueRange{batch, cls, box});
                Value room = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::slt, st[3], maxOut);
                Value wanted = room;
                if (hasScoreMin)
                  wanted = arith::AndIOp::create(
                      b, l, room,
                      arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                            score, scoreMin));
                auto keep = scf::IfOp::create(
                    b, l, wanted,
                    [&](OpBuilder &b, Location l) {
                      // Suppressed by a box kept before?
                      auto check = scf::ForOp::create(
                          b, l, ic(b, l, 0), st[3], ic(b, l, 1),
                          ValueRange{arith::ConstantIntOp::create(b, l, 0, 1)},
                          [&](OpBuilder &b, Location l, Value k,
                              ValueRange sup) {
                            Value other = tensor::ExtractOp::create(
                                b, l, st[2], ValueRange{k});
                            scf::YieldOp::create(
                                b, l,
                                ValueRange{arith::OrIOp::create(
                                    b, l, sup[0],
                                    overlaps(b, l, batch, box, other))});
                          });
                      auto add = scf::IfOp::create(
                          b, l, check.getResult(0),
                          [&](OpBuilder &b, Location l) {
                            scf::YieldOp::create(b, l, st);
                          },
                          [&](OpBuilder &b, Location l) {
                            Value row = st[1];
                            Value o = st[0];
                            Value vals[3] = {batch, cls, box};
                            for (int64_t k = 0; k < 3; ++k)
                              o = tensor::InsertOp::create(
                                  b, l,
                                  arith::IndexCastOp::create(b, l, i64,
                                                             vals[k]),
                                  o, ValueRange{row, ic(b, l, k)});
                            Value kept = tensor::InsertOp::create(
                                b, l, box, st[2], ValueRange{st[3]});
                            scf::YieldOp::create(
                                b, l,
                                ValueRange{o,
                                           arith::AddIOp::create(b, l, row,
                                                                 ic(b, l, 1)),
                                           kept,
                                           arith::AddIOp::create(
                                               b, l, st[3], ic(b, l, 1))});
                          });
                      scf::YieldOp::create(b, l, add.getResults());
                    },
                    [&](OpBuilder &b, Location l) {
                      scf::YieldOp::create(b, l, st);
                    });
                scf::YieldOp::create(b, l, keep.getResults());
              });
          scf::YieldOp::create(
              b, l, ValueRange{perBox.getResult(0), perBox.getResult(1)});
        });
    // The first rows, as many as were kept (at most the bound).
    Value count =
        arith::MinSIOp::create(rewriter, loc, perClass.getResult(1), capV);
    Value result = tensor::ExtractSliceOp::create(
        rewriter, loc, perClass.getResult(0),
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                               rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{count, rewriter.getIndexAttr(3)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(1)});
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void kiln::populateDetectionPatterns(RewritePatternSet &patterns) {
  patterns.add<NonMaxSuppressionPattern>(patterns.getContext());
}
