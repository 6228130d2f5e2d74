//===- Elementwise.cpp - elementwise onnx ops to linalg.generic -----------===//
//
// Every elementwise operator is one scalar body; the shared pattern builds a
// linalg.generic over the broadcast result shape around it. Elementwise
// fusion later merges chains of these into one loop nest.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

Value cmpV(OpBuilder &b, Location l, arith::CmpFPredicate f,
           arith::CmpIPredicate i, Value x, Value y) {
  return isF(x) ? (Value)arith::CmpFOp::create(b, l, f, x, y)
                : (Value)arith::CmpIOp::create(b, l, forType(i, x.getType()),
                                               x, y);
}
Value ltZero(OpBuilder &b, Location l, Value x) {
  if (x.getType().isUnsignedInteger())
    return arith::ConstantOp::create(b, l, b.getBoolAttr(false));
  return cmpV(b, l, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, x,
              cst(b, l, x, 0));
}
Value selectV(OpBuilder &b, Location l, Value c, Value x, Value y) {
  return arith::SelectOp::create(b, l, c, x, y);
}
Value expV(OpBuilder &b, Location l, Value x) { return math::ExpOp::create(b, l, x); }
Value softplusV(OpBuilder &b, Location l, Value x) {
  // log(1 + exp(x)), written to stay finite for large x.
  Value big = cmpV(b, l, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                   x, cst(b, l, x, 20.0));
  Value sp = math::Log1pOp::create(b, l, expV(b, l, x));
  return selectV(b, l, big, x, sp);
}
Value floatAttr(OpBuilder &b, Location l, Value like, APFloat f) {
  return cst(b, l, like, f.convertToDouble());
}

// The scalar body of each op, given its (broadcast) scalar inputs.
#define BODY(OP)                                                               \
  Value body(kop::OP op, OpBuilder &b, Location l, ValueRange a)

BODY(ReluOp) { (void)op; return maxV(b, l, a[0], cst(b, l, a[0], 0)); }
BODY(SigmoidOp) {
  (void)op;
  Value one = cst(b, l, a[0], 1);
  Value e = expV(b, l, arith::NegFOp::create(b, l, a[0]));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}
BODY(TanhOp) { (void)op; return math::TanhOp::create(b, l, a[0]); }
BODY(ExpOp) { (void)op; return expV(b, l, a[0]); }
BODY(LogOp) { (void)op; return math::LogOp::create(b, l, a[0]); }
BODY(SqrtOp) { (void)op; return math::SqrtOp::create(b, l, a[0]); }
BODY(NegOp) {
  (void)op;
  return isF(a[0]) ? (Value)arith::NegFOp::create(b, l, a[0])
                   : subV(b, l, cst(b, l, a[0], 0), a[0]);
}
BODY(AbsOp) {
  (void)op;
  if (a[0].getType().isUnsignedInteger())
    return a[0];
  return isF(a[0]) ? (Value)math::AbsFOp::create(b, l, a[0])
                   : (Value)math::AbsIOp::create(b, l, a[0]);
}
BODY(ErfOp) { (void)op; return math::ErfOp::create(b, l, a[0]); }
BODY(CeilOp) { (void)op; return math::CeilOp::create(b, l, a[0]); }
BODY(FloorOp) { (void)op; return math::FloorOp::create(b, l, a[0]); }
BODY(RoundOp) { (void)op; return math::RoundEvenOp::create(b, l, a[0]); }
BODY(ReciprocalOp) { (void)op; return divV(b, l, cst(b, l, a[0], 1), a[0]); }
BODY(SignOp) {
  (void)op;
  Value x = a[0], zero = cst(b, l, x, 0);
  Value pos = cmpV(b, l, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                   x, zero);
  Value neg = ltZero(b, l, x);
  return selectV(b, l, pos, cst(b, l, x, 1),
                 selectV(b, l, neg, cst(b, l, x, -1), zero));
}
BODY(SinOp) { (void)op; return math::SinOp::create(b, l, a[0]); }
BODY(CosOp) { (void)op; return math::CosOp::create(b, l, a[0]); }
BODY(TanOp) { (void)op; return math::TanOp::create(b, l, a[0]); }
BODY(AsinOp) { (void)op; return math::AsinOp::create(b, l, a[0]); }
BODY(AcosOp) { (void)op; return math::AcosOp::create(b, l, a[0]); }
BODY(AtanOp) { (void)op; return math::AtanOp::create(b, l, a[0]); }
BODY(SinhOp) { (void)op; return math::SinhOp::create(b, l, a[0]); }
BODY(CoshOp) { (void)op; return math::CoshOp::create(b, l, a[0]); }
BODY(AsinhOp) { (void)op; return math::AsinhOp::create(b, l, a[0]); }
BODY(AcoshOp) { (void)op; return math::AcoshOp::create(b, l, a[0]); }
BODY(AtanhOp) { (void)op; return math::AtanhOp::create(b, l, a[0]); }
BODY(SoftsignOp) {
  (void)op;
  Value d = arith::AddFOp::create(b, l, cst(b, l, a[0], 1),
                                  math::AbsFOp::create(b, l, a[0]));
  return arith::DivFOp::create(b, l, a[0], d);
}
BODY(SoftplusOp) { (void)op; return softplusV(b, l, a[0]); }
BODY(HardSwishOp) {
  (void)op;
  Value x = a[0];
  Value t = arith::AddFOp::create(
      b, l, arith::MulFOp::create(b, l, x, cst(b, l, x, 1.0 / 6.0)),
      cst(b, l, x, 0.5));
  t = maxV(b, l, cst(b, l, x, 0), minV(b, l, cst(b, l, x, 1), t));
  return arith::MulFOp::create(b, l, x, t);
}
BODY(MishOp) {
  (void)op;
  return arith::MulFOp::create(b, l, a[0],
                               math::TanhOp::create(b, l, softplusV(b, l, a[0])));
}
BODY(NotOp) { (void)op; return arith::XOrIOp::create(b, l, a[0], cst(b, l, a[0], 1)); }
BODY(IsNaNOp) {
  (void)op;
  return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, a[0], a[0]);
}
BODY(LeakyReluOp) {
  Value x = a[0];
  Value scaled = mulV(b, l, x, floatAttr(b, l, x, op.getAlphaAttr().getValue()));
  return selectV(b, l, ltZero(b, l, x), scaled, x);
}
BODY(EluOp) {
  Value x = a[0];
  Value em1 = math::ExpM1Op::create(b, l, x);
  Value neg = mulV(b, l, em1, floatAttr(b, l, x, op.getAlphaAttr().getValue()));
  return selectV(b, l, ltZero(b, l, x), neg, x);
}
BODY(CeluOp) {
  Value x = a[0];
  Value alpha = floatAttr(b, l, x, op.getAlphaAttr().getValue());
  Value em1 = math::ExpM1Op::create(b, l, arith::DivFOp::create(b, l, x, alpha));
  Value neg = minV(b, l, cst(b, l, x, 0), mulV(b, l, alpha, em1));
  return addV(b, l, maxV(b, l, cst(b, l, x, 0), x), neg);
}
BODY(ThresholdedReluOp) {
  Value x = a[0];
  Value alpha = floatAttr(b, l, x, op.getAlphaAttr().getValue());
  Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, alpha);
  return selectV(b, l, gt, x, cst(b, l, x, 0));
}
BODY(SeluOp) {
  Value x = a[0];
  Value alpha = floatAttr(b, l, x, op.getAlphaAttr().getValue());
  Value gamma = floatAttr(b, l, x, op.getGammaAttr().getValue());
  Value neg = mulV(b, l, alpha, math::ExpM1Op::create(b, l, x));
  Value le = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, x,
                                   cst(b, l, x, 0));
  return mulV(b, l, gamma, selectV(b, l, le, neg, x));
}
BODY(HardSigmoidOp) {
  Value x = a[0];
  Value alpha = floatAttr(b, l, x, op.getAlphaAttr().getValue());
  Value beta = floatAttr(b, l, x, op.getBetaAttr().getValue());
  Value t = addV(b, l, mulV(b, l, alpha, x), beta);
  return maxV(b, l, cst(b, l, x, 0), minV(b, l, cst(b, l, x, 1), t));
}
BODY(CastOp) {
  return convertScalar(b, l, a[0],
                       cast<ShapedType>(op.getType()).getElementType());
}
BODY(IsInfOp) {
  Value x = a[0];
  auto ft = cast<FloatType>(x.getType());
  auto inf = [&](bool neg) -> Value {
    return arith::ConstantOp::create(
        b, l, ft, b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(), neg)));
  };
  Value r = arith::ConstantOp::create(b, l, b.getBoolAttr(false));
  if (op.getDetectPositive())
    r = arith::OrIOp::create(
        b, l, r, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, inf(false)));
  if (op.getDetectNegative())
    r = arith::OrIOp::create(
        b, l, r, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, inf(true)));
  return r;
}
BODY(ShrinkOp) {
  Value x = a[0];
  double lambd = op.getLambd().convertToDouble(), bias = op.getBias().convertToDouble();
  Value lo = cmpV(b, l, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                  x, cst(b, l, x, -lambd));
  Value hi = cmpV(b, l, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                  x, cst(b, l, x, lambd));
  return selectV(b, l, lo, addV(b, l, x, cst(b, l, x, bias)),
                 selectV(b, l, hi, subV(b, l, x, cst(b, l, x, bias)),
                         cst(b, l, x, 0)));
}
BODY(BitShiftOp) {
  Value x = a[0], y = a[1];
  unsigned width = x.getType().getIntOrFloatBitWidth();
  Value shifted = op.getDirection() == "LEFT"
                      ? (Value)arith::ShLIOp::create(b, l, x, y)
                      : (Value)arith::ShRUIOp::create(b, l, x, y);
  // arith's shifts by the width or more are poison; numpy's give 0.
  Value tooFar = arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge, y,
                                       cst(b, l, y, width));
  return selectV(b, l, tooFar, cst(b, l, x, 0), shifted);
}
BODY(AddOp) { (void)op; return addV(b, l, a[0], a[1]); }
BODY(SubOp) { (void)op; return subV(b, l, a[0], a[1]); }
BODY(MulOp) { (void)op; return mulV(b, l, a[0], a[1]); }
BODY(DivOp) { (void)op; return divV(b, l, a[0], a[1]); }
BODY(PowOp) {
  (void)op;
  Value x = a[0], y = a[1];
  if (isF(x))
    return math::PowFOp::create(b, l, x, convertScalar(b, l, y, x.getType()));
  if (!isF(y))
    return math::IPowIOp::create(b, l, x, convertScalar(b, l, y, x.getType()));
  Value xf = convertScalar(b, l, x, y.getType());
  return convertScalar(b, l, math::PowFOp::create(b, l, xf, y), x.getType());
}
BODY(AndOp) { (void)op; return arith::AndIOp::create(b, l, a[0], a[1]); }
BODY(OrOp) { (void)op; return arith::OrIOp::create(b, l, a[0], a[1]); }
BODY(XorOp) { (void)op; return arith::XOrIOp::create(b, l, a[0], a[1]); }
BODY(EqualOp) {
  (void)op;
  return cmpV(b, l, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq, a[0], a[1]);
}
BODY(LessOp) {
  (void)op;
  return cmpV(b, l, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, a[0], a[1]);
}
BODY(LessOrEqualOp) {
  (void)op;
  return cmpV(b, l, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle, a[0], a[1]);
}
BODY(GreaterOp) {
  (void)op;
  return cmpV(b, l, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt, a[0], a[1]);
}
BODY(GreaterOrEqualOp) {
  (void)op;
  return cmpV(b, l, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge, a[0], a[1]);
}
BODY(PReluOp) {
  (void)op;
  return selectV(b, l, ltZero(b, l, a[0]), mulV(b, l, a[0], a[1]), a[0]);
}
BODY(ModOp) {
  Value x = a[0], y = a[1];
  if (isF(x))
    return arith::RemFOp::create(b, l, x, y);
  // A zero divisor gives 0 (never a trap; see safeDivisor).
  Value safe = safeDivisor(b, l, x, y);
  if (x.getType().isUnsignedInteger())
    return arith::RemUIOp::create(b, l, x, safe);
  Value r = arith::RemSIOp::create(b, l, x, safe);
  if (op.getFmod())
    return r;
  // Python-style: the result takes the divisor's sign.
  Value zero = cst(b, l, x, 0);
  Value nonzero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, r, zero);
  Value signsDiffer = arith::XOrIOp::create(b, l, ltZero(b, l, r), ltZero(b, l, y));
  Value fix = arith::AndIOp::create(b, l, nonzero, signsDiffer);
  return selectV(b, l, fix, addV(b, l, r, y), r);
}
BODY(MaxOp) {
  (void)op;
  Value acc = a[0];
  for (Value v : a.drop_front())
    acc = maxV(b, l, acc, v);
  return acc;
}
BODY(MinOp) {
  (void)op;
  Value acc = a[0];
  for (Value v : a.drop_front())
    acc = minV(b, l, acc, v);
  return acc;
}
BODY(SumOp) {
  (void)op;
  Value acc = a[0];
  for (Value v : a.drop_front())
    acc = addV(b, l, acc, v);
  return acc;
}
BODY(MeanOp) {
  (void)op;
  Value acc = a[0];
  for (Value v : a.drop_front())
    acc = addV(b, l, acc, v);
  return divV(b, l, acc, cst(b, l, acc, a.size()));
}
BODY(WhereOp) { (void)op; return selectV(b, l, a[0], a[1], a[2]); }
#undef BODY

/// Lowers an op whose tensor operands all broadcast to the result.
template <typename OpTy>
struct ElementwisePattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    Value result = buildElementwise(
        rewriter, op.getLoc(), op->getOperands(), type,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return body(op, b, l, args);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ClipPattern : OnnxPattern<kop::ClipOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::ClipOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<Value> inputs{op.getInput()};
    bool hasMin = !isa<NoneType>(op.getMin().getType());
    bool hasMax = !isa<NoneType>(op.getMax().getType());
    if (hasMin)
      inputs.push_back(op.getMin());
    if (hasMax)
      inputs.push_back(op.getMax());
    auto minAttr = op.getMinAttr(), maxAttr = op.getMaxAttr();
    Value result = buildElementwise(
        rewriter, op.getLoc(), inputs, type,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0];
          unsigned i = 1;
          if (hasMin)
            x = maxV(b, l, x, a[i++]);
          else if (minAttr)
            x = maxV(b, l, x, cst(b, l, x, minAttr->convertToDouble()));
          if (hasMax)
            x = minV(b, l, x, a[i++]);
          else if (maxAttr)
            x = minV(b, l, x, cst(b, l, x, maxAttr->convertToDouble()));
          return x;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = scale * (x - mean) / sqrt(var + eps) + B with per-channel parameters
/// broadcast along axis 1.
struct BatchNormPattern : OnnxPattern<kop::BatchNormalizationOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::BatchNormalizationOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    if (op.getTrainingMode() || !op.getRunningStats().empty())
      return rewriter.notifyMatchFailure(op, "training mode");
    auto type = cast<RankedTensorType>(op.getY().getType());
    if (type.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "input rank below 2");
    SmallVector<int64_t> paramShape(type.getRank() - 1, 1);
    paramShape[0] = type.getDimSize(1);
    auto paramType = RankedTensorType::get(paramShape, type.getElementType());
    SmallVector<Value> inputs{op.getX()};
    for (Value p : {op.getScale(), op.getB(), op.getInputMean(),
                    op.getInputVar()}) {
      auto pt = cast<RankedTensorType>(p.getType());
      if (pt.getRank() != 1 ||
          (!pt.isDynamicDim(0) && !type.isDynamicDim(1) &&
           pt.getDimSize(0) != type.getDimSize(1)))
        return rewriter.notifyMatchFailure(op, "parameter size differs from C");
      // [C] as [C, 1, ...]: read along axis 1 of x (a dynamic C is the
      // channel count of x, Kiln's rule for dims that meet).
      SmallVector<int64_t> shape(type.getRank() - 1, 1);
      shape[0] = pt.getDimSize(0);
      Value param = p;
      if (type.getRank() > 2) {
        SmallVector<ReassociationIndices> re{{}};
        for (int64_t i = 0; i + 1 < type.getRank(); ++i)
          re[0].push_back(i);
        param = tensor::ExpandShapeOp::create(
            rewriter, loc, RankedTensorType::get(shape, type.getElementType()),
            p, re,
            tensor::ExpandShapeOp::inferOutputShape(
                rewriter, loc,
                RankedTensorType::get(shape, type.getElementType()), re,
                tensor::getMixedSizes(rewriter, loc, p))
                .value());
      }
      inputs.push_back(type.hasStaticShape()
                           ? reshapeTensor(rewriter, loc, p, paramType)
                           : param);
    }
    double eps = op.getEpsilon().convertToDouble();
    Value result = buildElementwise(
        rewriter, loc, inputs, type,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value denom = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, a[4], cst(b, l, a[4], eps)));
          Value norm = arith::DivFOp::create(
              b, l, arith::SubFOp::create(b, l, a[0], a[3]), denom);
          return arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, norm, a[1]), a[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void kiln::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<
      ElementwisePattern<kop::ReluOp>, ElementwisePattern<kop::SigmoidOp>,
      ElementwisePattern<kop::TanhOp>, ElementwisePattern<kop::ExpOp>,
      ElementwisePattern<kop::LogOp>, ElementwisePattern<kop::SqrtOp>,
      ElementwisePattern<kop::NegOp>, ElementwisePattern<kop::AbsOp>,
      ElementwisePattern<kop::ErfOp>, ElementwisePattern<kop::CeilOp>,
      ElementwisePattern<kop::FloorOp>, ElementwisePattern<kop::RoundOp>,
      ElementwisePattern<kop::ReciprocalOp>, ElementwisePattern<kop::SignOp>,
      ElementwisePattern<kop::SinOp>, ElementwisePattern<kop::CosOp>,
      ElementwisePattern<kop::TanOp>, ElementwisePattern<kop::AsinOp>,
      ElementwisePattern<kop::AcosOp>, ElementwisePattern<kop::AtanOp>,
      ElementwisePattern<kop::SinhOp>, ElementwisePattern<kop::CoshOp>,
      ElementwisePattern<kop::AsinhOp>, ElementwisePattern<kop::AcoshOp>,
      ElementwisePattern<kop::AtanhOp>, ElementwisePattern<kop::SoftsignOp>,
      ElementwisePattern<kop::SoftplusOp>, ElementwisePattern<kop::HardSwishOp>,
      ElementwisePattern<kop::MishOp>, ElementwisePattern<kop::NotOp>,
      ElementwisePattern<kop::IsNaNOp>, ElementwisePattern<kop::IsInfOp>,
      ElementwisePattern<kop::ShrinkOp>, ElementwisePattern<kop::BitShiftOp>,
      ElementwisePattern<kop::LeakyReluOp>, ElementwisePattern<kop::EluOp>,
      ElementwisePattern<kop::CeluOp>, ElementwisePattern<kop::ThresholdedReluOp>,
      ElementwisePattern<kop::SeluOp>, ElementwisePattern<kop::HardSigmoidOp>,
      ElementwisePattern<kop::CastOp>, ElementwisePattern<kop::AddOp>,
      ElementwisePattern<kop::SubOp>, ElementwisePattern<kop::MulOp>,
      ElementwisePattern<kop::DivOp>, ElementwisePattern<kop::PowOp>,
      ElementwisePattern<kop::AndOp>, ElementwisePattern<kop::OrOp>,
      ElementwisePattern<kop::XorOp>, ElementwisePattern<kop::EqualOp>,
      ElementwisePattern<kop::LessOp>, ElementwisePattern<kop::LessOrEqualOp>,
      ElementwisePattern<kop::GreaterOp>,
      ElementwisePattern<kop::GreaterOrEqualOp>,
      ElementwisePattern<kop::PReluOp>, ElementwisePattern<kop::ModOp>,
      ElementwisePattern<kop::MaxOp>, ElementwisePattern<kop::MinOp>,
      ElementwisePattern<kop::SumOp>, ElementwisePattern<kop::MeanOp>,
      ElementwisePattern<kop::WhereOp>, ClipPattern, BatchNormPattern>(
      patterns.getContext());
}
