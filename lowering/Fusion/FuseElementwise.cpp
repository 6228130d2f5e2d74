//===- FuseElementwise.cpp - elementwise fusion that keeps pads in place --===//
//
// Upstream's elementwise fusion (the patterns of linalg-fuse-elementwise-ops)
// with one difference: a reshape is never moved across a `tensor.pad`. Moving
// the `expand_shape` of a grouped convolution's input above its padding puts
// a reshape between the padded buffer and the op that produces the value, and
// then bufferization copies that value into the padded buffer instead of
// having its producer write there (kiln-decompose-pads).
//
// And a producer is fused only into a consumer that reads each of its
// elements once (the operand's indexing map a permutation): fused through a
// broadcast, a producer's body would run once per consumer element instead
// of once per element of its own. (EfficientNet's squeeze-and-excitation
// computed the sigmoid of its 144 channel scales for each of the 144 x 56 x
// 56 pixels they multiply: 9% of the model's time.)
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
  /// Whether the linalg op owning `operand` reads each of its elements once
  /// (not through a broadcast): as many iterations as elements, or, with
  /// dynamic sizes, a permutation map.
  static bool readOnce(OpOperand *operand) {
    auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
    auto type = dyn_cast<ShapedType>(operand->get().getType());
    if (!consumer || !type)
      return true;
    SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
    if (!type.hasStaticShape() || ShapedType::isDynamicShape(ranges))
      return consumer.getMatchingIndexingMap(operand).isPermutation();
    int64_t iterations = 1;
    for (int64_t r : ranges)
      iterations *= r;
    return iterations == type.getNumElements();
  }
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // Fuse into a consumer only a producer it alone uses, and reads each
    // element of once.
    linalg::ControlFusionFn singleUse = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() && readOnce(operand);
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
             isElementwise(operand->getOwner()) && readOnce(operand);
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
