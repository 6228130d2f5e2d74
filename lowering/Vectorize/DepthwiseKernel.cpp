//===- DepthwiseKernel.cpp - vectorized depthwise convolutions ------------===//
//
// linalg.depthwise_conv_2d_nchw_chw on tensors (a padded input, one filter
// per channel), f32, static shapes:
//
//   scf.forall (n, c)                       one image channel per task
//     w[kh][kw] broadcast once              the channel's filter
//     scf.for oh, scf.for ow step V         V output pixels of a row
//       acc = init (bias) ; acc += w[kh][kw] * x[oh*s + kh*d, ow*s + kw*d : V]
//       store epilogue(acc)                 activation fused (Epilogue.h)
//
// The kernel loops are unrolled; a stride of 2 reads 2V inputs and keeps the
// even lanes. A row whose width is not a multiple of V ends with a masked
// vector.
//
// linalg.pooling_nchw_max (MaxPool) is the same kernel without filters:
// acc = max(acc, x[...]) from -inf, the padding being -inf instead of 0.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/Vectorize/Epilogue.h"
#include "lowering/Vectorize/KernelUtils.h"
#include "lowering/Vectorize/MatmulKernel.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

using namespace mlir;

namespace {

/// The sum over each (image, channel) plane of `v` (an [N, C, H, W] f32
/// tensor) when one of its users computes it: a GlobalAveragePool's
/// reduction (OnnxToLinalg/Conv.cpp: `v` collapsed to [N, C, H * W], summed
/// into a zero-filled [N, C]). Null otherwise.
linalg::GenericOp findChannelSum(Value v) {
  for (Operation *user : v.getUsers()) {
    auto collapse = dyn_cast<tensor::CollapseShapeOp>(user);
    if (!collapse || collapse.getReassociationIndices().size() != 3 ||
        collapse.getReassociationIndices()[0].size() != 1 ||
        collapse.getReassociationIndices()[1].size() != 1 ||
        !collapse->hasOneUse())
      continue;
    auto g = dyn_cast<linalg::GenericOp>(*collapse->getUsers().begin());
    if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
        g.getNumLoops() != 3 || g.getNumReductionLoops() != 1 ||
        g.getIteratorTypesArray()[2] != utils::IteratorType::reduction)
      continue;
    MLIRContext *ctx = g.getContext();
    AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
    SmallVector<AffineMap> maps = g.getIndexingMapsArray();
    if (!maps[0].isIdentity() || maps[1] != AffineMap::get(3, 0, {d0, d1}, ctx))
      continue;
    Value zero = kiln::splatInitValue(g.getDpsInits()[0]);
    if (!zero || !matchPattern(zero, m_AnyZeroFloat()))
      continue;
    Block &body = *g.getBody();
    auto add = dyn_cast<arith::AddFOp>(&body.front());
    if (body.getOperations().size() != 2 || !add ||
        !llvm::is_contained(add->getOperands(), body.getArgument(0)) ||
        !llvm::is_contained(add->getOperands(), body.getArgument(1)) ||
        body.getTerminator()->getOperand(0) != add.getResult())
      continue;
    return g;
  }
  return {};
}

/// The window kernel of a depthwise convolution (`w`: the [C, kh, kw]
/// filters; taps multiply-added) or of a max pool (`w` null; the window's
/// maximum), both on an NCHW input already padded (with zeros, or with the
/// lowest value for the max).
LogicalResult emitWindow(RewriterBase &rewriter, linalg::LinalgOp op, Value x,
                         Value w, Value init, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> dilations, int64_t kh, int64_t kw,
                         int64_t vectorWidth) {
  using namespace kiln;
  if (!op.hasPureTensorSemantics() ||
      op->getParentOfType<LoopLikeOpInterface>())
    return failure();
  auto xt = cast<RankedTensorType>(x.getType());
  auto yt = cast<RankedTensorType>(init.getType());
  if (!xt.hasStaticShape() || !yt.hasStaticShape() ||
      !xt.getElementType().isF32() || !yt.getElementType().isF32() ||
      yt.getNumElements() == 0 || xt.getRank() != 4 || yt.getRank() != 4 ||
      strides.size() != 2 || dilations.size() != 2)
    return failure();
  bool isMax = !w;
  int64_t batch = yt.getDimSize(0), channels = yt.getDimSize(1);
  int64_t oh = yt.getDimSize(2), ow = yt.getDimSize(3);
  // A zero-padded input is read from its source, the padding supplied by
  // masks: no padded copy of the activation.
  Value input = x;
  int64_t padTop = 0, padLeft = 0;
  int64_t srcH = xt.getDimSize(2), srcW = xt.getDimSize(3);
  bool fromSource = false;
  if (auto src = paddedSource(x, [&](Value pv) {
        return isMax ? matchPattern(pv, m_NegInfFloat())
                     : matchPattern(pv, m_AnyZeroFloat());
      })) {
    input = src->source;
    padTop = src->padTop;
    padLeft = src->padLeft;
    srcH = src->rows;
    srcW = src->cols;
    fromSource = true;
  }
  int64_t sh = strides[0], sw = strides[1], dh = dilations[0],
          dw = dilations[1];
  if (kh * kw > 64 || sw > 4)
    return failure();
  // Vectors no wider than a row needs.
  int64_t v = std::max<int64_t>(vectorWidth, 1);
  while (v > 4 && ow <= v / 2)
    v /= 2;
  // After a left edge chunk, every chunk starts inside the source row.
  if (fromSource && v * sw < padLeft) {
    fromSource = false;
    input = x;
    padTop = padLeft = 0;
  }

  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Epilogue epi = findEpilogue(op->getResult(0));
  rewriter.setInsertionPoint(epi.insertionPoint(op));
  Type f32 = rewriter.getF32Type();
  // What lies outside the input: 0 for a sum of products, -inf for the max.
  Value zero = isMax ? lowestValue(rewriter, loc, f32)
                     : scalarConstant(rewriter, loc, f32, 0);
  prepareEpilogue(rewriter, loc, epi, batch * channels * oh, ow);
  ChannelInit src = classifyChannelInit(init);
  Value out =
      src.kind == ChannelInit::Tensor ? init : emptyTensor(rewriter, loc, yt);

  auto vecType = VectorType::get({v}, f32);
  auto wideType = VectorType::get({v * sw}, f32);
  auto planeType = RankedTensorType::get({oh, ow}, f32);
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  SmallVector<int64_t> evenLanes;
  for (int64_t i = 0; i < v; ++i)
    evenLanes.push_back(i * sw);

  SmallVector<OpFoldResult> ubs{rewriter.getIndexAttr(batch),
                                rewriter.getIndexAttr(channels)};
  // A GlobalAveragePool of the result (a squeeze-and-excitation block's
  // squeeze) sums each plane in the task that wrote it, while it is in the
  // core's cache, instead of reading the whole activation again.
  linalg::GenericOp channelSum = findChannelSum(
      epi.empty() ? op->getResult(0) : epi.stages.back().op.getResult(0));
  SmallVector<Value> outs{out};
  auto sumsType = RankedTensorType::get({batch, channels}, f32);
  if (channelSum)
    outs.push_back(emptyTensor(rewriter, loc, sumsType));
  auto forall = scf::ForallOp::create(rewriter, loc, ubs, outs, std::nullopt);
  OpBuilder b(forall.getTerminator());
  Value n = forall.getInductionVar(0), c = forall.getInductionVar(1);
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets{n, c, b.getIndexAttr(0), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1),
                                  b.getIndexAttr(oh), b.getIndexAttr(ow)};
  SmallVector<OpFoldResult> unit(4, b.getIndexAttr(1));
  Value plane = tensor::ExtractSliceOp::create(b, loc, planeType, shared,
                                               offsets, sizes, unit);
  // The channel's filter taps, and its initial value, once.
  SmallVector<Value> taps;
  for (int64_t i = 0; i < kh && w; ++i)
    for (int64_t j = 0; j < kw; ++j)
      taps.push_back(vector::BroadcastOp::create(
          b, loc, vecType,
          tensor::ExtractOp::create(
              b, loc, w, ValueRange{c, cidx(b, loc, i), cidx(b, loc, j)})));
  Value channelInit = channelStart(b, loc, src, n, c, vecType);
  Value rowBase = affineOf(b, loc, (d0 * channels + d1) * oh, {n, c});

  // One vector of outputs at (row, col); `inBounds`: all V lanes are real;
  // `edge`: the first chunk of a row read from the source, whose lanes may
  // fall left of it (shifted in from the padding).
  Value zeros = vector::BroadcastOp::create(b, loc, vecType, zero);
  auto chunk = [&](OpBuilder &cb, Value t, Value row, Value col, bool inBounds,
                   bool edge, bool checkRows, bool readsFit) -> Value {
    Value acc = channelInit
                    ? channelInit
                    : vector::TransferReadOp::create(cb, loc, vecType, t,
                                                     ValueRange{row, col}, zero,
                                                     ArrayRef<bool>{inBounds});
    for (int64_t i = 0; i < kh; ++i) {
      Value ih = affineOf(cb, loc, d0 * sh + (i * dh - padTop), {row});
      Value valid = arith::ConstantIntOp::create(cb, loc, 1, 1);
      if (fromSource && checkRows) // rows in the padding: padding values
        std::tie(ih, valid) = clampRow(cb, loc, ih, srcH);
      for (int64_t j = 0; j < kw; ++j) {
        Value iw = affineOf(cb, loc, d0 * sw + (j * dw - padLeft), {col});
        Value xv;
        if (edge) {
          // The first chunk (col 0): lane l reads x[l * sw + off], left of
          // the row (padding) while l * sw + off < 0. Read the row's first
          // V * sw pixels (masked past its end) and shift them right with
          // a shuffle that brings in the padding: no gather.
          int64_t off = j * dw - padLeft, wide = v * sw;
          int64_t base = std::max<int64_t>(off, 0);
          Value pixels = vector::TransferReadOp::create(
              cb, loc, VectorType::get({wide}, f32), input,
              ValueRange{n, c, ih, cidx(cb, loc, base)}, zero,
              ArrayRef<bool>{false});
          Value pads = vector::BroadcastOp::create(
              cb, loc, VectorType::get({wide}, f32), zero);
          SmallVector<int64_t> lanesOf;
          for (int64_t l = 0; l < v; ++l)
            lanesOf.push_back(l * sw + off >= 0 ? l * sw + off - base : wide);
          xv = vector::ShuffleOp::create(cb, loc, pixels, pads, lanesOf);
          if (checkRows)
            xv = arith::SelectOp::create(cb, loc, valid, xv, zeros);
        } else {
          // The last lane reads (col + V - 1) * sw + j * dw < wp when the
          // chunk is full and the input padded; a stride reads sw - 1
          // more, past the row's end; the source row may end earlier.
          bool readInBounds =
              fromSource ? readsFit && sw == 1 : inBounds && sw == 1;
          if (sw == 1) {
            xv = vector::TransferReadOp::create(cb, loc, vecType, input,
                                                ValueRange{n, c, ih, iw}, zero,
                                                ArrayRef<bool>{readInBounds});
          } else {
            Value wide = vector::TransferReadOp::create(
                cb, loc, wideType, input, ValueRange{n, c, ih, iw}, zero,
                ArrayRef<bool>{fromSource && readsFit});
            xv = vector::ShuffleOp::create(cb, loc, wide, wide, evenLanes);
          }
          if (fromSource && checkRows)
            xv = arith::SelectOp::create(cb, loc, valid, xv, zeros);
        }
        acc = isMax ? (Value)arith::MaximumFOp::create(
                          cb, loc, acc, xv, arith::FastMathFlags::nsz)
                    : (Value)vector::FMAOp::create(cb, loc, taps[i * kw + j],
                                                   xv, acc);
      }
    }
    if (!epi.empty()) {
      Value absRow = arith::AddIOp::create(cb, loc, rowBase, row);
      acc = applyEpilogue(cb, loc, epi, acc, absRow, col, inBounds);
    }
    return vector::TransferWriteOp::create(
               cb, loc, acc, t, ValueRange{row, col}, ArrayRef<bool>{inBounds})
        .getResult();
  };
  // With left padding read from the source, the first chunk is an edge.
  // Chunks up to `fitEnd` read whole vectors inside the source row (or the
  // padded row); rows [rowLo, rowHi) read no padding rows.
  bool firstEdge = fromSource && padLeft > 0;
  int64_t start = firstEdge ? v : 0, full = ow / v * v;
  int64_t rowWidth = fromSource ? srcW : xt.getDimSize(3);
  int64_t fitEnd = start;
  while (fitEnd + v <= full &&
         fitEnd * sw + (kw - 1) * dw - padLeft + v * sw <= rowWidth)
    fitEnd += v;
  int64_t rowLo = 0, rowHi = oh;
  if (fromSource) {
    rowLo = std::min<int64_t>(oh, llvm::divideCeil(padTop, sh));
    rowHi = rowLo;
    while (rowHi < oh && rowHi * sh + (kh - 1) * dh - padTop <= srcH - 1)
      ++rowHi;
  }
  auto rowRange = [&](OpBuilder &ob, Value t, int64_t lo, int64_t hi,
                      bool checkRows) -> Value {
    return forRange(
        ob, loc, lo, hi, 1, t,
        [&](OpBuilder &rb, Location l, Value row, Value rt) {
          if (firstEdge)
            rt = chunk(rb, rt, row, cidx(rb, l, 0), ow >= v, true, checkRows,
                       false);
          auto cols = [&](int64_t from, int64_t to, bool fit) {
            rt = forRange(rb, l, from, to, v, rt,
                          [&](OpBuilder &cb, Location, Value col, Value ct) {
                            return chunk(cb, ct, row, col, true, false,
                                         checkRows, fit);
                          });
          };
          cols(start, fitEnd, true);
          cols(std::max(start, fitEnd), full, false);
          if (full < ow && full >= start)
            rt = chunk(rb, rt, row, cidx(rb, l, full), false, false, checkRows,
                       false);
          return rt;
        });
  };
  Value done = rowRange(b, plane, 0, rowLo, true);
  done = rowRange(b, done, rowLo, rowHi, !fromSource);
  done = rowRange(b, done, rowHi, oh, true);
  Value planeSum;
  if (channelSum) {
    // The plane's rows in vectors (the last masked, read as zeros).
    Value acc = vector::BroadcastOp::create(b, loc, vecType,
                                            scalarConstant(b, loc, f32, 0));
    int64_t whole = ow / v * v;
    acc = forRange(
        b, loc, 0, oh, 1, acc,
        [&](OpBuilder &rb, Location l, Value row, Value racc) -> Value {
          Value zeroF = scalarConstant(rb, l, f32, 0);
          racc =
              forRange(rb, l, 0, whole, v, racc,
                       [&](OpBuilder &cb, Location, Value col, Value a) {
                         Value x = vector::TransferReadOp::create(
                             cb, l, vecType, done, ValueRange{row, col}, zeroF,
                             ArrayRef<bool>{true});
                         return arith::AddFOp::create(cb, l, a, x).getResult();
                       });
          if (whole < ow) {
            Value x = vector::TransferReadOp::create(
                rb, l, vecType, done, ValueRange{row, cidx(rb, l, whole)},
                zeroF, ArrayRef<bool>{false});
            racc = arith::AddFOp::create(rb, l, racc, x);
          }
          return racc;
        });
    Value sum =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
    // Into this task's element of the shared sums (no new tensor: a
    // buffer allocated inside the loop would have no place in the arena).
    Value slot = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({1, 1}, f32),
        forall.getRegionIterArgs()[1], ArrayRef<OpFoldResult>{n, c},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    planeSum = tensor::InsertOp::create(
        b, loc, sum, slot, ValueRange{cidx(b, loc, 0), cidx(b, loc, 0)});
  }
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, done, shared, offsets, sizes,
                                        unit);
  if (channelSum)
    tensor::ParallelInsertSliceOp::create(
        b, loc, planeSum, forall.getRegionIterArgs()[1],
        ArrayRef<OpFoldResult>{n, c},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  if (channelSum)
    rewriter.replaceOp(channelSum, forall.getResult(1));
  Value result = forall.getResult(0);
  if (epi.empty()) {
    rewriter.replaceOp(op, result);
    return success();
  }
  finishEpilogue(rewriter, epi, result);
  rewriter.eraseOp(op);
  return success();
}

} // namespace

LogicalResult kiln::emitDepthwiseConv(RewriterBase &rewriter,
                                      linalg::DepthwiseConv2DNchwChwOp op,
                                      int64_t vectorWidth) {
  Value w = op.getDpsInputs()[1];
  auto wt = cast<RankedTensorType>(w.getType());
  if (!wt.hasStaticShape() || !wt.getElementType().isF32())
    return failure();
  SmallVector<int64_t> strides(op.getStrides().getValues<int64_t>());
  SmallVector<int64_t> dilations(op.getDilations().getValues<int64_t>());
  return emitWindow(rewriter, op, op.getDpsInputs()[0], w,
                    op.getDpsInits()[0], strides, dilations, wt.getDimSize(1),
                    wt.getDimSize(2), vectorWidth);
}

LogicalResult kiln::emitMaxPool(RewriterBase &rewriter,
                                linalg::PoolingNchwMaxOp op,
                                int64_t vectorWidth) {
  auto window = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  if (!window.hasStaticShape() || window.getRank() != 2)
    return failure();
  // The init must be the lowest value: the kernel starts from it.
  Value init = op.getDpsInits()[0];
  Value start = kiln::splatInitValue(init);
  if (!start || !matchPattern(start, m_NegInfFloat()))
    return failure();
  SmallVector<int64_t> strides(op.getStrides().getValues<int64_t>());
  SmallVector<int64_t> dilations(op.getDilations().getValues<int64_t>());
  return emitWindow(rewriter, op, op.getDpsInputs()[0], Value(), init, strides,
                    dilations, window.getDimSize(0), window.getDimSize(1),
                    vectorWidth);
}
