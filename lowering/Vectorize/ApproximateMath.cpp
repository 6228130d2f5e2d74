//===- ApproximateMath.cpp - vectorizable f32 math functions --------------===//
//
// math.exp, math.tanh, math.log, math.erf, ... on f32 become polynomial or
// rational approximations built from arith ops (upstream patterns), instead of
// calls into libm that LLVM cannot vectorize. Sigmoid, SiLU, GELU, Softmax
// and the recurrent gates are then plain loops of FMAs.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// A constant `value` of `type` (f32, i32 or a vector of either).
Value constantLike(OpBuilder &b, Location loc, Type type, double value) {
  Type elem = getElementTypeOrSelf(type);
  TypedAttr attr = isa<FloatType>(elem)
                       ? TypedAttr(b.getFloatAttr(elem, value))
                       : TypedAttr(b.getIntegerAttr(elem, (int64_t)value));
  if (auto vec = dyn_cast<VectorType>(type))
    attr = DenseElementsAttr::get(vec, cast<Attribute>(attr));
  return arith::ConstantOp::create(b, loc, attr);
}

/// trunc(x): x with its fraction dropped, through an i32 conversion where
/// that is exact (|x| < 2^23; anything larger is already an integer, and NaN
/// fails the compare and is passed through). The sign is kept for -0.x.
Value truncF32(OpBuilder &b, Location loc, Value x) {
  Type type = x.getType();
  Type intType = IntegerType::get(b.getContext(), 32);
  if (auto vec = dyn_cast<VectorType>(type))
    intType = vec.clone(intType);
  Value asInt = arith::FPToSIOp::create(b, loc, intType, x);
  Value back = arith::SIToFPOp::create(b, loc, type, asInt);
  Value signed_ = math::CopySignOp::create(b, loc, back, x);
  Value small = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                      math::AbsFOp::create(b, loc, x),
                                      constantLike(b, loc, type, 8388608.0));
  return arith::SelectOp::create(b, loc, small, signed_, x);
}

template <typename OpTy> struct InlineRounding : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!getElementTypeOrSelf(op.getType()).isF32())
      return rewriter.notifyMatchFailure(op, "only f32 has an inline form");
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value t = truncF32(rewriter, loc, x);
    if (std::is_same<OpTy, math::FloorOp>::value) {
      // floor(x) = trunc(x) - 1 where truncation rounded up (x < 0).
      Value above =
          arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGT, t, x);
      Value less = arith::SubFOp::create(
          rewriter, loc, t, constantLike(rewriter, loc, x.getType(), 1.0));
      t = arith::SelectOp::create(rewriter, loc, above, less, t);
    }
    rewriter.replaceOp(op, t);
    return success();
  }
};

struct ApproximateMathPass
    : public kiln::impl::ApproximateMathBase<ApproximateMathPass> {
  using ApproximateMathBase::ApproximateMathBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    bool all = allFunctions;
    populateMathPolynomialApproximationPatterns(patterns, [all](
                                                              StringRef name) {
      name.consume_front("math.");
      if (llvm::is_contained(
              {"exp", "expm1", "exp2", "log", "log1p", "log2", "tanh", "erf"},
              name))
        return true;
      return all && llvm::is_contained({"sin", "cos", "atan", "atan2", "asin",
                                        "acos", "cbrt", "erfc", "rsqrt"},
                                       name);
    });
    if (all) {
      // Functions expand-ops rewrites in terms of exp/log/sqrt (sinh, tan,
      // powf, ...) must be expanded before the approximations run.
      math::populateExpansionPatterns(patterns);
      patterns
          .add<InlineRounding<math::FloorOp>, InlineRounding<math::TruncOp>>(
              &getContext());
    }
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
