//===- FuseElementwise.cpp - elementwise fusion that keeps pads in place --===//
//
// Upstream's elementwise fusion (the patterns of linalg-fuse-elementwise-ops)
// with one difference: a reshape is never moved across a `tensor.pad`. Moving
// the `expand_shape` of a grouped convolution's input above its padding puts
// a reshape between the padded buffer and the op that produces the value, and
// then bufferization copies that value into the padded buffer instead of
// having its producer write there (kiln-decompose-pads).
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct FuseElementwisePass
    : public kiln::impl::FuseElementwiseBase<FuseElementwisePass> {
  using FuseElementwiseBase::FuseElementwiseBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // Fuse into a consumer only a producer it alone uses.
    linalg::ControlFusionFn singleUse = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    linalg::ControlFusionFn notAcrossPads = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() &&
             !isa<tensor::PadOp>(producer) &&
             !isa<tensor::PadOp>(operand->getOwner());
    };
    // Before the kernels: only elementwise generics into each other, and no
    // reshape folding (it would turn a matmul into a generic contraction).
    linalg::ControlFusionFn betweenElementwise = [](OpOperand *operand) {
      auto isElementwise = [](Operation *op) {
        auto g = dyn_cast_or_null<linalg::GenericOp>(op);
        return g && g.getNumLoops() == g.getNumParallelLoops();
      };
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() && isElementwise(producer) &&
             isElementwise(operand->getOwner());
    };
    RewritePatternSet patterns(ctx);
    if (elementwiseOnly) {
      linalg::populateElementwiseOpsFusionPatterns(patterns, betweenElementwise);
      linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
      (void)applyPatternsGreedily(getOperation(), std::move(patterns),
                                  GreedyRewriteConfig().setUseTopDownTraversal());
      return;
    }
    linalg::populateElementwiseOpsFusionPatterns(patterns, singleUse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, notAcrossPads);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, singleUse);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns),
                                GreedyRewriteConfig().setUseTopDownTraversal());
  }
};

} // namespace
