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

struct ApproximateMathPass
    : public kiln::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      name.consume_front("math.");
      return llvm::is_contained({"exp", "expm1", "exp2", "log", "log1p",
                                 "log2", "tanh", "erf"},
                                name);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
