//===- NN.cpp - normalizations, ConvTranspose and Resize to linalg --------===//
//
// Normalizations: the statistics are reductions over the trailing dims
// (mean, then the variance of x - mean, accumulated in f64), and the output
// one elementwise generic reading them through dropped-dim maps.
//
// ConvTranspose becomes stride^dims onnx.Conv ops, which the Conv patterns
// then lower: one per output phase (outputs a stride apart), each with the
// taps of the flipped, channel-swapped kernel that reach it.
//
// Resize and Upsample: the source taps of each output coordinate depend on
// one dimension only, so they are computed at compile time (ResizeParams from
// resolveResize, the same function shape inference uses) into small index
// and weight tables per resized dimension. One linalg.generic over the output
// reads the tables through (d_i) maps and the input with tensor.extract,
// interpolating one dimension after another. Nearest resizes by integer
// factors need no tables: the input map is `d floordiv factor`.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include <cmath>
#include <functional>
#include <numeric>

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

using utils::IteratorType;

int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

SmallVector<int64_t> range(int64_t begin, int64_t end) {
  SmallVector<int64_t> r;
  for (int64_t i = begin; i < end; ++i)
    r.push_back(i);
  return r;
}

Value generic(OpBuilder &b, Location loc, ValueRange inputs,
              ArrayRef<AffineMap> maps, Value init,
              ArrayRef<IteratorType> iters, BodyFn body) {
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, body(nb, nl, args));
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// Mean and 1 / sqrt(variance + epsilon) of `x` over its dims from
/// `firstAxis` on, in `ct`; both have the shape of x's leading dims.
std::pair<Value, Value> buildMoments(OpBuilder &b, Location loc, Value x,
                                     int64_t firstAxis, double epsilon,
                                     Type ct) {
  MLIRContext *ctx = b.getContext();
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  auto statsType =
      RankedTensorType::get(xt.getShape().take_front(firstAxis), ct);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap lead = dimsMap(ctx, rank, range(0, firstAxis));
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  for (int64_t i = firstAxis; i < rank; ++i)
    iters[i] = IteratorType::reduction;
  SmallVector<int64_t> axes;
  for (int64_t i = firstAxis; i < rank; ++i)
    axes.push_back(i);
  Value count = elementCount(b, loc, x, axes, ct);
  if (!count)
    count = scalarConstant(b, loc, ct, 1);
  Value zero = scalarConstant(b, loc, ct, 0);
  auto elementwise = [&](Value v, BodyFn body) {
    return buildElementwise(b, loc, v, statsType, body);
  };

  SmallVector<Value> leadSizes = dimsOf(b, loc, statsType, x);
  Value sum =
      generic(b, loc, x, {id, lead},
              filledTensor(b, loc, statsType, zero, leadSizes),
              iters, [&](OpBuilder &nb, Location l, ValueRange a) {
                Value v = convertScalar(nb, l, a[0], ct);
                return (Value)arith::AddFOp::create(nb, l, a[1], v);
              });
  Value mean = elementwise(sum, [&](OpBuilder &nb, Location l, ValueRange a) {
    return (Value)arith::DivFOp::create(nb, l, a[0], count);
  });
  Value sq = generic(b, loc, ValueRange{x, mean}, {id, lead, lead},
                     filledTensor(b, loc, statsType, zero, leadSizes), iters,
                     [&](OpBuilder &nb, Location l, ValueRange a) {
                       Value d = arith::SubFOp::create(
                           nb, l, convertScalar(nb, l, a[0], ct), a[1]);
                       Value d2 = arith::MulFOp::create(nb, l, d, d);
                       return (Value)arith::AddFOp::create(nb, l, a[2], d2);
                     });
  Value invStd = elementwise(sq, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value var = arith::DivFOp::create(nb, l, a[0], count);
    Value s = math::SqrtOp::create(
        nb, l,
        arith::AddFOp::create(nb, l, var, scalarConstant(nb, l, ct, epsilon)));
    return (Value)arith::DivFOp::create(nb, l, scalarConstant(nb, l, ct, 1.0),
                                        s);
  });
  return {mean, invStd};
}

/// y = (x - mean) * invStd * scale + bias over x's dims, with the statistics
/// read through the leading dims and scale / bias (bias may be null) through
/// the given maps. Computed in the statistics' type, written in x's.
Value buildNormalized(OpBuilder &b, Location loc, Value x, int64_t firstAxis,
                      Value mean, Value invStd, Value scale, AffineMap scaleMap,
                      Value bias, AffineMap biasMap) {
  MLIRContext *ctx = b.getContext();
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  Type ct = cast<RankedTensorType>(mean.getType()).getElementType();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap lead = dimsMap(ctx, rank, range(0, firstAxis));
  SmallVector<Value> inputs{x, mean, invStd, scale};
  SmallVector<AffineMap> maps{id, lead, lead, scaleMap};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(biasMap);
  }
  maps.push_back(id);
  return generic(
      b, loc, inputs, maps, emptyTensor(b, loc, xt, dimsOf(b, loc, xt, x)),
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v =
            arith::SubFOp::create(nb, l, convertScalar(nb, l, a[0], ct), a[1]);
        v = arith::MulFOp::create(nb, l, v, a[2]);
        v = arith::MulFOp::create(nb, l, v, convertScalar(nb, l, a[3], ct));
        if (bias)
          v = arith::AddFOp::create(nb, l, v, convertScalar(nb, l, a[4], ct));
        return convertScalar(nb, l, v, xt.getElementType());
      });
}

/// The type the statistics and the normalized values are computed in: f64,
/// at least as precise as any stash_type. A float32 sum over thousands of
/// elements with a large mean loses several digits; in f64 the result is the
/// correctly rounded float32 one, at the cost of wider arithmetic in passes
/// that are bound by memory traffic anyway.
Type statsElementType(MLIRContext *ctx) { return Float64Type::get(ctx); }

struct LayerNormalizationPattern : OnnxPattern<kop::LayerNormalizationOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::LayerNormalizationOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    if (!isa<FloatType>(xt.getElementType()))
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    int64_t rank = xt.getRank();
    auto axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (!axis)
      return rewriter.notifyMatchFailure(op, "axis is out of range");
    Type ct = statsElementType(op.getContext());
    auto [mean, invStd] = buildMoments(rewriter, loc, x, *axis,
                                       op.getEpsilon().convertToDouble(), ct);
    MLIRContext *ctx = op.getContext();
    Value bias = isa<NoneType>(op.getB().getType()) ? Value() : op.getB();
    Value y = buildNormalized(
        rewriter, loc, x, *axis, mean, invStd, op.getScale(),
        broadcastMap(ctx, cast<RankedTensorType>(op.getScale().getType()),
                     rank),
        bias,
        bias ? broadcastMap(ctx, cast<RankedTensorType>(bias.getType()), rank)
             : AffineMap());
    // Mean and InvStdDev keep size-1 dims from `axis` on.
    SmallVector<Value> results{y}, stats{mean, invStd};
    for (auto [v, res] : llvm::zip(stats, op->getResults().drop_front())) {
      auto type = cast<RankedTensorType>(res.getType());
      Value s = v;
      if (type.getElementType() != ct)
        s = buildElementwise(
            rewriter, loc, v,
            cast<RankedTensorType>(v.getType()).clone(type.getElementType()),
            [&](OpBuilder &b, Location l, ValueRange a) {
              return convertScalar(b, l, a[0], type.getElementType());
            });
      Value r = reshapeTensor(rewriter, loc, s, type);
      if (!r)
        return rewriter.notifyMatchFailure(op, "statistics of dynamic shape");
      results.push_back(r);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct InstanceNormalizationPattern
    : OnnxPattern<kop::InstanceNormalizationOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::InstanceNormalizationOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    Type elem = xt.getElementType();
    if (!isa<FloatType>(elem) || xt.getRank() < 3)
      return rewriter.notifyMatchFailure(op,
                                         "expects a float N x C x ... input");
    auto [mean, invStd] =
        buildMoments(rewriter, loc, x, 2, op.getEpsilon().convertToDouble(),
                     statsElementType(op.getContext()));
    AffineMap channel = dimsMap(op.getContext(), xt.getRank(), {1});
    rewriter.replaceOp(op, buildNormalized(rewriter, loc, x, 2, mean, invStd,
                                           op.getScale(), channel, op.getB(),
                                           channel));
    return success();
  }
};

/// X [N, C, s...] is viewed as [N, G, C/G, s...] and normalized over the
/// dims from 2 on; scale and bias are per group (opset 18) or per channel.
struct GroupNormalizationPattern : OnnxPattern<kop::GroupNormalizationOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::GroupNormalizationOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    Type elem = xt.getElementType();
    int64_t rank = xt.getRank(), c = xt.getDimSize(1), g = op.getNumGroups();
    if (!isa<FloatType>(elem) || rank < 2 || g < 1 || c % g)
      return rewriter.notifyMatchFailure(
          op, "expects a float N x C x ... input with C divisible by groups");
    SmallVector<int64_t> shape{xt.getDimSize(0), g, c / g};
    llvm::append_range(shape, xt.getShape().drop_front(2));
    SmallVector<ReassociationIndices> assoc{{0}, {1, 2}};
    for (int64_t i = 2; i < rank; ++i)
      assoc.push_back({i + 1});
    auto groupedType = RankedTensorType::get(shape, elem);
    Value x = tensor::ExpandShapeOp::create(rewriter, loc, groupedType,
                                            op.getX(), assoc);
    Type ct = statsElementType(ctx);
    auto [mean, invStd] = buildMoments(rewriter, loc, x, 2,
                                       op.getEpsilon().convertToDouble(), ct);
    auto perChannel = [&](Value v) -> std::pair<Value, AffineMap> {
      auto vt = cast<RankedTensorType>(v.getType());
      if (vt.getDimSize(0) == g)
        return {v, dimsMap(ctx, rank + 1, {1})};
      Value r =
          reshapeTensor(rewriter, loc, v,
                        RankedTensorType::get({g, c / g}, vt.getElementType()));
      return {r, dimsMap(ctx, rank + 1, {1, 2})};
    };
    auto [scale, scaleMap] = perChannel(op.getScale());
    auto [bias, biasMap] = perChannel(op.getBias());
    Value y = buildNormalized(rewriter, loc, x, 2, mean, invStd, scale,
                              scaleMap, bias, biasMap);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, xt, y, assoc);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

/// The part of one spatial dim of ConvTranspose that one output phase (the
/// outputs o = phase + stride * q) computes.
///
/// y[o] = sum x[i] * W[k] over o + padBegin = i * stride + k * dilation. For
/// o in one residue class mod stride only the taps k with k * dilation =
/// o + padBegin (mod stride) contribute: k0, k0 + tapStride, ... (numTaps of
/// them), and they read x at q + c, q + c - dilation', ..., so the phase is
/// a stride-1 convolution, dilation' apart, of x (shifted by `base`) with
/// those taps of the flipped kernel.
struct ConvTransposePhase {
  int64_t count = 0;   // outputs in the phase
  int64_t numTaps = 0; // 0: no tap reaches the phase
  int64_t flipStart = 0, tapStride = 1, dilation = 1, base = 0;
};

ConvTransposePhase convTransposePhase(const onnx::ConvTransposeGeometry &g,
                                      int64_t dim, int64_t phase, int64_t out) {
  ConvTransposePhase p;
  int64_t s = g.strides[dim], d = g.dilations[dim], k = g.kernel[dim];
  p.count = ceilDiv(out - phase, s);
  int64_t target = phase + g.padBegin[dim];
  int64_t k0 = 0;
  while (k0 < k && ((k0 * d - target) % s + s) % s != 0)
    ++k0;
  if (k0 == k)
    return p;
  int64_t common = std::gcd(d, s);
  p.tapStride = s / common;
  p.dilation = d / common;
  p.numTaps = (k - 1 - k0) / p.tapStride + 1;
  p.flipStart = k - 1 - k0 - (p.numTaps - 1) * p.tapStride;
  p.base = (target - k0 * d) / s - (p.numTaps - 1) * p.dilation;
  return p;
}

/// Lowers to one onnx.Conv per output phase (stride^dims of them), each
/// inserted `stride` apart into the result; the Conv patterns lower those
/// (1x1 phases of a kernel-2 stride-2 ConvTranspose become plain matrix
/// products). No multiply-add touches an inserted zero.
struct ConvTransposePattern : OnnxPattern<kop::ConvTransposeOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::ConvTransposeOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto wt = cast<RankedTensorType>(op.getW().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = outType.getElementType();
    int64_t rank = xt.getRank(), sp = rank - 2, group = op.getGroup();
    if (sp < 1 || wt.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "expects N-d input and weights");
    int64_t n = xt.getDimSize(0), c = xt.getDimSize(1), mg = wt.getDimSize(1);
    if (group < 1 || c % group || wt.getDimSize(0) != c)
      return rewriter.notifyMatchFailure(op, "channels do not match group");
    int64_t cg = c / group, m = mg * group;
    onnx::ConvTransposeGeometry g;
    if (auto err = onnx::computeConvTransposeGeometry(
            op, xt.getShape().drop_front(2), wt.getShape().drop_front(2), g))
      return rewriter.notifyMatchFailure(op, *err);
    if (ArrayRef<int64_t>(g.outSpatial) != outType.getShape().drop_front(2))
      return rewriter.notifyMatchFailure(
          op, "geometry disagrees with the result shape");

    // W [C, M/G, k...] -> [M, C/G, k...], flipped: through [G, C/G, M/G, k...]
    // read as (g, m, c, k...) -> (g, c, m, kernel - 1 - k...).
    SmallVector<int64_t> wShape{group, cg, mg}, fShape{group, mg, cg};
    llvm::append_range(wShape, g.kernel);
    llvm::append_range(fShape, g.kernel);
    SmallVector<ReassociationIndices> assoc{{0, 1}, {2}};
    for (int64_t i = 0; i < sp; ++i)
      assoc.push_back({3 + i});
    Value w = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(wShape, elem), op.getW(), assoc);
    SmallVector<AffineExpr> wExprs{getAffineDimExpr(0, ctx),
                                   getAffineDimExpr(2, ctx),
                                   getAffineDimExpr(1, ctx)};
    for (int64_t i = 0; i < sp; ++i)
      wExprs.push_back(g.kernel[i] - 1 - getAffineDimExpr(3 + i, ctx));
    auto fType = RankedTensorType::get(fShape, elem);
    Value flipped =
        generic(rewriter, loc, w,
                {AffineMap::get(sp + 3, 0, wExprs, ctx),
                 rewriter.getMultiDimIdentityMap(sp + 3)},
                emptyTensor(rewriter, loc, fType),
                SmallVector<IteratorType>(sp + 3, IteratorType::parallel),
                [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    SmallVector<int64_t> flipShape{m, cg};
    llvm::append_range(flipShape, g.kernel);
    Value flip = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get(flipShape, elem), flipped, assoc);

    auto folds = [&](ArrayRef<int64_t> v) {
      return getAsIndexOpFoldResult(ctx, v);
    };
    auto slice = [&](Value v, ArrayRef<int64_t> offsets,
                     ArrayRef<int64_t> sizes,
                     ArrayRef<int64_t> strides) -> Value {
      auto vt = cast<RankedTensorType>(v.getType());
      if (sizes == vt.getShape())
        return v;
      return tensor::ExtractSliceOp::create(
          rewriter, loc, RankedTensorType::get(sizes, elem), v, folds(offsets),
          folds(sizes), folds(strides));
    };
    Value zero = scalarConstant(rewriter, loc, elem, 0);
    bool hasBias = !isa<NoneType>(op.getB().getType());

    // Every combination of per-dim phases.
    SmallVector<int64_t> numPhases;
    for (int64_t i = 0; i < sp; ++i)
      numPhases.push_back(std::min(g.strides[i], g.outSpatial[i]));
    int64_t total = ShapedType::getNumElements(numPhases);
    Value result = total == 1 ? Value() : emptyTensor(rewriter, loc, outType);
    for (int64_t flat = 0; flat < total; ++flat) {
      SmallVector<int64_t> phase(sp);
      for (int64_t i = sp - 1, rest = flat; i >= 0; --i) {
        phase[i] = rest % numPhases[i];
        rest /= numPhases[i];
      }
      SmallVector<int64_t> yShape{n, m}, xLo{0, 0}, xSize{n, c}, low(rank, 0),
          high(rank, 0), wOff{0, 0}, wSize{m, cg}, wStep{1, 1}, dils;
      bool reached = true;
      for (int64_t i = 0; i < sp; ++i) {
        ConvTransposePhase p =
            convTransposePhase(g, i, phase[i], g.outSpatial[i]);
        yShape.push_back(p.count);
        // The input the phase reads: [base, base + span), zero outside x.
        int64_t span = p.count + (p.numTaps - 1) * p.dilation;
        int64_t in = xt.getDimSize(i + 2);
        int64_t lo = std::max<int64_t>(0, p.base);
        int64_t hi = std::min(in, p.base + span);
        reached &= p.numTaps > 0 && hi > lo;
        xLo.push_back(lo);
        xSize.push_back(hi - lo);
        low[i + 2] = lo - p.base;
        high[i + 2] = p.base + span - hi;
        wOff.push_back(p.flipStart);
        wSize.push_back(p.numTaps);
        wStep.push_back(p.tapStride);
        dils.push_back(p.dilation);
      }
      auto yType = RankedTensorType::get(yShape, elem);
      Value y;
      if (!reached) {
        // No input reaches these outputs: the bias alone.
        if (hasBias) {
          SmallVector<int64_t> bShape(rank, 1);
          bShape[1] = m;
          Value b = reshapeTensor(rewriter, loc, op.getB(),
                                  RankedTensorType::get(bShape, elem));
          y = buildElementwise(
              rewriter, loc, b, yType,
              [](OpBuilder &, Location, ValueRange a) { return a[0]; });
        } else {
          y = filledTensor(rewriter, loc, yType, zero);
        }
      } else {
        Value x = slice(op.getX(), xLo, xSize, SmallVector<int64_t>(rank, 1));
        x = padTensor(rewriter, loc, x, low, high, zero);
        Value wp = slice(flip, wOff, wSize, wStep);
        SmallVector<NamedAttribute> attrs{
            rewriter.getNamedAttr("group", rewriter.getI64IntegerAttr(group))};
        if (llvm::any_of(dils, [](int64_t d) { return d != 1; }))
          attrs.push_back(rewriter.getNamedAttr(
              "dilations", rewriter.getDenseI64ArrayAttr(dils)));
        y = kop::ConvOp::create(rewriter, loc, TypeRange{yType},
                                ValueRange{x, wp, op.getB()}, attrs)
                .getResult();
      }
      if (total == 1) {
        result = y;
        break;
      }
      SmallVector<int64_t> offsets{0, 0}, strides{1, 1};
      llvm::append_range(offsets, phase);
      llvm::append_range(strides, g.strides);
      result = tensor::InsertSliceOp::create(rewriter, loc, y, result,
                                             folds(offsets), folds(yShape),
                                             folds(strides));
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Resize, Upsample
//===----------------------------------------------------------------------===//

/// The taps of one dimension: for output coordinate o, the input indices
/// idx[t][o] weighted by w[t][o], t < taps.
struct AxisTaps {
  SmallVector<SmallVector<int64_t>> idx;
  SmallVector<SmallVector<double>> w;
  bool identity = false; // idx[0][o] == o, weight 1
  int64_t factor = 0;    // nearest by an integer factor: idx = o / factor
  bool unitWeights = false;
};

/// The source coordinate of output coordinate `o`, as the reference
/// implementation of the ONNX spec computes it.
double sourceCoordinate(const onnx::ResizeParams &p, int64_t o, int64_t in,
                        int64_t out, double scale) {
  double lengthResized = scale * in;
  const std::string &m = p.coordMode;
  if (m == "align_corners")
    return lengthResized == 1 ? 0 : o * (in - 1) / (lengthResized - 1);
  if (m == "asymmetric")
    return o / scale;
  if (m == "tf_half_pixel_for_nn")
    return (o + 0.5) / scale;
  if (m == "pytorch_half_pixel")
    return lengthResized > 1 ? (o + 0.5) / scale - 0.5 : 0;
  if (m == "half_pixel_symmetric") {
    double adjustment = out / lengthResized;
    double offset = in / 2.0 * (1 - adjustment);
    return offset + (o + 0.5) / scale - 0.5;
  }
  return (o + 0.5) / scale - 0.5; // half_pixel
}

SmallVector<double> cubicCoeffs(double r, double a) {
  double s = 1 - r;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * s - (a + 3)) * s * s + 1,
          ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
}

AxisTaps computeTaps(const onnx::ResizeParams &p, int64_t in, int64_t out,
                     double scale) {
  SmallVector<SmallVector<std::pair<int64_t, double>>> perOut;
  for (int64_t o = 0; o < out; ++o) {
    double x = sourceCoordinate(p, o, in, out, scale);
    SmallVector<std::pair<int64_t, double>> taps;
    bool whole = x == std::floor(x);
    if (p.mode == "nearest") {
      int64_t i;
      double f = std::floor(x), r = x - f;
      const std::string &nm = p.nearestMode;
      if (nm == "simple")
        i = scale < 1 ? (int64_t)std::ceil(x) : (int64_t)f;
      else if (whole || nm == "floor")
        i = (int64_t)f;
      else if (nm == "ceil")
        i = (int64_t)f + 1;
      else if (nm == "round_prefer_ceil")
        i = (int64_t)f + (r >= 0.5);
      else // round_prefer_floor
        i = (int64_t)f + (r > 0.5);
      taps.push_back({i, 1.0});
    } else {
      // The taps left of x (x itself counts as right of the one before).
      int64_t base = whole ? (int64_t)x - 1 : (int64_t)std::floor(x);
      double r = whole ? 1.0 : x - std::floor(x);
      if (p.mode == "linear") {
        taps = {{base, 1 - r}, {base + 1, r}};
      } else {
        SmallVector<double> cs = cubicCoeffs(r, p.cubicA);
        for (int64_t t = 0; t < 4; ++t)
          taps.push_back({base - 1 + t, cs[t]});
      }
      if (p.excludeOutside) {
        double sum = 0;
        for (auto &[i, w] : taps) {
          if (i < 0 || i >= in)
            w = 0;
          sum += w;
        }
        if (sum != 0)
          for (auto &tap : taps)
            tap.second /= sum;
      }
    }
    // Past the border, the edge value; then one tap per index.
    SmallVector<std::pair<int64_t, double>> merged;
    for (auto [i, w] : taps) {
      i = std::clamp<int64_t>(i, 0, in - 1);
      auto it = llvm::find_if(merged, [&](auto &t) { return t.first == i; });
      if (it != merged.end())
        it->second += w;
      else
        merged.push_back({i, w});
    }
    llvm::erase_if(merged, [](auto &t) { return t.second == 0; });
    if (merged.empty())
      merged.push_back({std::clamp<int64_t>(taps.front().first, 0, in - 1), 0});
    perOut.push_back(merged);
  }

  AxisTaps t;
  size_t numTaps = 1;
  for (auto &taps : perOut)
    numTaps = std::max(numTaps, taps.size());
  t.idx.assign(numTaps, SmallVector<int64_t>(out, 0));
  t.w.assign(numTaps, SmallVector<double>(out, 0));
  t.unitWeights = numTaps == 1;
  for (int64_t o = 0; o < out; ++o) {
    for (size_t k = 0; k < numTaps; ++k) {
      bool real = k < perOut[o].size();
      t.idx[k][o] = perOut[o][real ? k : 0].first;
      t.w[k][o] = real ? perOut[o][k].second : 0;
    }
    t.unitWeights &= t.w[0][o] == 1;
  }
  if (t.unitWeights && out % in == 0) {
    int64_t f = out / in;
    bool byFactor = true;
    for (int64_t o = 0; o < out; ++o)
      byFactor &= t.idx[0][o] == o / f;
    t.factor = byFactor ? f : 0;
    t.identity = byFactor && f == 1;
  }
  return t;
}

/// The element of `x` interpolated from its taps: for each dim, (index,
/// weight or null for 1) pairs; the weighted sum over every combination,
/// one dim after another.
Value interpolate(OpBuilder &b, Location l, Value x,
                  ArrayRef<SmallVector<std::pair<Value, Value>>> taps) {
  SmallVector<Value> coords;
  std::function<Value(size_t)> at = [&](size_t d) -> Value {
    if (d == taps.size())
      return tensor::ExtractOp::create(b, l, x, coords);
    Value acc;
    for (auto [idx, w] : taps[d]) {
      coords.push_back(idx);
      Value v = at(d + 1);
      coords.pop_back();
      if (w)
        v = arith::MulFOp::create(b, l, w, v);
      acc = acc ? arith::AddFOp::create(b, l, acc, v).getResult() : v;
    }
    return acc;
  };
  return at(0);
}

/// The source coordinate of output coordinate `o` (f64 values), computed at
/// run time like sourceCoordinate.
Value sourceCoordinateAt(OpBuilder &b, Location l, StringRef m, Value o,
                         Value in, Value out, Value scale) {
  auto c = [&](double v) {
    return arith::ConstantFloatOp::create(b, l, b.getF64Type(), APFloat(v));
  };
  auto add = [&](Value x, Value y) { return arith::AddFOp::create(b, l, x, y); };
  auto sub = [&](Value x, Value y) { return arith::SubFOp::create(b, l, x, y); };
  auto mul = [&](Value x, Value y) { return arith::MulFOp::create(b, l, x, y); };
  auto div = [&](Value x, Value y) { return arith::DivFOp::create(b, l, x, y); };
  Value lengthResized = mul(scale, in);
  Value centre = div(add(o, c(0.5)), scale); // (o + 0.5) / scale
  if (m == "align_corners") {
    Value one = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                      lengthResized, c(1));
    return arith::SelectOp::create(
        b, l, one, c(0),
        div(mul(o, sub(in, c(1))), sub(lengthResized, c(1))));
  }
  if (m == "asymmetric")
    return div(o, scale);
  if (m == "tf_half_pixel_for_nn")
    return centre;
  if (m == "pytorch_half_pixel") {
    Value more = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                       lengthResized, c(1));
    return arith::SelectOp::create(b, l, more, sub(centre, c(0.5)), c(0));
  }
  if (m == "half_pixel_symmetric") {
    Value adjustment = div(out, lengthResized);
    Value offset = mul(div(in, c(2)), sub(c(1), adjustment));
    return add(offset, sub(centre, c(0.5)));
  }
  return sub(centre, c(0.5)); // half_pixel
}

template <typename OpTy> struct ResizePattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  /// Scales or sizes read at run time: the result's dims are derived dims.
  bool dynamicDims() const override { return true; }

  /// Scales or sizes known at run time only: one generic computing each
  /// output element's taps as it goes (the source coordinate, the nearest
  /// index or the linear/cubic weights in f64, as computeTaps does at
  /// compile time).
  LogicalResult lowerDerived(OpTy op, PatternRewriter &rewriter,
                             ArrayRef<Value> outSizes) const {
    Location loc = op.getLoc();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = xt.getElementType();
    int64_t rank = xt.getRank();
    onnx::ResizeParams p;
    if (auto err = onnx::resolveResize(op, xt.getShape(), p, true))
      return rewriter.notifyMatchFailure(op, *err);
    if (!p.runtimeScales && !p.runtimeSizes)
      return rewriter.notifyMatchFailure(op, "no run-time scales or sizes");
    if (p.mode != "nearest" && !isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "interpolation needs floats");
    for (int64_t d = 0; d < rank; ++d)
      if (xt.getDimSize(d) == 0)
        return rewriter.notifyMatchFailure(op, "resizing an empty tensor");
    FloatType f64 = rewriter.getF64Type();
    auto toF64 = [&](OpBuilder &b, Location l, Value v) -> Value {
      if (isa<IndexType>(v.getType()))
        v = arith::IndexCastOp::create(b, l, b.getI64Type(), v);
      if (isa<IntegerType>(v.getType()))
        return arith::SIToFPOp::create(b, l, f64, v);
      return v.getType() == f64 ? v : arith::ExtFOp::create(b, l, f64, v);
    };
    // An f64 value as an element (f32 rounds).
    auto toElem = [&](OpBuilder &b, Location l, Value v) -> Value {
      return elem == f64 ? v : (Value)arith::TruncFOp::create(b, l, elem, v);
    };
    // Per dim: the input and output sizes (index) and the scale (f64).
    SmallVector<Value> in, out, scale;
    for (int64_t d = 0, k = 0; d < rank; ++d) {
      in.push_back(xt.isDynamicDim(d)
                       ? (Value)tensor::DimOp::create(rewriter, loc, x, d)
                       : (Value)arith::ConstantIndexOp::create(
                             rewriter, loc, xt.getDimSize(d)));
      out.push_back(outType.isDynamicDim(d)
                        ? outSizes[k++]
                        : (Value)arith::ConstantIndexOp::create(
                              rewriter, loc, outType.getDimSize(d)));
      if (p.runtimeScales) {
        Value at = arith::ConstantIndexOp::create(rewriter, loc, d);
        scale.push_back(toF64(
            rewriter, loc,
            tensor::ExtractOp::create(rewriter, loc, p.runtimeScales, at)));
      } else {
        scale.push_back(arith::DivFOp::create(rewriter, loc,
                                              toF64(rewriter, loc, out[d]),
                                              toF64(rewriter, loc, in[d])));
      }
    }
    Value init = emptyTensor(rewriter, loc, outType, outSizes);
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    Value y = generic(
        rewriter, loc, ValueRange{}, {rewriter.getMultiDimIdentityMap(rank)},
        init, iters, [&](OpBuilder &b, Location l, ValueRange) {
          auto c = [&](double v) {
            return arith::ConstantFloatOp::create(b, l, f64, APFloat(v));
          };
          auto idx = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v);
          };
          // Per dim, per tap: (index, weight or null).
          SmallVector<SmallVector<std::pair<Value, Value>>> taps(rank);
          Value outside; // tf_crop_and_resize: a source outside the input
          for (int64_t d = 0; d < rank; ++d) {
            Value o = toF64(b, l, linalg::IndexOp::create(b, l, d));
            Value inF = toF64(b, l, in[d]);
            Value pos;
            if (p.runtimeRoi) {
              // start (in - 1) + o (end - start)(in - 1) / (out - 1), or
              // the roi's middle for one output element.
              auto roiAt = [&](int64_t i) -> Value {
                return toF64(b, l,
                             tensor::ExtractOp::create(
                                 b, l, p.runtimeRoi,
                                 ValueRange{arith::ConstantIndexOp::create(
                                     b, l, i)}));
              };
              Value start = roiAt(d), end = roiAt(d + rank);
              Value span = arith::SubFOp::create(b, l, inF, c(1));
              Value outF = toF64(b, l, out[d]);
              Value many = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OGT, outF, c(1));
              Value step = arith::DivFOp::create(
                  b, l,
                  arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, end, start),
                                        span),
                  arith::SelectOp::create(b, l, many,
                                          arith::SubFOp::create(b, l, outF, c(1)),
                                          c(1)));
              Value along = arith::AddFOp::create(
                  b, l, arith::MulFOp::create(b, l, start, span),
                  arith::MulFOp::create(b, l, o, step));
              Value middle = arith::MulFOp::create(
                  b, l,
                  arith::MulFOp::create(b, l, arith::AddFOp::create(b, l, start, end),
                                        c(0.5)),
                  span);
              pos = arith::SelectOp::create(b, l, many, along, middle);
              Value out = arith::OrIOp::create(
                  b, l,
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, pos, c(0)),
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, pos, span));
              outside = outside ? arith::OrIOp::create(b, l, outside, out) : out;
            } else {
              pos = sourceCoordinateAt(b, l, p.coordMode, o, inF,
                                       toF64(b, l, out[d]), scale[d]);
            }
            Value fl = math::FloorOp::create(b, l, pos);
            Value r = arith::SubFOp::create(b, l, pos, fl);
            Value whole = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                                pos, fl);
            Value last = arith::SubIOp::create(b, l, in[d], idx(1));
            auto toIndex = [&](Value v) -> Value {
              return arith::IndexCastOp::create(
                  b, l, b.getIndexType(),
                  arith::FPToSIOp::create(b, l, b.getI64Type(), v));
            };
            auto clamp = [&](Value i) -> Value {
              return arith::MinSIOp::create(
                  b, l, arith::MaxSIOp::create(b, l, i, idx(0)), last);
            };
            if (p.mode == "nearest") {
              auto pick = [&](arith::CmpFPredicate pred, double t) -> Value {
                Value up = arith::CmpFOp::create(b, l, pred, r, c(t));
                return arith::SelectOp::create(
                    b, l, up, arith::AddFOp::create(b, l, fl, c(1)), fl);
              };
              StringRef nm = p.nearestMode;
              Value chosen;
              if (nm == "simple") {
                Value down = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OLT, scale[d], c(1));
                chosen = arith::SelectOp::create(
                    b, l, down, math::CeilOp::create(b, l, pos), fl);
              } else if (nm == "floor") {
                chosen = fl;
              } else if (nm == "ceil") {
                chosen = pick(arith::CmpFPredicate::OGT, 0);
              } else if (nm == "round_prefer_ceil") {
                chosen = pick(arith::CmpFPredicate::OGE, 0.5);
              } else {
                chosen = pick(arith::CmpFPredicate::OGT, 0.5);
              }
              taps[d].push_back({clamp(toIndex(chosen)), Value()});
              continue;
            }
            // The taps left of x (x itself counts as right of the one
            // before), then their weights.
            Value base = arith::SelectOp::create(
                b, l, whole, arith::SubFOp::create(b, l, pos, c(1)), fl);
            r = arith::SelectOp::create(b, l, whole, c(1), r);
            SmallVector<std::pair<Value, Value>> raw; // (f64 index, weight)
            if (p.mode == "linear") {
              raw.push_back({base, arith::SubFOp::create(b, l, c(1), r)});
              raw.push_back({arith::AddFOp::create(b, l, base, c(1)), r});
            } else {
              // cubicCoeffs(r, a), at run time
              double a = p.cubicA;
              Value s1 = arith::SubFOp::create(b, l, c(1), r);
              auto outer = [&](Value t) -> Value { // t = r + 1 or s + 1
                // ((a t - 5a) t + 8a) t - 4a
                Value v = arith::SubFOp::create(
                    b, l, arith::MulFOp::create(b, l, c(a), t), c(5 * a));
                v = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, v, t),
                                          c(8 * a));
                return arith::SubFOp::create(
                    b, l, arith::MulFOp::create(b, l, v, t), c(4 * a));
              };
              auto inner = [&](Value t) -> Value { // ((a+2) t - (a+3)) t t + 1
                Value v = arith::SubFOp::create(
                    b, l, arith::MulFOp::create(b, l, c(a + 2), t), c(a + 3));
                v = arith::MulFOp::create(
                    b, l, arith::MulFOp::create(b, l, v, t), t);
                return arith::AddFOp::create(b, l, v, c(1));
              };
              SmallVector<Value> cs{
                  outer(arith::AddFOp::create(b, l, r, c(1))), inner(r),
                  inner(s1), outer(arith::AddFOp::create(b, l, s1, c(1)))};
              for (int64_t t = 0; t < 4; ++t)
                raw.push_back(
                    {arith::AddFOp::create(b, l, base, c(t - 1)), cs[t]});
            }
            if (p.excludeOutside) {
              Value sum = c(0);
              for (auto &[i, w] : raw) {
                Value outside = arith::OrIOp::create(
                    b, l,
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, i,
                                          c(0)),
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, i,
                                          inF));
                w = arith::SelectOp::create(b, l, outside, c(0), w);
                sum = arith::AddFOp::create(b, l, sum, w);
              }
              Value zero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                                 sum, c(0));
              Value by = arith::SelectOp::create(b, l, zero, c(1), sum);
              for (auto &[i, w] : raw)
                w = arith::DivFOp::create(b, l, w, by);
            }
            for (auto [i, w] : raw)
              taps[d].push_back(
                  {clamp(toIndex(i)), toElem(b, l, w)});
          }
          Value v = interpolate(b, l, x, taps);
          if (outside)
            v = arith::SelectOp::create(
                b, l, outside,
                toElem(b, l, c(p.extrapolation)), v);
          return v;
        });
    rewriter.replaceOp(op, y);
    return success();
  }

  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (auto derived = derivedSizes(op, outType))
      return lowerDerived(op, rewriter, *derived);
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Type elem = xt.getElementType();
    int64_t rank = xt.getRank();
    onnx::ResizeParams p;
    if (auto err = onnx::resolveResize(op, xt.getShape(), p))
      return rewriter.notifyMatchFailure(op, *err);
    if (ArrayRef<int64_t>(p.outShape) != outType.getShape())
      return rewriter.notifyMatchFailure(
          op, "resize parameters disagree with the result shape");
    if (p.mode != "nearest" && !isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "interpolation needs floats");
    if (xt.getNumElements() == 0)
      return rewriter.notifyMatchFailure(op, "resizing an empty tensor");

    SmallVector<AxisTaps> axes;
    bool affine = true;
    for (int64_t i = 0; i < rank; ++i) {
      axes.push_back(
          computeTaps(p, xt.getDimSize(i), outType.getDimSize(i), p.scales[i]));
      affine &= axes.back().factor != 0;
    }
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    Value init = emptyTensor(rewriter, loc, outType);

    // Nearest by integer factors: a copy through `d floordiv factor`.
    if (affine) {
      SmallVector<AffineExpr> exprs;
      for (int64_t i = 0; i < rank; ++i) {
        AffineExpr d = getAffineDimExpr(i, ctx);
        exprs.push_back(axes[i].factor == 1 ? d : d.floorDiv(axes[i].factor));
      }
      rewriter.replaceOp(
          op,
          generic(rewriter, loc, x, {AffineMap::get(rank, 0, exprs, ctx), id},
                  init, iters,
                  [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
      return success();
    }

    // Tables: for each dim that is not an identity, the index (i64) and,
    // unless all weights are 1, the weight of each tap, read through (d_i).
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    auto addTable = [&](int64_t dim, Attribute values) {
      inputs.push_back(
          arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(values)));
      maps.push_back(dimsMap(ctx, rank, {dim}));
    };
    Type i64 = rewriter.getI64Type();
    for (int64_t i = 0; i < rank; ++i) {
      AxisTaps &t = axes[i];
      if (t.identity)
        continue;
      int64_t out = outType.getDimSize(i);
      for (size_t k = 0; k < t.idx.size(); ++k) {
        addTable(i, DenseElementsAttr::get(RankedTensorType::get({out}, i64),
                                           ArrayRef<int64_t>(t.idx[k])));
        if (t.unitWeights)
          continue;
        SmallVector<Attribute> ws;
        for (double w : t.w[k])
          ws.push_back(rewriter.getFloatAttr(elem, w));
        addTable(
            i, DenseElementsAttr::get(RankedTensorType::get({out}, elem), ws));
      }
    }
    maps.push_back(id);

    Value y = generic(
        rewriter, loc, inputs, maps, init, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          // Per dim, per tap: (index, weight or null).
          SmallVector<SmallVector<std::pair<Value, Value>>> taps(rank);
          size_t next = 0;
          for (int64_t i = 0; i < rank; ++i) {
            if (axes[i].identity) {
              taps[i].push_back({linalg::IndexOp::create(b, l, i), Value()});
              continue;
            }
            for (size_t k = 0; k < axes[i].idx.size(); ++k) {
              Value idx = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                     args[next++]);
              Value w = axes[i].unitWeights ? Value() : args[next++];
              taps[i].push_back({idx, w});
            }
          }
          return interpolate(b, l, x, taps);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

namespace {
/// GridSample, one generic over Y: each element reads its grid point, maps
/// it to pixel coordinates, and sums the taps of its mode (each tap's
/// coordinates padded by padding_mode, read as 0 outside with zeros).
struct GridSamplePattern : OnnxPattern<kop::GridSampleOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::GridSampleOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto xType = cast<RankedTensorType>(op.getX().getType());
    if (type.getNumElements() == 0)
      return rewriter.notifyMatchFailure(op, "empty result");
    Location loc = op.getLoc();
    Value x = op.getX(), grid = op.getGrid();
    bool align = op.getAlignCorners();
    StringRef mode = op.getMode(), pad = op.getPaddingMode();
    int64_t h = xType.getDimSize(2), w = xType.getDimSize(3);
    Value y = generateTensor(
        rewriter, loc, type,
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs) -> Value {
          Value n = ivs[0], c = ivs[1], i = ivs[2], j = ivs[3];
          auto idx = [&](int64_t v) -> Value {
            return arith::ConstantIndexOp::create(b, l, v);
          };
          Value gx = tensor::ExtractOp::create(b, l, grid,
                                               ValueRange{n, i, j, idx(0)});
          Value gy = tensor::ExtractOp::create(b, l, grid,
                                               ValueRange{n, i, j, idx(1)});
          auto k = [&](double v) { return cst(b, l, gx, v); };
          auto add = [&](Value p, Value q) { return addV(b, l, p, q); };
          auto sub = [&](Value p, Value q) { return subV(b, l, p, q); };
          auto mul = [&](Value p, Value q) { return mulV(b, l, p, q); };
          auto floorV = [&](Value p) -> Value {
            return math::FloorOp::create(b, l, p);
          };
          // [-1, 1] to pixel coordinates.
          auto unnormalize = [&](Value g, int64_t size) {
            return align ? mul(mul(add(g, k(1)), k(0.5)), k(size - 1))
                         : mul(sub(mul(add(g, k(1)), k(size)), k(1)), k(0.5));
          };
          auto clip = [&](Value p, int64_t size) {
            return minV(b, l, maxV(b, l, p, k(0)), k(size - 1));
          };
          auto reflect = [&](Value p, double lo2, double hi2) -> Value {
            if (lo2 == hi2)
              return k(0);
            double lo = lo2 / 2, span = (hi2 - lo2) / 2;
            Value a = math::AbsFOp::create(b, l, sub(p, k(lo)));
            Value flips = floorV(divV(b, l, a, k(span)));
            Value extra = sub(a, mul(flips, k(span)));
            Value odd = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ,
                sub(flips, mul(floorV(mul(flips, k(0.5))), k(2))), k(1));
            return arith::SelectOp::create(b, l, odd,
                                           add(sub(k(span), extra), k(lo)),
                                           add(extra, k(lo)));
          };
          // padding_mode applied to a coordinate.
          auto padCoord = [&](Value p, int64_t size) -> Value {
            if (pad == "border")
              return clip(p, size);
            if (pad == "reflection")
              return clip(align ? reflect(p, 0, 2 * (size - 1))
                                : reflect(p, -1, 2 * size - 1),
                          size);
            return p;
          };
          // X at float pixel coordinates (whole numbers), 0 outside.
          auto tap = [&](Value py, Value px) -> Value {
            Value inside = arith::AndIOp::create(
                b, l,
                arith::AndIOp::create(
                    b, l,
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, px,
                                          k(0)),
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, px,
                                          k(w - 1))),
                arith::AndIOp::create(
                    b, l,
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, py,
                                          k(0)),
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, py,
                                          k(h - 1))));
            auto index = [&](Value p, int64_t size) -> Value {
              Value q = arith::FPToSIOp::create(b, l, b.getI64Type(),
                                                clip(p, size));
              return arith::IndexCastOp::create(b, l, b.getIndexType(), q);
            };
            Value v = tensor::ExtractOp::create(
                b, l, x, ValueRange{n, c, index(py, h), index(px, w)});
            return arith::SelectOp::create(b, l, inside, v, k(0));
          };
          Value ux = unnormalize(gx, w), uy = unnormalize(gy, h);
          Value result;
          if (mode == "nearest") {
            Value px = math::RoundEvenOp::create(b, l, padCoord(ux, w));
            Value py = math::RoundEvenOp::create(b, l, padCoord(uy, h));
            result = tap(py, px);
          } else if (mode == "bilinear") {
            Value px = padCoord(ux, w), py = padCoord(uy, h);
            Value x0 = floorV(px), y0 = floorV(py);
            Value x1 = add(x0, k(1)), y1 = add(y0, k(1));
            Value tx = sub(px, x0), ty = sub(py, y0);
            Value sx = sub(k(1), tx), sy = sub(k(1), ty);
            result = add(add(mul(tap(y0, x0), mul(sx, sy)),
                             mul(tap(y0, x1), mul(tx, sy))),
                         add(mul(tap(y1, x0), mul(sx, ty)),
                             mul(tap(y1, x1), mul(tx, ty))));
          } else {
            // Bicubic: 4 x 4 taps around floor(u), each padded.
            Value x0 = floorV(ux), y0 = floorV(uy);
            Value tx = sub(ux, x0), ty = sub(uy, y0);
            auto coeffs = [&](Value t) {
              // Keys' cubic with A = -0.75 at distances 1 + t, t, 1 - t, 2 - t.
              double a = -0.75;
              auto near = [&](Value d) { // |d| <= 1
                return add(mul(mul(sub(mul(k(a + 2), d), k(a + 3)), d), d),
                           k(1));
              };
              auto far = [&](Value d) { // 1 < |d| < 2
                return sub(mul(add(mul(sub(mul(k(a), d), k(5 * a)), d),
                                   k(8 * a)),
                               d),
                           k(4 * a));
              };
              return SmallVector<Value>{far(add(t, k(1))), near(t),
                                        near(sub(k(1), t)),
                                        far(sub(k(2), t))};
            };
            SmallVector<Value> cx = coeffs(tx), cy = coeffs(ty);
            result = k(0);
            for (int dy = 0; dy < 4; ++dy) {
              Value row = k(0);
              Value py = padCoord(add(y0, k(dy - 1)), h);
              for (int dx = 0; dx < 4; ++dx) {
                Value px = padCoord(add(x0, k(dx - 1)), w);
                row = add(row, mul(tap(py, px), cx[dx]));
              }
              result = add(result, mul(row, cy[dy]));
            }
          }
          return result;
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};
} // namespace

namespace {
/// LRN: x^2 padded with zeros along C, summed over a window of `size`
/// channels (a reduction dim), then y = x / (bias + alpha / size * sum)^beta.
struct LRNPattern : OnnxPattern<kop::LRNOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::LRNOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank(), size = op.getSize();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value sq = buildElementwise(rewriter, loc, op.getX(), type,
                                [&](OpBuilder &b, Location l, ValueRange a) {
                                  return mulV(b, l, a[0], a[0]);
                                });
    SmallVector<int64_t> low(rank, 0), high(rank, 0);
    low[1] = (size - 1) / 2;
    high[1] = size - 1 - low[1];
    Value padded = padTensor(rewriter, loc, sq, low, high,
                             scalarConstant(rewriter, loc,
                                            type.getElementType(), 0));
    // sum[d0..] += padded[d0, d1 + r, d2..], r the extra last loop dim.
    SmallVector<AffineExpr> in;
    for (int64_t d = 0; d < rank; ++d)
      in.push_back(d == 1 ? getAffineDimExpr(1, ctx) + getAffineDimExpr(rank, ctx)
                          : getAffineDimExpr(d, ctx));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    // The window's extent, for the loop bounds (its values are not read).
    Value window = emptyTensor(
        rewriter, loc, RankedTensorType::get({size}, type.getElementType()));
    Value sum = linalg::GenericOp::create(
                    rewriter, loc, TypeRange{type}, ValueRange{padded, window},
                    ValueRange{filledTensor(
                        rewriter, loc, type,
                        scalarConstant(rewriter, loc, type.getElementType(), 0))},
                    ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, in, ctx),
                                        dimsMap(ctx, rank + 1, {rank}),
                                        leadingDims(ctx, rank)},
                    iters,
                    [&](OpBuilder &b, Location l, ValueRange a) {
                      linalg::YieldOp::create(b, l, addV(b, l, a[2], a[0]));
                    },
                    /*loopSizes*/ ArrayRef<NamedAttribute>{})
                    .getResult(0);
    double alpha = op.getAlpha().convertToDouble() / size,
           beta = op.getBeta().convertToDouble(),
           bias = op.getBias().convertToDouble();
    Value y = buildElementwise(
        rewriter, loc, ValueRange{op.getX(), sum}, type,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value base = addV(b, l, cst(b, l, a[1], bias),
                            mulV(b, l, cst(b, l, a[1], alpha), a[1]));
          return divV(b, l, a[0],
                      math::PowFOp::create(b, l, base, cst(b, l, base, beta)));
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// MeanVarianceNormalization, as its function body in onnx ops.
struct MVNPattern : OnnxPattern<kop::MeanVarianceNormalizationOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::MeanVarianceNormalizationOp op,
                      PatternRewriter &r) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    SmallVector<int64_t> axes(
        op.getAxes().value_or(ArrayRef<int64_t>(kop::kMvnAxes)));
    SmallVector<int64_t> kept(type.getShape());
    for (int64_t &a : axes) {
      a = *kop::normalizeAxis(a, type.getRank());
      kept[a] = 1;
    }
    auto statType = type.clone(kept);
    auto mean = [&](Value v) {
      return makeOnnx<kop::ReduceMeanOp>(
          r, loc, statType, {v, noValue(r, loc)},
          {r.getNamedAttr("axes", r.getDenseI64ArrayAttr(axes))});
    };
    Value x = op.getX();
    Value m = mean(x);
    Value ex2 = mean(makeOnnx<kop::MulOp>(r, loc, type, {x, x}));
    Value var = makeOnnx<kop::SubOp>(
        r, loc, statType, {ex2, makeOnnx<kop::MulOp>(r, loc, statType, {m, m})});
    auto scalar = RankedTensorType::get({}, type.getElementType());
    Value eps = kop::ConstantOp::create(
        r, loc, scalar,
        DenseElementsAttr::get(scalar,
                               r.getFloatAttr(type.getElementType(), 1e-9)));
    Value std = makeOnnx<kop::AddOp>(
        r, loc, statType, {makeOnnx<kop::SqrtOp>(r, loc, statType, {var}), eps});
    r.replaceOp(op, makeOnnx<kop::DivOp>(
                        r, loc, type,
                        {makeOnnx<kop::SubOp>(r, loc, type, {x, m}), std}));
    return success();
  }
};
} // namespace

namespace {
/// BatchNormalization in training mode, in onnx ops: the batch's mean and
/// (population) variance over every axis but 1, Y from them, and the
/// running statistics.
struct BatchNormTrainingPattern : OnnxPattern<kop::BatchNormalizationOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::BatchNormalizationOp op,
                      PatternRewriter &r) const override {
    if (!op.getTrainingMode())
      return r.notifyMatchFailure(op, "inference mode");
    auto type = cast<RankedTensorType>(op.getY().getType());
    int64_t rank = type.getRank();
    if (rank < 2)
      return r.notifyMatchFailure(op, "input rank below 2");
    Location loc = op.getLoc();
    SmallVector<int64_t> axes{0}, kept(rank, 1), inner;
    for (int64_t d = 2; d < rank; ++d) {
      axes.push_back(d);
      inner.push_back(d - 1);
    }
    kept[1] = type.getDimSize(1);
    auto keptType = type.clone(kept);
    auto chanType = cast<RankedTensorType>(op.getInputMean().getType());
    auto axesAttr = r.getNamedAttr("axes", r.getDenseI64ArrayAttr(axes));
    auto mean = [&](Value v, bool keep) {
      return makeOnnx<kop::ReduceMeanOp>(
          r, loc, keep ? keptType : chanType, {v, noValue(r, loc)},
          {axesAttr, r.getNamedAttr("keepdims", r.getI64IntegerAttr(keep))});
    };
    // [C] as [C, 1, ...] to broadcast along axis 1.
    auto perChannel = [&](Value v) -> Value {
      if (inner.empty())
        return v;
      return makeOnnx<kop::UnsqueezeOp>(
          r, loc, keptType.clone(ArrayRef<int64_t>(kept).drop_front()),
          {v, noValue(r, loc)},
          {r.getNamedAttr("axes", r.getDenseI64ArrayAttr(inner))});
    };
    auto scalar = [&](double v) -> Value {
      auto t = RankedTensorType::get({}, type.getElementType());
      return kop::ConstantOp::create(
          r, loc, t,
          DenseElementsAttr::get(t, r.getFloatAttr(type.getElementType(), v)));
    };
    Value x = op.getX();
    Value m = mean(x, true);
    Value d = makeOnnx<kop::SubOp>(r, loc, type, {x, m});
    Value sq = makeOnnx<kop::MulOp>(r, loc, type, {d, d});
    Value v = mean(sq, true);
    Value denom = makeOnnx<kop::SqrtOp>(
        r, loc, keptType,
        {makeOnnx<kop::AddOp>(r, loc, keptType,
                              {v, scalar(op.getEpsilon().convertToDouble())})});
    Value y = makeOnnx<kop::AddOp>(
        r, loc, type,
        {makeOnnx<kop::MulOp>(
             r, loc, type,
             {makeOnnx<kop::DivOp>(r, loc, type, {d, denom}),
              perChannel(op.getScale())}),
         perChannel(op.getB())});
    SmallVector<Value> results{y};
    if (!op.getRunningStats().empty()) {
      double momentum = op.getMomentum().convertToDouble();
      auto running = [&](Value old, Value now) {
        return makeOnnx<kop::AddOp>(
            r, loc, chanType,
            {makeOnnx<kop::MulOp>(r, loc, chanType, {old, scalar(momentum)}),
             makeOnnx<kop::MulOp>(r, loc, chanType,
                                  {now, scalar(1 - momentum)})});
      };
      results.push_back(running(op.getInputMean(), mean(x, false)));
      results.push_back(running(op.getInputVar(), mean(sq, false)));
    }
    r.replaceOp(op, results);
    return success();
  }
};
} // namespace

void kiln::populateNNPatterns(RewritePatternSet &patterns) {
  patterns.add<GridSamplePattern, LRNPattern, MVNPattern,
               BatchNormTrainingPattern>(patterns.getContext());
  patterns.add<LayerNormalizationPattern, InstanceNormalizationPattern,
               GroupNormalizationPattern, ConvTransposePattern,
               ResizePattern<kop::ResizeOp>, ResizePattern<kop::UpsampleOp>>(
      patterns.getContext());
}
