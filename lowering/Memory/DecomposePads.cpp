//===- DecomposePads.cpp - padded tensors written in place ----------------===//
//
// A `tensor.pad` bufferizes to a new buffer filled with the pad value in full
// and a copy of the source into its interior: for the padded input of a
// convolution, a memset and a memmove of the whole activation. Written out as
//
//   %e = tensor.empty                       (the padded shape)
//   %b = fill of each border slab of %e     (the pad value, borders only)
//   %r = tensor.insert_slice %source into %b[interior]
//
// with %e and %b placed before the op that produces %source, empty-tensor
// elimination then lets that producer write straight into the interior of
// the padded buffer: no copy, and only the borders are filled.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_DECOMPOSEPADS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct DecomposeStaticPad : public OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp pad,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = pad.getResultType();
    RankedTensorType srcType = pad.getSourceType();
    Value padValue = pad.getConstantPaddingValue();
    if (!padValue || !type.hasStaticShape() || !srcType.hasStaticShape())
      return rewriter.notifyMatchFailure(pad, "needs static shapes and a "
                                              "constant pad value");
    SmallVector<int64_t> low, high;
    for (OpFoldResult f : pad.getMixedLowPad()) {
      std::optional<int64_t> c = getConstantIntValue(f);
      if (!c)
        return rewriter.notifyMatchFailure(pad, "dynamic low padding");
      low.push_back(*c);
    }
    for (OpFoldResult f : pad.getMixedHighPad()) {
      std::optional<int64_t> c = getConstantIntValue(f);
      if (!c)
        return rewriter.notifyMatchFailure(pad, "dynamic high padding");
      high.push_back(*c);
    }
    if (llvm::any_of(low, [](int64_t x) { return x < 0; }) ||
        llvm::any_of(high, [](int64_t x) { return x < 0; }))
      return rewriter.notifyMatchFailure(pad, "negative padding");

    // The padded buffer and its borders, as early as the source allows, so
    // the source's producer can be made to write into it.
    Location loc = pad.getLoc();
    Operation *producer = pad.getSource().getDefiningOp();
    if (producer && producer->getBlock() == pad->getBlock() &&
        (!padValue.getDefiningOp() ||
         padValue.getDefiningOp()->getBlock() != producer->getBlock() ||
         padValue.getDefiningOp()->isBeforeInBlock(producer)))
      rewriter.setInsertionPoint(producer);
    else
      rewriter.setInsertionPoint(pad);
    Value dest = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    int64_t rank = type.getRank();
    // Dimension d's slabs: [0, low) and [low + size, total) along d, the
    // interior along the dimensions before d, everything after it: each
    // border element is filled exactly once.
    for (int64_t d = 0; d < rank; ++d) {
      for (bool isLow : {true, false}) {
        int64_t width = isLow ? low[d] : high[d];
        if (width == 0)
          continue;
        SmallVector<int64_t> offsets(rank, 0), sizes(type.getShape());
        for (int64_t e = 0; e < d; ++e) {
          offsets[e] = low[e];
          sizes[e] = srcType.getDimSize(e);
        }
        offsets[d] = isLow ? 0 : low[d] + srcType.getDimSize(d);
        sizes[d] = width;
        auto ofr = [&](ArrayRef<int64_t> v) {
          return getAsIndexOpFoldResult(rewriter.getContext(), v);
        };
        SmallVector<int64_t> strides(rank, 1);
        Value slab = tensor::ExtractSliceOp::create(
            rewriter, loc, dest, ofr(offsets), ofr(sizes), ofr(strides));
        Value filled =
            linalg::FillOp::create(rewriter, loc, padValue, slab).getResult(0);
        dest = tensor::InsertSliceOp::create(rewriter, loc, filled, dest,
                                             ofr(offsets), ofr(sizes),
                                             ofr(strides));
      }
    }
    rewriter.setInsertionPoint(pad);
    SmallVector<int64_t> strides(rank, 1);
    MLIRContext *ctx = rewriter.getContext();
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        pad, pad.getSource(), dest, getAsIndexOpFoldResult(ctx, low),
        getAsIndexOpFoldResult(ctx, srcType.getShape()),
        getAsIndexOpFoldResult(ctx, strides));
    return success();
  }
};

struct DecomposePadsPass
    : public kiln::impl::DecomposePadsBase<DecomposePadsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeStaticPad>(&getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
  }
};

} // namespace
