//===- Random.cpp - ops with random outputs to linalg ---------------------===//
//
// A counter-based generator: element i of an op with seed s takes
// splitmix64(s + (i + 1) * golden), so results need no state, are the same
// on every run and target, and each element is computed independently
// (elementwise fusion and parallel loops apply as for any generic).
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/Hashing.h"

#include <cstring>

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

/// The op's seed: its `seed` attribute's bits, or a hash of its location
/// (the node's name) so that unseeded ops draw different numbers.
uint64_t seedOf(Operation *op) {
  Attribute a = op->getAttr("seed");
  if (auto f = dyn_cast_or_null<FloatAttr>(a)) {
    float v = f.getValue().convertToFloat();
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return 0x5eed000000000000ull ^ bits;
  }
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return 0x5eed000000000000ull ^ (uint64_t)i.getInt();
  std::string where;
  llvm::raw_string_ostream os(where);
  op->getLoc().print(os);
  return llvm::hash_value(where);
}

/// The row-major position of the current element of a generic over `type`.
Value linearIndex(OpBuilder &b, Location l, RankedTensorType type) {
  Value i = arith::ConstantIndexOp::create(b, l, 0);
  for (int64_t d = 0; d < type.getRank(); ++d) {
    i = arith::MulIOp::create(
        b, l, i, arith::ConstantIndexOp::create(b, l, type.getDimSize(d)));
    i = arith::AddIOp::create(b, l, i, linalg::IndexOp::create(b, l, d));
  }
  return arith::IndexCastOp::create(b, l, b.getI64Type(), i);
}

/// A number uniform in [0, 1) (f32, 24 random bits) for counter `i` (i64).
Value uniformAt(OpBuilder &b, Location l, uint64_t seed, Value i) {
  Type i64 = b.getI64Type();
  auto c = [&](uint64_t v) {
    return arith::ConstantOp::create(b, l, i64, b.getIntegerAttr(i64, v));
  };
  Value z = arith::AddIOp::create(
      b, l, c(seed),
      arith::MulIOp::create(b, l, arith::AddIOp::create(b, l, i, c(1)),
                            c(0x9E3779B97F4A7C15ull)));
  auto mix = [&](Value x, uint64_t shift, uint64_t mul) {
    Value s = arith::XOrIOp::create(
        b, l, x, arith::ShRUIOp::create(b, l, x, c(shift)));
    return mul ? (Value)arith::MulIOp::create(b, l, s, c(mul)) : s;
  };
  z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
  z = mix(z, 27, 0x94D049BB133111EBull);
  z = mix(z, 31, 0);
  Value top = arith::ShRUIOp::create(b, l, z, c(40));
  Type f32 = b.getF32Type();
  return arith::MulFOp::create(
      b, l, arith::UIToFPOp::create(b, l, f32, top),
      arith::ConstantOp::create(b, l, f32, b.getFloatAttr(f32, 0x1p-24)));
}

/// A standard normal number for element `i` (Box-Muller on counters 2i and
/// 2i + 1).
Value normalAt(OpBuilder &b, Location l, uint64_t seed, Value i) {
  Type i64 = b.getI64Type();
  auto c = [&](int64_t v) {
    return arith::ConstantOp::create(b, l, i64, b.getIntegerAttr(i64, v));
  };
  Value twice = arith::MulIOp::create(b, l, i, c(2));
  Value u1 = uniformAt(b, l, seed, twice);
  Value u2 = uniformAt(b, l, seed, arith::AddIOp::create(b, l, twice, c(1)));
  Value one = cst(b, l, u1, 1.0);
  Value r = math::SqrtOp::create(
      b, l,
      arith::MulFOp::create(
          b, l, cst(b, l, u1, -2.0),
          math::LogOp::create(b, l, arith::SubFOp::create(b, l, one, u1))));
  Value angle = arith::MulFOp::create(b, l, u2, cst(b, l, u2, 2 * M_PI));
  return arith::MulFOp::create(b, l, r, math::CosOp::create(b, l, angle));
}

/// Random numbers over the result of `op` (reading `inputs` elementwise):
/// `body` maps the element's inputs and position to its value.
template <typename OpTy>
struct RandomPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  virtual Value draw(OpTy op, OpBuilder &b, Location l, uint64_t seed,
                     Value index, ValueRange inputs) const = 0;
  virtual SmallVector<Value> inputsOf(OpTy op) const {
    return SmallVector<Value>(op->getOperands());
  }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    uint64_t seed = seedOf(op);
    Value y = buildElementwise(
        rewriter, op.getLoc(), inputsOf(op), type,
        [&](OpBuilder &b, Location l, ValueRange a) {
          return draw(op, b, l, seed, linearIndex(b, l, type), a);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// low + u * (high - low), in f32 then converted.
Value scaled(OpBuilder &b, Location l, Value u, double lo, double hi) {
  return arith::AddFOp::create(
      b, l, cst(b, l, u, lo),
      arith::MulFOp::create(b, l, u, cst(b, l, u, hi - lo)));
}

struct UniformLikePattern : RandomPattern<kop::RandomUniformLikeOp> {
  using RandomPattern::RandomPattern;
  SmallVector<Value> inputsOf(kop::RandomUniformLikeOp) const override {
    return {};
  }
  Value draw(kop::RandomUniformLikeOp op, OpBuilder &b, Location l,
             uint64_t seed, Value i, ValueRange) const override {
    return scaled(b, l, uniformAt(b, l, seed, i),
                  op.getLow().convertToDouble(), op.getHigh().convertToDouble());
  }
};

struct UniformPattern : RandomPattern<kop::RandomUniformOp> {
  using RandomPattern::RandomPattern;
  Value draw(kop::RandomUniformOp op, OpBuilder &b, Location l, uint64_t seed,
             Value i, ValueRange) const override {
    return scaled(b, l, uniformAt(b, l, seed, i),
                  op.getLow().convertToDouble(), op.getHigh().convertToDouble());
  }
};

Value normalScaled(OpBuilder &b, Location l, Value z, double mean,
                   double scale) {
  return arith::AddFOp::create(
      b, l, cst(b, l, z, mean),
      arith::MulFOp::create(b, l, z, cst(b, l, z, scale)));
}

struct NormalLikePattern : RandomPattern<kop::RandomNormalLikeOp> {
  using RandomPattern::RandomPattern;
  SmallVector<Value> inputsOf(kop::RandomNormalLikeOp) const override {
    return {};
  }
  Value draw(kop::RandomNormalLikeOp op, OpBuilder &b, Location l,
             uint64_t seed, Value i, ValueRange) const override {
    return normalScaled(b, l, normalAt(b, l, seed, i),
                        op.getMean().convertToDouble(),
                        op.getScale().convertToDouble());
  }
};

struct NormalPattern : RandomPattern<kop::RandomNormalOp> {
  using RandomPattern::RandomPattern;
  Value draw(kop::RandomNormalOp op, OpBuilder &b, Location l, uint64_t seed,
             Value i, ValueRange) const override {
    return normalScaled(b, l, normalAt(b, l, seed, i),
                        op.getMean().convertToDouble(),
                        op.getScale().convertToDouble());
  }
};

struct BernoulliPattern : RandomPattern<kop::BernoulliOp> {
  using RandomPattern::RandomPattern;
  Value draw(kop::BernoulliOp, OpBuilder &b, Location l, uint64_t seed,
             Value i, ValueRange a) const override {
    Value u = uniformAt(b, l, seed, i);
    Value p = convertScalar(b, l, a[0], u.getType());
    Value hit = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, u, p);
    return arith::SelectOp::create(b, l, hit, cst(b, l, u, 1), cst(b, l, u, 0));
  }
};

/// Dropout with a training_mode read at run time (or a constant true):
/// element i is kept where training is off or u_i >= ratio, and scaled by
/// 1 / (1 - ratio) in training; the mask says which were kept.
struct DropoutTrainingPattern : OnnxPattern<kop::DropoutOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::DropoutOp op,
                      PatternRewriter &rewriter) const override {
    Value training = op.getTrainingMode();
    if (isNone(training))
      return rewriter.notifyMatchFailure(op, "inference mode");
    if (auto mode = kop::getConstantScalar(training); mode && *mode == 0.0)
      return rewriter.notifyMatchFailure(op, "inference mode");
    auto type = cast<RankedTensorType>(op.getOutput().getType());
    Location loc = op.getLoc();
    uint64_t seed = seedOf(op);
    Value ratio = op.getRatio();
    bool hasRatio = !isNone(ratio);
    SmallVector<Value> inputs{op.getData(), training};
    if (hasRatio)
      inputs.push_back(ratio);
    // keep and scale, for element values a.
    auto keepAndScale = [&](OpBuilder &b, Location l,
                            ValueRange a) -> std::pair<Value, Value> {
      Value u = uniformAt(b, l, seed, linearIndex(b, l, type));
      Value r = hasRatio ? convertScalar(b, l, a[2], u.getType())
                         : cst(b, l, u, 0.5);
      Value on = convertScalar(b, l, a[1], b.getI1Type());
      Value drawn = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, u, r);
      Value keep = arith::OrIOp::create(
          b, l, drawn,
          arith::XOrIOp::create(
              b, l, on, arith::ConstantOp::create(b, l, b.getBoolAttr(true))));
      Value scale = arith::SelectOp::create(
          b, l, on,
          arith::DivFOp::create(b, l, cst(b, l, u, 1),
                                arith::SubFOp::create(b, l, cst(b, l, u, 1), r)),
          cst(b, l, u, 1));
      return {keep, scale};
    };
    Value y = buildElementwise(
        rewriter, loc, inputs, type, [&](OpBuilder &b, Location l, ValueRange a) {
          auto [keep, scale] = keepAndScale(b, l, a);
          Value x = convertScalar(b, l, a[0], scale.getType());
          return arith::SelectOp::create(b, l, keep,
                                         arith::MulFOp::create(b, l, x, scale),
                                         cst(b, l, x, 0))
              .getResult();
        });
    Value mask;
    if (!op.getMask().use_empty())
      mask = buildElementwise(
          rewriter, loc, inputs,
          cast<RankedTensorType>(op.getMask().getType()),
          [&](OpBuilder &b, Location l, ValueRange a) {
            return keepAndScale(b, l, a).first;
          });
    rewriter.replaceOp(op, {y, mask});
    return success();
  }
};

} // namespace

void kiln::populateRandomPatterns(RewritePatternSet &patterns) {
  patterns.add<UniformLikePattern, UniformPattern, NormalLikePattern,
               NormalPattern, BernoulliPattern, DropoutTrainingPattern>(
      patterns.getContext());
}
