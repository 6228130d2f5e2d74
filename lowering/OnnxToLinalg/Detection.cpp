//===- Detection.cpp - NonMaxSuppression and RoiAlign to loops on tensors -===//
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
#include "mlir/Dialect/Math/IR/Math.h"
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

/// RoiAlign: one generic over Y; each element reads its box and image, then
/// sums (avg) or takes the largest of (max) bilinear samples on a grid of
/// its bin in two scf.for loops (the grid's size may depend on the box).
struct RoiAlignPattern : OnnxPattern<kop::RoiAlignOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::RoiAlignOp op,
                      PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto type = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    Type elem = type.getElementType();
    // opset 16 defaults to half_pixel; opset 10 behaved as output_half_pixel.
    StringRef mode = op.getCoordinateTransformationMode().value_or(
        kop::getOpsetVersion(op) >= 16 ? "half_pixel" : "output_half_pixel");
    bool halfPixel = mode == "half_pixel", isMax = op.getMode() == "max";
    int64_t height = xType.getDimSize(2), width = xType.getDimSize(3);
    int64_t ratio = op.getSamplingRatio();
    double scale = op.getSpatialScale().convertToDouble();
    Value x = op.getX(), rois = op.getRois(), batches = op.getBatchIndices();
    int64_t numImages = xType.getDimSize(0);
    Value y = generateTensor(
        rewriter, loc, type, [&](OpBuilder &b, Location l, ArrayRef<Value> at) {
          auto c = [&](double v) { return scalarConstant(b, l, elem, v); };
          auto ic = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          auto roi = [&](int64_t k) {
            Value v = tensor::ExtractOp::create(b, l, rois,
                                                ValueRange{at[0], ic(k)});
            return subV(b, l, mulV(b, l, v, c(scale)), c(halfPixel ? 0.5 : 0));
          };
          Value x0 = roi(0), y0 = roi(1), x1 = roi(2), y1 = roi(3);
          Value roiW = subV(b, l, x1, x0), roiH = subV(b, l, y1, y0);
          if (!halfPixel) {
            roiW = maxV(b, l, roiW, c(1));
            roiH = maxV(b, l, roiH, c(1));
          }
          Value binH = divV(b, l, roiH, c(type.getDimSize(2)));
          Value binW = divV(b, l, roiW, c(type.getDimSize(3)));
          // Samples per side: the attribute, or ceil(bin size).
          auto grid = [&](Value bin) -> Value {
            if (ratio > 0)
              return ic(ratio);
            Value n = arith::FPToSIOp::create(
                b, l, b.getI64Type(), math::CeilOp::create(b, l, bin));
            return arith::IndexCastOp::create(
                b, l, b.getIndexType(),
                arith::MaxSIOp::create(
                    b, l, n, arith::ConstantIntOp::create(b, l, 1, 64)));
          };
          Value gridH = grid(binH), gridW = grid(binW);
          Value image = arith::IndexCastOp::create(
              b, l, b.getIndexType(),
              tensor::ExtractOp::create(b, l, batches, ValueRange{at[0]}));
          image = arith::MinUIOp::create(b, l, image, ic(numImages - 1));
          auto toF = [&](Value index) {
            return convertScalar(
                b, l,
                arith::IndexCastOp::create(b, l, b.getI64Type(), index), elem);
          };
          // Sample point k (of n) of bin p along a side starting at `start`.
          auto point = [&](Value start, Value bin, Value p, Value k, Value n) {
            Value frac = divV(b, l, addV(b, l, toF(k), c(0.5)), toF(n));
            return addV(b, l, start,
                        mulV(b, l, addV(b, l, toF(p), frac), bin));
          };
          Value init = isMax ? lowestValue(b, l, elem) : c(0);
          auto rows = scf::ForOp::create(
              b, l, ic(0), gridH, ic(1), ValueRange{init},
              [&](OpBuilder &b, Location l, Value iy, ValueRange accY) {
                Value py = point(y0, binH, at[2], iy, gridH);
                auto cols = scf::ForOp::create(
                    b, l, ic(0), gridW, ic(1), accY,
                    [&](OpBuilder &b, Location l, Value ix, ValueRange acc) {
                      Value px = point(x0, binW, at[3], ix, gridW);
                      Value v = bilinearCorners(b, l, x, image, at[1], py, px,
                                                height, width, isMax);
                      scf::YieldOp::create(
                          b, l,
                          ValueRange{isMax ? maxV(b, l, acc[0], v)
                                           : addV(b, l, acc[0], v)});
                    });
                scf::YieldOp::create(b, l, cols.getResults());
              });
          Value r = rows.getResult(0);
          if (isMax)
            return r;
          Value count = mulV(b, l, toF(gridH), toF(gridW));
          return divV(b, l, r, count);
        });
    rewriter.replaceOp(op, y);
    return success();
  }

  /// The bilinear sample of x[image, channel] at (py, px), RoiAlign's way:
  /// 0 beyond one pixel outside the image, coordinates clamped to it; the
  /// weighted sum of the four corners, or (max) the largest weighted one.
  static Value bilinearCorners(OpBuilder &b, Location l, Value x, Value image,
                               Value channel, Value py, Value px,
                               int64_t height, int64_t width, bool isMax) {
    Type elem = py.getType();
    auto c = [&](double v) { return scalarConstant(b, l, elem, v); };
    auto lt = [&](Value p, Value q) {
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, p, q);
    };
    Value outside = arith::OrIOp::create(
        b, l,
        arith::OrIOp::create(b, l, lt(py, c(-1)), lt(c(height), py)),
        arith::OrIOp::create(b, l, lt(px, c(-1)), lt(c(width), px)));
    // Per axis: the low and high cell (index) and the weight of the high.
    auto axis = [&](Value p, int64_t size) {
      p = maxV(b, l, p, c(0));
      Value low = arith::FPToSIOp::create(b, l, b.getI64Type(), p);
      Value last = arith::ConstantIntOp::create(b, l, size - 1, 64);
      Value atEnd = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, low,
                                          last);
      low = arith::SelectOp::create(b, l, atEnd, last, low);
      Value high = arith::SelectOp::create(
          b, l, atEnd, last,
          arith::AddIOp::create(b, l, low,
                                arith::ConstantIntOp::create(b, l, 1, 64)));
      Value lowF = convertScalar(b, l, low, elem);
      Value frac = arith::SelectOp::create(b, l, atEnd, c(0),
                                           subV(b, l, p, lowF));
      auto idx = [&](Value v) {
        return arith::IndexCastOp::create(b, l, b.getIndexType(), v)
            .getResult();
      };
      return std::make_tuple(idx(low), idx(high), frac);
    };
    auto [yl, yh, ly] = axis(py, height);
    auto [xl, xh, lx] = axis(px, width);
    Value hy = subV(b, l, c(1), ly), hx = subV(b, l, c(1), lx);
    auto read = [&](Value yy, Value xx) {
      return tensor::ExtractOp::create(b, l, x,
                                       ValueRange{image, channel, yy, xx})
          .getResult();
    };
    Value t[4] = {mulV(b, l, mulV(b, l, hy, hx), read(yl, xl)),
                  mulV(b, l, mulV(b, l, hy, lx), read(yl, xh)),
                  mulV(b, l, mulV(b, l, ly, hx), read(yh, xl)),
                  mulV(b, l, mulV(b, l, ly, lx), read(yh, xh))};
    Value v = isMax ? maxV(b, l, maxV(b, l, t[0], t[1]), maxV(b, l, t[2], t[3]))
                    : addV(b, l, addV(b, l, t[0], t[1]), addV(b, l, t[2], t[3]));
    return arith::SelectOp::create(b, l, outside, c(0), v);
  }
};

} // namespace

void kiln::populateDetectionPatterns(RewritePatternSet &patterns) {
  patterns.add<NonMaxSuppressionPattern, RoiAlignPattern>(
      patterns.getContext());
}
