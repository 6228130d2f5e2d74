//===- TransposeKernel.cpp - vectorized matrix transposes -----------------===//
//
// The transposes a swapped product needs (MatmulKernel.cpp: B^T before it,
// C transposed back after it, with C's elementwise consumers) are generics
// marked `kiln.transpose`: Y[.., p, q] = X[.., q, p]. As loops, each output
// row reads a column of X, one element per cache line (400 KB took 137 us).
// Here a task owns a block of Y's rows and writes them V columns at a time:
//
// X is read where it lies (a slice: in the tensor it slices).
//
//   scf.forall (b, p-block)                  batch, rows of Y
//     scf.for q0 step V                      V columns of Y (the last masked)
//       scf.for p in the block               consecutive p: the V rows of X
//         v = gather X[b, q0 + lane, p]        stay in L1 between them
//         Y[b, p, q0 : q0 + V] = epilogue(v)   Epilogue.h
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/Vectorize/Epilogue.h"
#include "lowering/Vectorize/KernelUtils.h"
#include "lowering/Vectorize/MatmulKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

using namespace mlir;

LogicalResult kiln::emitTranspose(RewriterBase &rewriter, linalg::GenericOp op,
                                  int64_t vectorWidth) {
  if (!op->hasAttr(kTransposeAttr) || !op.hasPureTensorSemantics() ||
      op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op->getParentOfType<LoopLikeOpInterface>())
    return failure();
  // Still the plain copy transposeCopy made (nothing fused into it).
  Block &body = *op.getBody();
  if (body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return failure();
  Value x = op.getDpsInputs()[0];
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  auto yt = dyn_cast<RankedTensorType>(op.getResult(0).getType());
  if (!xt || !yt || !xt.hasStaticShape() || !yt.hasStaticShape() ||
      !xt.getElementType().isF32() || !yt.getElementType().isF32() ||
      (yt.getRank() != 2 && yt.getRank() != 3) || yt.getNumElements() == 0)
    return failure();
  int64_t rank = yt.getRank();
  int64_t batches = rank == 3 ? yt.getDimSize(0) : 1;
  int64_t p = yt.getDimSize(rank - 2), q = yt.getDimSize(rank - 1);
  int64_t v = std::max<int64_t>(vectorWidth, 1);
  // Rows of Y per task: the largest divisor of P that keeps a task near
  // 4096 elements (a row or more).
  int64_t pb = tileSize(p, 1, std::max<int64_t>(1, 4096 / std::max(q, v)));

  // X may be a slice (a padded product's result cut to size), which is no
  // contiguous buffer: gather from what it slices, at its offsets. Through
  // reshapes, only an unsliced tensor is known to be contiguous.
  Value src = x;
  SmallVector<int64_t> at(rank, 0);
  if (auto slice = x.getDefiningOp<tensor::ExtractSliceOp>()) {
    auto st = cast<RankedTensorType>(slice.getSourceType());
    if (st.getRank() != rank || !st.hasStaticShape() ||
        ShapedType::isDynamicShape(slice.getStaticOffsets()) ||
        !llvm::all_of(slice.getStaticStrides(),
                      [](int64_t s) { return s == 1; }))
      return failure();
    at.assign(slice.getStaticOffsets().begin(), slice.getStaticOffsets().end());
    src = slice.getSource();
  }
  for (Value cur = src; Operation *def = cur.getDefiningOp();) {
    if (isa<tensor::ExtractSliceOp>(def))
      return failure();
    if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def))
      break;
    cur = def->getOperand(0);
  }
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Epilogue epi = findEpilogue(op.getResult(0));
  rewriter.setInsertionPoint(epi.insertionPoint(op));
  Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
  prepareEpilogue(rewriter, loc, epi, batches * p, q);
  auto srcType = cast<RankedTensorType>(src.getType());
  // X[b, r, c] is element ((b + at0) R' + r + at1) C' + c + at2 of the
  // source (R' x C' its matrices).
  int64_t cs = srcType.getDimSize(rank - 1), rs = srcType.getDimSize(rank - 2);
  int64_t atB = rank == 3 ? at[0] : 0, atR = at[rank - 2], atC = at[rank - 1];
  Value xFlat =
      reshapeTensor(rewriter, loc, src,
                    RankedTensorType::get({srcType.getNumElements()}, f32));
  auto vecType = VectorType::get({v}, f32);
  auto idxType = VectorType::get({v}, i32);
  auto maskType = VectorType::get({v}, rewriter.getI1Type());
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  // Lane l reads row q0 + l of X: l rows of the source past lane 0.
  Value laneOffsets = arith::MulIOp::create(
      rewriter, loc,
      arith::IndexCastOp::create(
          rewriter, loc, idxType,
          vector::StepOp::create(
              rewriter, loc, VectorType::get({v}, rewriter.getIndexType()))),
      arith::ConstantOp::create(rewriter, loc,
                                DenseElementsAttr::get(idxType, (int32_t)cs)));
  Value zeros = arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(vecType, 0.0f));
  Value all = arith::ConstantOp::create(rewriter, loc,
                                        DenseElementsAttr::get(maskType, true));

  SmallVector<OpFoldResult> ubs{rewriter.getIndexAttr(batches),
                                rewriter.getIndexAttr(p / pb)};
  auto forall = scf::ForallOp::create(
      rewriter, loc, ubs, ValueRange{emptyTensor(rewriter, loc, yt)},
      std::nullopt);
  {
    OpBuilder b(forall.getTerminator());
    Value bi = forall.getInductionVar(0);
    Value p0 = affineOf(b, loc, d0 * pb, {forall.getInductionVar(1)});
    auto tileType = RankedTensorType::get({pb, q}, f32);
    SmallVector<OpFoldResult> offsets{p0, b.getIndexAttr(0)},
        sizes{b.getIndexAttr(pb), b.getIndexAttr(q)};
    if (rank == 3) {
      offsets.insert(offsets.begin(), bi);
      sizes.insert(sizes.begin(), b.getIndexAttr(1));
    }
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    Value tile = tensor::ExtractSliceOp::create(b, loc, tileType,
                                                forall.getRegionIterArgs()[0],
                                                offsets, sizes, strides);
    auto columns = [&](OpBuilder &cb, Value t, Value q0, bool full) {
      Value mask = all;
      if (!full)
        mask = vector::CreateMaskOp::create(
            cb, loc, maskType,
            ValueRange{
                affineOf(cb, loc, getAffineConstantExpr(q, ctx) - d0, {q0})});
      return forRange(
          cb, loc, 0, pb, 1, t,
          [&](OpBuilder &rb, Location l, Value pr, Value rt) -> Value {
            // X[b, q0 + lane, p0 + pr] in the flat source.
            Value base =
                affineOf(rb, l, ((d0 + atB) * rs + d1 + atR) * cs + d2 + atC,
                         {bi, q0, affineOf(rb, l, d0 + d1, {p0, pr})});
            Value vec = vector::GatherOp::create(rb, l, vecType, xFlat,
                                                 ValueRange{base}, laneOffsets,
                                                 mask, zeros);
            if (!epi.empty())
              vec = applyEpilogue(
                  rb, l, epi, vec,
                  affineOf(rb, l, d0 * p + d1 + d2, {bi, p0, pr}), q0, full);
            return vector::TransferWriteOp::create(
                       rb, l, vec, rt, ValueRange{pr, q0}, ArrayRef<bool>{full})
                .getResult();
          });
    };
    int64_t fullEnd = q / v * v;
    Value done = forRange(b, loc, 0, fullEnd, v, tile,
                          [&](OpBuilder &cb, Location, Value q0, Value t) {
                            return columns(cb, t, q0, true);
                          });
    if (fullEnd < q)
      done = columns(b, done, cidx(b, loc, fullEnd), false);
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        b, loc, done, forall.getRegionIterArgs()[0], offsets, sizes, strides);
  }
  if (epi.empty()) {
    rewriter.replaceOp(op, forall.getResult(0));
    return success();
  }
  finishEpilogue(rewriter, epi, forall.getResult(0));
  rewriter.eraseOp(op);
  return success();
}
