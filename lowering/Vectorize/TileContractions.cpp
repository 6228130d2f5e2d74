//===- TileContractions.cpp - register-blocked matmul kernels -------------===//
//
// The recipe (on tensors, so that the accumulator can be hoisted into
// registers before bufferization):
//
//   pad M, N up to mr, nr  ->  tile mc x nc (scf.forall)  ->  tile kc
//   ->  tile mr x nr x 0
//   -> tile 0 x 0 x 1  ->  vectorize (vector.contract mr x nr x 1)
//   -> contract to outer products to vector.fma
//   -> hoist the accumulator's transfer_read/write out of the k loops
//
// All tile sizes divide the (padded) problem, so every tiled op has a static
// shape and vectorizes without masks.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/OnnxToLinalg/Winograd.h"
#include "lowering/Passes.h"
#include "lowering/Vectorize/MatmulKernel.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_TILECONTRACTIONS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// The largest divisor of n that is at most `bound`.
int64_t largestDivisor(int64_t n, int64_t bound) {
  for (int64_t d = std::min(n, bound); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

Value padTo(OpBuilder &b, Location loc, Value v, int64_t rows, int64_t cols) {
  auto t = cast<RankedTensorType>(v.getType());
  int64_t dr = rows - t.getDimSize(0), dc = cols - t.getDimSize(1);
  if (dr == 0 && dc == 0)
    return v;
  return kiln::padTensor(b, loc, v, {0, 0}, {dr, dc},
                         kiln::scalarConstant(b, loc, t.getElementType(), 0));
}

struct TileContractionsPass
    : public kiln::impl::TileContractionsBase<TileContractionsPass> {
  using TileContractionsBase::TileContractionsBase;

  /// Pads the matmul to register-tile multiples; returns the (possibly new)
  /// matmul.
  linalg::MatmulOp pad(IRRewriter &rewriter, linalg::MatmulOp op, int64_t rows,
                       int64_t cols) {
    Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1];
    Value c = op.getDpsInits()[0];
    auto ct = cast<RankedTensorType>(c.getType());
    int64_t m = ct.getDimSize(0), n = ct.getDimSize(1);
    int64_t pm = llvm::alignTo(m, rows), pn = llvm::alignTo(n, cols);
    if (pm == m && pn == n)
      return op;
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    int64_t k = cast<RankedTensorType>(a.getType()).getDimSize(1);
    Value pa = padTo(rewriter, loc, a, pm, k);
    Value pb = padTo(rewriter, loc, b, k, pn);
    Value pc = padTo(rewriter, loc, c, pm, pn);
    auto padded =
        linalg::MatmulOp::create(rewriter, loc, TypeRange{pc.getType()},
                                 ValueRange{pa, pb}, ValueRange{pc});
    SmallVector<OpFoldResult> offsets(2, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(m),
                                    rewriter.getIndexAttr(n)};
    SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, ct, padded.getResult(0), offsets, sizes, strides);
    rewriter.replaceOp(op, slice);
    return padded;
  }

  /// Tiles `op` by `sizes` (0: not tiled); returns the tiled op.
  FailureOr<Operation *> tile(IRRewriter &rewriter, Operation *op,
                              ArrayRef<int64_t> sizes, bool forall = false) {
    scf::SCFTilingOptions options;
    if (forall)
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    SmallVector<OpFoldResult> ts;
    for (int64_t s : sizes)
      ts.push_back(rewriter.getIndexAttr(s));
    options.setTileSizes(ts);
    rewriter.setInsertionPoint(op);
    auto result =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
    if (failed(result) || result->tiledOps.size() != 1)
      return failure();
    rewriter.replaceOp(op, result->replacements);
    return result->tiledOps.front();
  }

  LogicalResult lowerOne(IRRewriter &rewriter, linalg::MatmulOp op) {
    auto ct = cast<RankedTensorType>(op.getDpsInits()[0].getType());
    auto at = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
    if (!ct.getElementType().isF32() || !ct.hasStaticShape() ||
        !at.hasStaticShape() ||
        !isa<RankedTensorType>(op.getDpsInputs()[1].getType()))
      return failure();
    // A 4-row tile when it divides M and mr does not: padding M up to mr
    // would also shrink the cache tile to mr rows (64 -> 66 = 6 x 11).
    int64_t rows = mr;
    if (ct.getDimSize(0) % mr != 0 && ct.getDimSize(0) % 4 == 0)
      rows = 4;
    // Inside a loop (an RNN's time steps) padding would allocate at every
    // iteration, which the arena cannot hold: a product of fewer rows than
    // mr takes them all as its row tile, and one that still needs padding
    // is left as it is.
    if (op->getParentOfType<LoopLikeOpInterface>()) {
      if (ct.getDimSize(0) < mr)
        rows = ct.getDimSize(0);
      if (ct.getDimSize(0) % rows != 0 || ct.getDimSize(1) % nr != 0)
        return failure();
    }
    // Without padding (memory-bound targets), the register tile shrinks to
    // divisors of M and N instead: the largest at most mr rows, and at most
    // 1.5 nr columns (a scalar FPU holds 4x5 accumulators as well as 4x4).
    int64_t cols = nr;
    if (!allowPadding) {
      rows = largestDivisor(ct.getDimSize(0), mr);
      cols = largestDivisor(ct.getDimSize(1), nr + nr / 2);
    }
    // A constant fill of the accumulator (the zero of C = A x B) is sunk
    // into the tiles: made per cache tile, just before its k loop, or per
    // register tile when one k loop covers all of K. The whole-matrix fill
    // (a memset of C from memory before any product is computed) goes.
    linalg::FillOp fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
    if (fill && fill.hasPureTensorSemantics() &&
        matchPattern(fill.getDpsInputs()[0], m_Constant()) &&
        fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>()) {
      rewriter.modifyOpInPlace(
          op, [&] { op.getDpsInitsMutable()[0].set(fill.getDpsInits()[0]); });
    } else {
      fill = nullptr;
    }
    op = pad(rewriter, op, rows, cols);
    int64_t m = llvm::alignTo(ct.getDimSize(0), rows);
    int64_t n = llvm::alignTo(ct.getDimSize(1), cols);
    int64_t k = at.getDimSize(1);
    Operation *cur = op;
    auto step = [&](ArrayRef<int64_t> sizes, bool forall = false) {
      if (llvm::all_of(sizes, [](int64_t s) { return s == 0; }))
        return true;
      auto t = tile(rewriter, cur, sizes, forall);
      if (failed(t))
        return false;
      cur = *t;
      return true;
    };
    int64_t tm = kiln::tileSize(m, rows, mc), tn = kiln::tileSize(n, cols, nc),
            tk = kiln::tileSize(k, 1, kc);
    // Enough cache tiles for the threads to share (narrower columns first).
    auto tiles = [&] { return (m / tm) * (n / tn); };
    while (tiles() < minTiles && tn > cols)
      tn = kiln::tileSize(n, cols, tn - cols);
    while (tiles() < minTiles && tm > rows)
      tm = kiln::tileSize(m, rows, tm - rows);
    // Fills the accumulator tile `cur` writes into, right before it; on a
    // failure to tile further, before whatever `cur` is then (it still holds
    // all of K unless the fill was placed already).
    bool filled = false;
    auto fillHere = [&] {
      if (!fill || filled)
        return;
      filled = true;
      auto dps = cast<DestinationStyleOpInterface>(cur);
      rewriter.setInsertionPoint(cur);
      Value init =
          linalg::FillOp::create(rewriter, fill.getLoc(),
                                 fill.getDpsInputs()[0], dps.getDpsInits()[0])
              .getResult(0);
      rewriter.modifyOpInPlace(cur,
                               [&] { dps.getDpsInitsMutable()[0].set(init); });
    };
    // The cache tiles are independent (scf.forall, for the thread pool);
    // the k tiles accumulate in order.
    auto fail = [&] {
      fillHere();
      return failure();
    };
    if (!step({tm == m ? 0 : tm, tn == n ? 0 : tn, 0}, /*forall=*/true))
      return fail();
    if (tk != k)
      fillHere();
    if (!step({0, 0, tk == k ? 0 : tk}) || !step({rows, cols, 0}))
      return fail();
    if (tk == k)
      fillHere();
    if (!step({0, 0, 1}))
      return fail();
    rewriter.setInsertionPoint(cur);
    auto vec = linalg::vectorize(rewriter, cur, {}, {}, false, false, false,
                                 /*createNamedContraction=*/true);
    if (failed(vec))
      return failure();
    rewriter.replaceOp(cur, vec->replacements);
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::MatmulOp> matmuls;
    func.walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    SmallVector<linalg::DepthwiseConv2DNchwChwOp> depthwise;
    func.walk(
        [&](linalg::DepthwiseConv2DNchwChwOp op) { depthwise.push_back(op); });
    for (linalg::DepthwiseConv2DNchwChwOp op : depthwise)
      (void)kiln::emitDepthwiseConv(rewriter, op, vectorWidth);
    SmallVector<linalg::PoolingNchwMaxOp> pools;
    func.walk([&](linalg::PoolingNchwMaxOp op) { pools.push_back(op); });
    for (linalg::PoolingNchwMaxOp op : pools)
      (void)kiln::emitMaxPool(rewriter, op, vectorWidth);
    SmallVector<linalg::GenericOp> transforms;
    func.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kiln::winograd::kAttr))
        transforms.push_back(op);
    });
    for (linalg::GenericOp op : transforms)
      if (failed(kiln::emitWinogradInput(rewriter, op, vectorWidth)))
        (void)kiln::emitWinogradOutput(rewriter, op, vectorWidth);
    std::map<std::tuple<const char *, int64_t, int64_t, int64_t>, Value>
        sharedPanels;
    kiln::KernelTiles tiles{mr,       nr,       mc,
                            nc,       kc,       minTiles,
                            prefetchWeights, &sharedPanels};
    for (linalg::MatmulOp op : matmuls)
      if (!allowPadding || failed(kiln::emitPackedMatmul(rewriter, op, tiles)))
        (void)lowerOne(rewriter, op);
    if (allowPadding) {
      SmallVector<linalg::BatchMatmulOp> batches;
      func.walk([&](linalg::BatchMatmulOp op) { batches.push_back(op); });
      for (linalg::BatchMatmulOp op : batches)
        (void)kiln::emitPackedBatchMatmul(rewriter, op, tiles);
    }
    // The transposes of swapped products, once their consumers are final.
    SmallVector<linalg::GenericOp> transposes;
    func.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kiln::kTransposeAttr))
        transposes.push_back(op);
    });
    for (linalg::GenericOp op : transposes)
      (void)kiln::emitTranspose(rewriter, op, vectorWidth);

    // vector.contract -> outer products -> fma; tidy the transfers.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns,
                                                        &getContext());
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns,
                                                         &getContext());
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();

    // Keep each accumulator tile in registers across its reduction loop:
    // innermost loops first.
    SmallVector<LoopLikeOpInterface> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (LoopLikeOpInterface loop : loops)
      hoistLoopInvariantSubsets(rewriter, loop);
  }
};

} // namespace
