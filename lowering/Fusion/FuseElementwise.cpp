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
  /// dynamic sizes, a map that takes each loop dim at most once, the loops
  /// it leaves out of size 1 and its constant results 0 on dims of size 1
  /// ((d0, d1, d2) -> (0, d1, d2) over a loop of 1 x ? x N).
  static bool readOnce(OpOperand *operand) {
    auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
    auto type = dyn_cast<ShapedType>(operand->get().getType());
    if (!consumer || !type)
      return true;
    SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
    if (!type.hasStaticShape() || ShapedType::isDynamicShape(ranges)) {
      AffineMap map = consumer.getMatchingIndexingMap(operand);
      llvm::SmallBitVector read(map.getNumDims());
      for (auto [i, e] : llvm::enumerate(map.getResults())) {
        if (auto d = dyn_cast<AffineDimExpr>(e)) {
          if (read.test(d.getPosition()))
            return false;
          read.set(d.getPosition());
          continue;
        }
        auto c = dyn_cast<AffineConstantExpr>(e);
        if (!c || c.getValue() != 0 || type.getDimSize(i) != 1)
          return false;
      }
      for (unsigned d = 0; d < map.getNumDims(); ++d)
        if (!read.test(d) && ranges[d] != 1)
          return false;
      return true;
    }
    int64_t iterations = 1;
    for (int64_t r : ranges)
      iterations *= r;
    return iterations == type.getNumElements();
  }
  /// Whether fusing keeps the body at most kMaxBodyOps operations: a body
  /// gains the producer's ops with each fusion, so a chain of thousands of
  /// elementwise ops would otherwise cost time quadratic in its length
  /// (10,000 nodes: 35 s) for no speed past a few hundred.
  static bool smallEnough(OpOperand *operand) {
    constexpr size_t kMaxBodyOps = 256;
    auto size = [](Operation *op) -> size_t {
      auto g = dyn_cast_or_null<linalg::GenericOp>(op);
      return g ? g.getBody()->getOperations().size() : 0;
    };
    return size(operand->get().getDefiningOp()) + size(operand->getOwner()) <=
           kMaxBodyOps;
  }
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // Fuse into a consumer only a producer it alone uses, and reads each
    // element of once.
    linalg::ControlFusionFn singleUse = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() && readOnce(operand) &&
             smallEnough(operand);
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
             isElementwise(operand->getOwner()) && readOnce(operand) &&
             smallEnough(operand);
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
