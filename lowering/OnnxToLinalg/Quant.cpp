//===- Quant.cpp - quantization ops to linalg -----------------------------===//
//
// QuantizeLinear and DequantizeLinear are elementwise bodies with the scale
// and zero point broadcast along their axis. The integer products shift
// their operands by the zero points in int32 and become MatMul or Conv on
// int32; the QLinear ops are those products scaled and quantized again; and
// DynamicQuantizeLinear takes its range with two reductions. Each of these
// rewrites into onnx ops that other patterns of this pass lower.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

constexpr int64_t kOnnxFloat = 1, kOnnxInt32 = 6;

Value castTo(PatternRewriter &r, Location loc, Value v, Type elem,
             int64_t code) {
  return makeOnnx<kop::CastOp>(
      r, loc, cast<RankedTensorType>(v.getType()).clone(elem), {v},
      {r.getNamedAttr("to", r.getI64IntegerAttr(code))});
}

/// A scale, zero point or bias of one value per entry of dim `axis` of a
/// tensor of rank `rank`, shaped to broadcast along that dim: [C] becomes
/// [C, 1, ..., 1] (rank - axis dims). Scalars and one-element tensors are
/// returned as they are.
Value alongAxis(PatternRewriter &r, Location loc, Value p, int64_t axis,
                int64_t rank) {
  auto t = cast<RankedTensorType>(p.getType());
  if (t.getRank() != 1 || t.getDimSize(0) == 1 || axis == rank - 1)
    return p;
  SmallVector<int64_t> shape{t.getDimSize(0)}, axes;
  for (int64_t i = axis + 1; i < rank; ++i) {
    axes.push_back(i - axis);
    shape.push_back(1);
  }
  return makeOnnx<kop::UnsqueezeOp>(
      r, loc, t.clone(shape), {p, noValue(r, loc)},
      {r.getNamedAttr("axes", r.getDenseI64ArrayAttr(axes))});
}

/// `v` in int32 less its zero point `zp` (none: no shift), the zero point
/// laid along dim `axis` of v.
Value shifted(PatternRewriter &r, Location loc, Value v, Value zp,
              int64_t axis) {
  Type i32 = r.getI32Type();
  Value c = castTo(r, loc, v, i32, kOnnxInt32);
  if (isNone(zp))
    return c;
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  Value z = alongAxis(r, loc, castTo(r, loc, zp, i32, kOnnxInt32), axis, rank);
  return makeOnnx<kop::SubOp>(r, loc, c.getType(), {c, z});
}

/// The lowest and highest values of an integer type.
std::pair<double, double> intRange(Type t) {
  unsigned w = t.getIntOrFloatBitWidth();
  if (t.isUnsignedInteger())
    return {0.0, std::ldexp(1.0, w) - 1};
  return {-std::ldexp(1.0, w - 1), std::ldexp(1.0, w - 1) - 1};
}

struct QuantizeLinearPattern : OnnxPattern<kop::QuantizeLinearOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::QuantizeLinearOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    SmallVector<Value> inputs{op.getX(),
                              alongAxis(r, loc, op.getYScale(), axis, rank)};
    bool hasZp = !isNone(op.getYZeroPoint());
    if (hasZp)
      inputs.push_back(alongAxis(r, loc, op.getYZeroPoint(), axis, rank));
    auto [lo, hi] = intRange(type.getElementType());
    Value y = buildElementwise(
        r, loc, inputs, type, [&](OpBuilder &b, Location l, ValueRange a) {
          Value s = a[1];
          Value x = convertScalar(b, l, a[0], s.getType());
          Value q = math::RoundEvenOp::create(b, l, divV(b, l, x, s));
          if (hasZp)
            q = addV(b, l, q, convertScalar(b, l, a[2], s.getType()));
          q = minV(b, l, maxV(b, l, q, cst(b, l, q, lo)), cst(b, l, q, hi));
          return convertScalar(b, l, q, type.getElementType());
        });
    r.replaceOp(op, y);
    return success();
  }
};

struct DequantizeLinearPattern : OnnxPattern<kop::DequantizeLinearOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::DequantizeLinearOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    SmallVector<Value> inputs{op.getX(),
                              alongAxis(r, loc, op.getXScale(), axis, rank)};
    bool hasZp = !isNone(op.getXZeroPoint());
    if (hasZp)
      inputs.push_back(alongAxis(r, loc, op.getXZeroPoint(), axis, rank));
    Value y = buildElementwise(
        r, loc, inputs, type, [&](OpBuilder &b, Location l, ValueRange a) {
          Value s = a[1];
          Value x = convertScalar(b, l, a[0], s.getType());
          if (hasZp)
            x = subV(b, l, x, convertScalar(b, l, a[2], s.getType()));
          return mulV(b, l, x, s);
        });
    r.replaceOp(op, y);
    return success();
  }
};

struct DynamicQuantizeLinearPattern
    : OnnxPattern<kop::DynamicQuantizeLinearOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::DynamicQuantizeLinearOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    auto scalar = cast<RankedTensorType>(op.getYScale().getType());
    auto constant = [&](double v) -> Value {
      return kop::ConstantOp::create(
          r, loc, scalar,
          DenseElementsAttr::get(scalar,
                                 r.getFloatAttr(scalar.getElementType(), v)));
    };
    NamedAttribute flat = r.getNamedAttr("keepdims", r.getI64IntegerAttr(0));
    // The range always holds 0, so that 0 quantizes exactly.
    Value lo = makeOnnx<kop::MinOp>(
        r, loc, scalar,
        {makeOnnx<kop::ReduceMinOp>(r, loc, scalar, {x, noValue(r, loc)}, {flat}),
         constant(0)});
    Value hi = makeOnnx<kop::MaxOp>(
        r, loc, scalar,
        {makeOnnx<kop::ReduceMaxOp>(r, loc, scalar, {x, noValue(r, loc)}, {flat}),
         constant(0)});
    Value scale = makeOnnx<kop::DivOp>(
        r, loc, scalar,
        {makeOnnx<kop::SubOp>(r, loc, scalar, {hi, lo}), constant(255)});
    Value zpf = makeOnnx<kop::RoundOp>(
        r, loc, scalar,
        {makeOnnx<kop::ClipOp>(
            r, loc, scalar,
            {makeOnnx<kop::DivOp>(
                 r, loc, scalar,
                 {makeOnnx<kop::NegOp>(r, loc, scalar, {lo}), scale}),
             constant(0), constant(255)})});
    Type u8 = cast<RankedTensorType>(op.getYZeroPoint().getType())
                  .getElementType();
    Value zp = castTo(r, loc, zpf, u8, /*UINT8*/ 2);
    Value y = makeOnnx<kop::QuantizeLinearOp>(r, loc, op.getY().getType(),
                                          {x, scale, zp});
    r.replaceOp(op, {y, scale, zp});
    return success();
  }
};

struct MatMulIntegerPattern : OnnxPattern<kop::MatMulIntegerOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::MatMulIntegerOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    int64_t ra = cast<RankedTensorType>(op.getA().getType()).getRank();
    int64_t rb = cast<RankedTensorType>(op.getB().getType()).getRank();
    // a_zero_point per row of A (dim -2), b_zero_point per column of B.
    Value a = shifted(r, loc, op.getA(), op.getAZeroPoint(), std::max<int64_t>(ra - 2, 0));
    Value b = shifted(r, loc, op.getB(), op.getBZeroPoint(), rb - 1);
    r.replaceOp(op, makeOnnx<kop::MatMulOp>(r, loc, op.getType(), {a, b}));
    return success();
  }
};

/// The window attributes of a ConvInteger or QLinearConv, for a Conv.
SmallVector<NamedAttribute> convAttrs(Operation *op) {
  SmallVector<NamedAttribute> attrs;
  for (StringRef name :
       {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
    if (Attribute a = op->getAttr(name))
      attrs.push_back(NamedAttribute(StringAttr::get(op->getContext(), name), a));
  return attrs;
}

struct ConvIntegerPattern : OnnxPattern<kop::ConvIntegerOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::ConvIntegerOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    // x_zero_point is one value; w_zero_point one per output channel.
    Value x = shifted(r, loc, op.getX(), op.getXZeroPoint(), 0);
    Value w = shifted(r, loc, op.getW(), op.getWZeroPoint(), 0);
    r.replaceOp(op, makeOnnx<kop::ConvOp>(r, loc, op.getType(),
                                      {x, w, noValue(r, loc)}, convAttrs(op)));
    return success();
  }
};

/// acc (int32) as float, times scale, quantized with y_scale and y_zp.
Value requantize(PatternRewriter &r, Location loc, Value acc, Value scale,
                 Value yScale, Value yZp, Type resultType) {
  auto accType = cast<RankedTensorType>(acc.getType());
  Type f = cast<ShapedType>(scale.getType()).getElementType();
  Value af = castTo(r, loc, acc, f, kOnnxFloat);
  Value scaled =
      makeOnnx<kop::MulOp>(r, loc, accType.clone(f), {af, scale});
  return makeOnnx<kop::QuantizeLinearOp>(r, loc, resultType,
                                     {scaled, yScale, yZp});
}

struct QLinearMatMulPattern : OnnxPattern<kop::QLinearMatMulOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::QLinearMatMulOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value acc = makeOnnx<kop::MatMulIntegerOp>(
        r, loc, type.clone(r.getI32Type()),
        {op.getA(), op.getB(), op.getAZeroPoint(), op.getBZeroPoint()});
    auto st = cast<RankedTensorType>(op.getAScale().getType());
    Value scale;
    if (st.getNumElements() == 1 &&
        cast<RankedTensorType>(op.getBScale().getType()).getNumElements() == 1)
      scale = makeOnnx<kop::MulOp>(r, loc, st, {op.getAScale(), op.getBScale()});
    else
      return r.notifyMatchFailure(op, "per-row or per-column scales");
    r.replaceOp(op, requantize(r, loc, acc, scale, op.getYScale(),
                               op.getYZeroPoint(), type));
    return success();
  }
};

struct QLinearConvPattern : OnnxPattern<kop::QLinearConvOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::QLinearConvOp op,
                      PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto accType = type.clone(r.getI32Type());
    SmallVector<NamedAttribute> attrs = convAttrs(op);
    Value acc = makeOnnx<kop::ConvIntegerOp>(
        r, loc, accType,
        {op.getX(), op.getW(), op.getXZeroPoint(), op.getWZeroPoint()}, attrs);
    if (!isNone(op.getB()))
      acc = makeOnnx<kop::AddOp>(r, loc, accType,
                             {acc, alongAxis(r, loc, op.getB(), 1, rank)});
    Value ws = alongAxis(r, loc, op.getWScale(), 1, rank);
    Value scale = makeOnnx<kop::MulOp>(r, loc, ws.getType(), {ws, op.getXScale()});
    r.replaceOp(op, requantize(r, loc, acc, scale, op.getYScale(),
                               op.getYZeroPoint(), type));
    return success();
  }
};

} // namespace

void kiln::populateQuantPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearPattern, DequantizeLinearPattern,
               DynamicQuantizeLinearPattern, MatMulIntegerPattern,
               ConvIntegerPattern, QLinearMatMulPattern, QLinearConvPattern>(
      patterns.getContext());
}
