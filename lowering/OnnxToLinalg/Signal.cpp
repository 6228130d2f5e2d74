//===- Signal.cpp - windows, DFT, STFT and mel filters to linalg ----------===//
//
// Every transform is the direct sum, one output element per generic
// iteration: O(n^2) for an n-point DFT (no FFT yet). The twiddle factors
// cos/sin(2 pi j / n) are computed in f32 from the angle reduced to a
// quarter turn, so they are exact at multiples of pi / 2 (a real signal's
// Nyquist bin has no spurious imaginary part) and need no libm.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;
using utils::IteratorType;

namespace {

Value i64c(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIntOp::create(b, l, v, 64);
}
Value f32c(OpBuilder &b, Location l, double v) {
  return arith::ConstantFloatOp::create(b, l, b.getF32Type(),
                                        APFloat((float)v));
}
Value toI64(OpBuilder &b, Location l, Value index) {
  return arith::IndexCastOp::create(b, l, b.getI64Type(), index);
}

/// (cos, sin) of 2 pi j / n, f32, for i64 `j` in [0, n) and `n` > 0: the
/// angle's quarter turn q = floor(4j / n) and the rest phi in [0, pi / 2),
/// rotated back by q quarter turns.
std::pair<Value, Value> twiddle(OpBuilder &b, Location l, Value j, Value n) {
  Value four = arith::MulIOp::create(b, l, j, i64c(b, l, 4));
  Value q = arith::DivSIOp::create(b, l, four, n);
  Value rest = arith::SubIOp::create(b, l, four,
                                     arith::MulIOp::create(b, l, q, n));
  Type f32 = b.getF32Type();
  Value phi = arith::DivFOp::create(
      b, l,
      arith::MulFOp::create(b, l, arith::SIToFPOp::create(b, l, f32, rest),
                            f32c(b, l, M_PI / 2)),
      arith::SIToFPOp::create(b, l, f32, n));
  Value c = math::CosOp::create(b, l, phi), s = math::SinOp::create(b, l, phi);
  Value nc = arith::NegFOp::create(b, l, c), ns = arith::NegFOp::create(b, l, s);
  auto pick = [&](Value v0, Value v1, Value v2, Value v3) {
    auto is = [&](int64_t k) {
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, q,
                                   i64c(b, l, k));
    };
    return arith::SelectOp::create(
        b, l, is(0), v0,
        arith::SelectOp::create(b, l, is(1), v1,
                                arith::SelectOp::create(b, l, is(2), v2, v3)));
  };
  return {pick(c, ns, nc, s), pick(s, c, ns, nc)};
}

/// The part `part` (index: 0 real, 1 imaginary) of x * e^(-+i theta) for
/// the twiddle (c, s) of theta: forward (e^-i theta) unless `inverse`.
Value rotatedPart(OpBuilder &b, Location l, Value part, Value xr, Value xi,
                  Value c, Value s, bool inverse) {
  // forward: (xr c + xi s) + i (xi c - xr s); inverse flips the sign of s.
  Value re = inverse ? subV(b, l, mulV(b, l, xr, c), mulV(b, l, xi, s))
                     : addV(b, l, mulV(b, l, xr, c), mulV(b, l, xi, s));
  Value im = inverse ? addV(b, l, mulV(b, l, xi, c), mulV(b, l, xr, s))
                     : subV(b, l, mulV(b, l, xi, c), mulV(b, l, xr, s));
  Value isRe = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, part,
                                     arith::ConstantIndexOp::create(b, l, 0));
  return arith::SelectOp::create(b, l, isRe, re, im);
}

/// A scalar tensor operand's value as i64 (ints) read at run time.
Value scalarI64(OpBuilder &b, Location l, Value t) {
  return convertScalar(b, l, extractElement(b, l, t), b.getI64Type());
}

/// The dynamic sizes of `op`'s result: none when static, else its derived
/// dims; nullopt when neither.
std::optional<SmallVector<Value>> resultSizes(Operation *op,
                                              RankedTensorType type) {
  if (type.hasStaticShape())
    return SmallVector<Value>{};
  return derivedSizes(op, type);
}

//===----------------------------------------------------------------------===//
// Windows
//===----------------------------------------------------------------------===//

struct WindowCoefficients {
  double a0, a1, a2;
};
WindowCoefficients coefficientsOf(Operation *op) {
  if (isa<kop::HammingWindowOp>(op))
    return {25.0 / 46.0, 21.0 / 46.0, 0.0};
  if (isa<kop::BlackmanWindowOp>(op))
    return {0.42, 0.5, 0.08};
  return {0.5, 0.5, 0.0};
}

template <typename OpTy>
struct WindowPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto sizes = resultSizes(op, type);
    if (!sizes)
      return rewriter.notifyMatchFailure(op, "a size not derived");
    Location loc = op.getLoc();
    Value size = type.isDynamicDim(0)
                     ? toI64(rewriter, loc, (*sizes)[0])
                     : i64c(rewriter, loc, type.getDimSize(0));
    // N = size (periodic) or size - 1, at least 1 (a symmetric window of
    // one element is [1]).
    Value n = op.getPeriodic()
                  ? size
                  : arith::SubIOp::create(rewriter, loc, size,
                                          i64c(rewriter, loc, 1));
    n = arith::MaxSIOp::create(rewriter, loc, n, i64c(rewriter, loc, 1));
    WindowCoefficients k = coefficientsOf(op);
    Value w = generateTensor(
        rewriter, loc, type,
        [&](OpBuilder &b, Location l, ArrayRef<Value> at) {
          Value i = toI64(b, l, at[0]);
          Value c1 = twiddle(b, l, arith::RemSIOp::create(b, l, i, n), n).first;
          Value i2 = arith::RemSIOp::create(
              b, l, arith::MulIOp::create(b, l, i, i64c(b, l, 2)), n);
          Value c2 = twiddle(b, l, i2, n).first;
          Value v = arith::AddFOp::create(
              b, l,
              arith::SubFOp::create(
                  b, l, f32c(b, l, k.a0),
                  arith::MulFOp::create(b, l, f32c(b, l, k.a1), c1)),
              arith::MulFOp::create(b, l, f32c(b, l, k.a2), c2));
          return convertScalar(b, l, v, type.getElementType());
        },
        *sizes);
    rewriter.replaceOp(op, w);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// DFT
//===----------------------------------------------------------------------===//

/// y[.., k, .., p] = sum over m < min(n, N) of part p of x[.., m, ..] *
/// e^(-+2 pi i k m / N) (scaled by 1 / N when inverse): one generic whose
/// extra last loop dim, a reduction, is m; x (cut to N along the axis) is
/// read through maps that fix its last dim to 0 (real) and 1 (imaginary).
struct DFTPattern : OnnxPattern<kop::DFTOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::DFTOp op,
                      PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getInput().getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = *kop::normalizeAxis(op.getAxis(), rank);
    int64_t n = xType.getDimSize(axis);
    int64_t length = n;
    if (!isNone(op.getDftLength())) {
      auto c = kop::getConstantInts(op.getDftLength());
      if (!c || c->size() != 1)
        return rewriter.notifyMatchFailure(op, "dft_length is not a constant");
      length = (*c)[0];
    }
    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t used = std::min(n, length);
    if (used < n) {
      SmallVector<int64_t> sizes(xType.getShape());
      sizes[axis] = used;
      x = tensor::ExtractSliceOp::create(
          rewriter, loc, RankedTensorType::get(sizes, xType.getElementType()),
          x, indexAttrs(rewriter, SmallVector<int64_t>(rank, 0)),
          indexAttrs(rewriter, sizes),
          indexAttrs(rewriter, SmallVector<int64_t>(rank, 1)));
    }
    bool complex = xType.getShape().back() == 2;
    MLIRContext *ctx = rewriter.getContext();
    // Loop dims: the result's, then m.
    auto partMap = [&](int64_t part) {
      SmallVector<AffineExpr> exprs;
      for (int64_t d = 0; d + 1 < rank; ++d)
        exprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
      exprs.push_back(getAffineConstantExpr(part, ctx));
      return AffineMap::get(rank + 1, 0, exprs, ctx);
    };
    SmallVector<Value> inputs{x};
    SmallVector<AffineMap> maps{partMap(0)};
    if (complex) {
      inputs.push_back(x);
      maps.push_back(partMap(1));
    }
    maps.push_back(leadingDims(ctx, rank));
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters.push_back(IteratorType::reduction);
    Value init = filledTensor(rewriter, loc, type,
                              scalarConstant(rewriter, loc,
                                             type.getElementType(), 0));
    bool inverse = op.getInverse();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, inputs, ValueRange{init}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value xr = a[0], xi = complex ? a[1] : cst(b, l, a[0], 0);
          Value k = toI64(b, l, linalg::IndexOp::create(b, l, axis));
          Value m = toI64(b, l, linalg::IndexOp::create(b, l, rank));
          Value nv = i64c(b, l, length);
          Value j = arith::RemSIOp::create(
              b, l, arith::MulIOp::create(b, l, k, m), nv);
          auto [c, s] = twiddle(b, l, j, nv);
          c = convertScalar(b, l, c, xr.getType());
          s = convertScalar(b, l, s, xr.getType());
          Value term = rotatedPart(b, l, linalg::IndexOp::create(b, l, rank - 1),
                                   xr, xi, c, s, inverse);
          if (inverse)
            term = mulV(b, l, term, cst(b, l, term, 1.0 / (double)length));
          linalg::YieldOp::create(b, l, ValueRange{addV(b, l, a.back(), term)});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// STFT
//===----------------------------------------------------------------------===//

/// out[b, f, k, p] = sum over m < L of part p of signal[b, f * step + m] *
/// window[m] * e^(-2 pi i k m / L): one generic over the result with an
/// scf.for over m in its body (step and L may be read at run time).
struct STFTPattern : OnnxPattern<kop::STFTOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::STFTOp op,
                      PatternRewriter &rewriter) const override {
    auto sType = cast<RankedTensorType>(op.getSignal().getType());
    auto type = cast<RankedTensorType>(op.getType());
    auto sizes = resultSizes(op, type);
    if (!sizes)
      return rewriter.notifyMatchFailure(op, "frames or bins not derived");
    if (sType.isDynamicDim(2))
      return rewriter.notifyMatchFailure(op, "the signal's last dim is dynamic");
    Location loc = op.getLoc();
    Value window = isNone(op.getWindow()) ? Value() : op.getWindow();
    Value length;
    if (window) {
      if (cast<RankedTensorType>(window.getType()).isDynamicDim(0))
        return rewriter.notifyMatchFailure(op, "the window's length is dynamic");
      length = i64c(rewriter, loc,
                    cast<RankedTensorType>(window.getType()).getDimSize(0));
    } else {
      length = scalarI64(rewriter, loc, op.getFrameLength());
    }
    Value step = scalarI64(rewriter, loc, op.getFrameStep());
    Value lengthIdx = arith::IndexCastOp::create(
        rewriter, loc, rewriter.getIndexType(), length);
    bool complex = sType.getDimSize(2) == 2;
    Type elem = type.getElementType();
    Value signal = op.getSignal();
    Value y = generateTensor(
        rewriter, loc, type,
        [&](OpBuilder &b, Location l, ArrayRef<Value> at) {
          Value k = toI64(b, l, at[2]);
          Value start = arith::MulIOp::create(b, l, toI64(b, l, at[1]), step);
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value one = arith::ConstantIndexOp::create(b, l, 1);
          auto loop = scf::ForOp::create(
              b, l, zero, lengthIdx, one,
              ValueRange{scalarConstant(b, l, elem, 0)},
              [&](OpBuilder &fb, Location fl, Value mIdx, ValueRange acc) {
                Value m = toI64(fb, fl, mIdx);
                Value pos = arith::IndexCastOp::create(
                    fb, fl, fb.getIndexType(),
                    arith::AddIOp::create(fb, fl, start, m));
                auto read = [&](int64_t part) {
                  return tensor::ExtractOp::create(
                      fb, fl, signal,
                      ValueRange{at[0], pos,
                                 arith::ConstantIndexOp::create(fb, fl, part)})
                      .getResult();
                };
                Value xr = read(0), xi = complex ? read(1) : cst(fb, fl, xr, 0);
                if (window) {
                  Value w = convertScalar(
                      fb, fl, tensor::ExtractOp::create(fb, fl, window, mIdx),
                      elem);
                  xr = mulV(fb, fl, xr, w);
                  xi = mulV(fb, fl, xi, w);
                }
                Value j = arith::RemSIOp::create(
                    fb, fl, arith::MulIOp::create(fb, fl, k, m), length);
                auto [c, s] = twiddle(fb, fl, j, length);
                c = convertScalar(fb, fl, c, elem);
                s = convertScalar(fb, fl, s, elem);
                Value term = rotatedPart(fb, fl, at[3], xr, xi, c, s, false);
                scf::YieldOp::create(fb, fl, ValueRange{addV(fb, fl, acc[0], term)});
              });
          return loop.getResult(0);
        },
        *sizes);
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MelWeightMatrix
//===----------------------------------------------------------------------===//

/// w[j, i]: the triangle of mel bin i at spectrogram bin j, from the
/// spectrogram bins f(i), f(i + 1), f(i + 2) of mel points i..i+2 (f64):
/// f(t) = floor((dft_length + 1) * hz(low + t * step) / sample_rate), hz(m)
/// = 700 (10^(m / 2595) - 1), step = (high - low) / (num_mel_bins + 2).
/// Rising (j - f(i)) / (f(i+1) - f(i)) on [f(i), f(i+1)] (1 at f(i+1) when
/// the two meet), falling (f(i+2) - j) / (f(i+2) - f(i+1)) on
/// [f(i+1), f(i+2)), 0 elsewhere.
struct MelWeightMatrixPattern : OnnxPattern<kop::MelWeightMatrixOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::MelWeightMatrixOp op,
                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto sizes = resultSizes(op, type);
    if (!sizes)
      return rewriter.notifyMatchFailure(op, "bin counts not derived");
    Location loc = op.getLoc();
    Type f64 = rewriter.getF64Type();
    auto scalar = [&](Value t) {
      return convertScalar(rewriter, loc, extractElement(rewriter, loc, t), f64);
    };
    Value bins = scalar(op.getNumMelBins()), dft = scalar(op.getDftLength());
    Value rate = scalar(op.getSampleRate());
    auto c = [&](OpBuilder &b, Location l, double v) {
      return arith::ConstantFloatOp::create(b, l, cast<FloatType>(f64),
                                            APFloat(v));
    };
    // mel(f) = 2595 log10(1 + f / 700) = (2595 / ln 10) ln(1 + f / 700)
    auto mel = [&](Value hz) {
      Value r = arith::DivFOp::create(rewriter, loc, hz, c(rewriter, loc, 700));
      return arith::MulFOp::create(
          rewriter, loc, c(rewriter, loc, 2595 / std::log(10.0)),
          math::Log1pOp::create(rewriter, loc, r));
    };
    Value low = mel(scalar(op.getLowerEdgeHertz()));
    Value high = mel(scalar(op.getUpperEdgeHertz()));
    Value step = arith::DivFOp::create(
        rewriter, loc, arith::SubFOp::create(rewriter, loc, high, low),
        arith::AddFOp::create(rewriter, loc, bins, c(rewriter, loc, 2)));
    Value w = generateTensor(
        rewriter, loc, type,
        [&](OpBuilder &b, Location l, ArrayRef<Value> at) {
          Value j = arith::SIToFPOp::create(b, l, f64, toI64(b, l, at[0]));
          Value i = arith::SIToFPOp::create(b, l, f64, toI64(b, l, at[1]));
          auto point = [&](double t) {
            Value m = arith::AddFOp::create(
                b, l, low,
                arith::MulFOp::create(
                    b, l, arith::AddFOp::create(b, l, i, c(b, l, t)), step));
            Value hz = arith::MulFOp::create(
                b, l, c(b, l, 700),
                math::ExpM1Op::create(
                    b, l,
                    arith::MulFOp::create(b, l, m,
                                          c(b, l, std::log(10.0) / 2595))));
            return math::FloorOp::create(
                b, l,
                arith::DivFOp::create(
                    b, l,
                    arith::MulFOp::create(
                        b, l, arith::AddFOp::create(b, l, dft, c(b, l, 1)), hz),
                    rate));
          };
          Value left = point(0), center = point(1), right = point(2);
          auto cmp = [&](arith::CmpFPredicate p, Value x, Value y) {
            return arith::CmpFOp::create(b, l, p, x, y);
          };
          auto andV = [&](Value x, Value y) {
            return arith::AndIOp::create(b, l, x, y);
          };
          Value zero = c(b, l, 0), one = c(b, l, 1);
          Value rise = arith::SubFOp::create(b, l, center, left);
          Value rising = arith::SelectOp::create(
              b, l, cmp(arith::CmpFPredicate::OEQ, rise, zero), one,
              arith::DivFOp::create(
                  b, l, arith::SubFOp::create(b, l, j, left), rise));
          Value onRise = andV(cmp(arith::CmpFPredicate::OGE, j, left),
                              cmp(arith::CmpFPredicate::OLE, j, center));
          Value v = arith::SelectOp::create(b, l, onRise, rising, zero);
          Value fall = arith::SubFOp::create(b, l, right, center);
          Value onFall = andV(cmp(arith::CmpFPredicate::OGT, fall, zero),
                              andV(cmp(arith::CmpFPredicate::OGE, j, center),
                                   cmp(arith::CmpFPredicate::OLT, j, right)));
          v = arith::SelectOp::create(
              b, l, onFall,
              arith::DivFOp::create(
                  b, l, arith::SubFOp::create(b, l, right, j), fall),
              v);
          return convertScalar(b, l, v, type.getElementType());
        },
        *sizes);
    rewriter.replaceOp(op, w);
    return success();
  }
};

} // namespace

void kiln::populateSignalPatterns(RewritePatternSet &patterns) {
  patterns.add<WindowPattern<kop::HannWindowOp>,
               WindowPattern<kop::HammingWindowOp>,
               WindowPattern<kop::BlackmanWindowOp>, DFTPattern, STFTPattern,
               MelWeightMatrixPattern>(patterns.getContext());
}
