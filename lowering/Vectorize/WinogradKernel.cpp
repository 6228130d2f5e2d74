//===- WinogradKernel.cpp - vectorized Winograd F(4x4, 3x3) transforms ----===//
//
// Replaces the two transform generics Conv.cpp emits for a Winograd
// convolution (marked `kiln.winograd`, see OnnxToLinalg/Winograd.h) by
// vector code that uses the structure of the transform matrices. Vectors run
// along the tiles of a tile row (lane l: tile tx0 + l), so that
//
//   input:  scf.forall (n, c)
//             scf.for ty, scf.for tx0 step V
//               per input row a of the 6x6 windows: read 4V + 2 pixels (of
//               a zero-padded input's source: rows outside it select
//               zeros, the left padding is shifted in),
//               split them into the six window columns (shuffles), apply
//               BT along the row; then BT down the columns; write the 36
//               vectors v[i][j][c][n][ty][tx0 : V]
//   output: scf.forall (n, m)
//             scf.for ty, scf.for tx0 step V
//               read the 36 products p[i][j][m][n][ty][tx0 : V], apply AT
//               both ways (+ bias), interleave each output row's four
//               vectors into 4V pixels, apply the fused epilogue
//               (Epilogue.h), write the row
//
// A tile row whose tiles are not a multiple of V ends with masked vectors;
// output rows and columns past the convolution's size are not written.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/OnnxToLinalg/Winograd.h"
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
namespace wg = kiln::winograd;

namespace {

/// sum_k coeffs[k] * values[k] (+ init), skipping zero coefficients and
/// multiplying by no unit one.
Value combine(OpBuilder &b, Location loc, ArrayRef<double> coeffs,
              ArrayRef<Value> values, Value init = Value()) {
  auto vecType = cast<VectorType>(values.front().getType());
  auto splat = [&](double c) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, (float)c));
  };
  Value acc = init;
  // Start from a term with coefficient 1 when there is no init.
  if (!acc)
    for (size_t k = 0; k < coeffs.size(); ++k)
      if (coeffs[k] == 1) {
        acc = values[k];
        SmallVector<double> rest(coeffs);
        rest[k] = 0;
        return combine(b, loc, rest, values, acc);
      }
  for (size_t k = 0; k < coeffs.size(); ++k) {
    double c = coeffs[k];
    if (c == 0)
      continue;
    if (!acc)
      acc = arith::MulFOp::create(b, loc, splat(c), values[k]);
    else if (c == 1)
      acc = arith::AddFOp::create(b, loc, acc, values[k]);
    else if (c == -1)
      acc = arith::SubFOp::create(b, loc, acc, values[k]);
    else
      acc = vector::FMAOp::create(b, loc, splat(c), values[k], acc);
  }
  return acc;
}

/// Lanes: as many tiles of a tile row as there are, up to the vector width.
int64_t lanesFor(int64_t tilesPerRow, int64_t vectorWidth) {
  int64_t v = std::max<int64_t>(vectorWidth, 4);
  while (v > 4 && tilesPerRow <= v / 2)
    v /= 2;
  return v;
}

bool isMarked(linalg::GenericOp op, StringRef kind) {
  auto attr = op->getAttrOfType<StringAttr>(wg::kAttr);
  return attr && attr.getValue() == kind && op.hasPureTensorSemantics() &&
         !op->getParentOfType<LoopLikeOpInterface>() &&
         op.getNumDpsInputs() == 3 && op.getNumDpsInits() == 1;
}

} // namespace

LogicalResult kiln::emitWinogradInput(RewriterBase &rewriter,
                                      linalg::GenericOp op,
                                      int64_t vectorWidth) {
  if (!isMarked(op, "input"))
    return failure();
  Value xp = op.getDpsInputs()[0];
  auto xt = cast<RankedTensorType>(xp.getType());
  auto vt = cast<RankedTensorType>(op.getResult(0).getType());
  if (!xt.hasStaticShape() || !vt.hasStaticShape() || xt.getRank() != 4 ||
      vt.getRank() != 6 || !xt.getElementType().isF32())
    return failure();
  int64_t batch = vt.getDimSize(3), channels = vt.getDimSize(2);
  int64_t ty = vt.getDimSize(4), tx = vt.getDimSize(5);
  if (xt.getDimSize(0) != batch || xt.getDimSize(1) != channels ||
      xt.getDimSize(2) != wg::kOut * ty + 2 ||
      xt.getDimSize(3) != wg::kOut * tx + 2)
    return failure();
  Value init = splatInitValue(op.getDpsInits()[0]);
  if (!init || !matchPattern(init, m_AnyZeroFloat()))
    return failure();

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Type f32 = rewriter.getF32Type();
  int64_t v = lanesFor(tx, vectorWidth);
  // A zero-padded input is read from its source (no padded copy): rows
  // above or below it read as zeros, the first chunk of a row shifts the
  // left padding in, reads past a row's end are masked.
  Value input = xp;
  int64_t padTop = 0, padLeft = 0, srcH = 0;
  bool fromSource = false;
  if (auto src = paddedSource(
          xp, [](Value pv) { return matchPattern(pv, m_AnyZeroFloat()); });
      src && src->padLeft < wg::kOut * v) {
    input = src->source;
    padTop = src->padTop;
    padLeft = src->padLeft;
    srcH = src->rows;
    fromSource = true;
  }
  auto wideType = VectorType::get({wg::kOut * v}, f32);
  auto edgeType = VectorType::get({2}, f32);
  auto sliceType = RankedTensorType::get({wg::kIn, wg::kIn, ty, tx}, f32);
  Value zero = scalarConstant(rewriter, loc, f32, 0);
  Value out = emptyTensor(rewriter, loc, vt);

  auto forall = scf::ForallOp::create(
      rewriter, loc,
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(batch),
                             rewriter.getIndexAttr(channels)},
      ValueRange{out}, std::nullopt);
  OpBuilder b(forall.getTerminator());
  Value n = forall.getInductionVar(0), c = forall.getInductionVar(1);
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0), c,
                                    n, b.getIndexAttr(0), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(wg::kIn),
                                  b.getIndexAttr(wg::kIn),
                                  b.getIndexAttr(1),
                                  b.getIndexAttr(1),
                                  b.getIndexAttr(ty),
                                  b.getIndexAttr(tx)};
  SmallVector<OpFoldResult> unit(6, b.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, shared,
                                               offsets, sizes, unit);

  // The six window columns of lane l start at pixel 4 (tx0 + l): columns
  // 0-3 are the stride-4 lanes of 4V pixels, 4 and 5 are columns 0 and 1
  // of the next tile (the last lane's from the two pixels after them).
  SmallVector<SmallVector<int64_t>> phase(wg::kIn);
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t l = 0; l < v; ++l)
      phase[k].push_back(4 * l + k);
  for (int64_t k = 4; k < 6; ++k) {
    for (int64_t l = 1; l < v; ++l)
      phase[k].push_back(l);
    phase[k].push_back(v + k - 4);
  }
  AffineExpr d0 = b.getAffineDimExpr(0);
  Value zerosWide = vector::BroadcastOp::create(b, loc, wideType, zero);
  Value zerosEdge = vector::BroadcastOp::create(b, loc, edgeType, zero);
  SmallVector<int64_t> shiftIn;
  for (int64_t l = 0; l < wg::kOut * v; ++l)
    shiftIn.push_back(l >= padLeft ? l - padLeft : wg::kOut * v);
  // `first`: the chunk at tx0 = 0, whose reads start left of the source row.
  auto chunk = [&](OpBuilder &cb, Value t, Value tyv, Value tx0, bool inBounds,
                   bool first = false) -> Value {
    Value col = affineOf(cb, loc, d0 * wg::kOut - padLeft, {tx0});
    Value colEnd =
        affineOf(cb, loc, d0 * wg::kOut + wg::kOut * v - padLeft, {tx0});
    // r[a][j]: row a of the windows, transformed along the row.
    SmallVector<SmallVector<Value>> r(wg::kIn);
    for (int64_t a = 0; a < wg::kIn; ++a) {
      Value row = affineOf(cb, loc, d0 * wg::kOut + a - padTop, {tyv});
      Value valid;
      if (fromSource) // rows in the padding read as zeros
        std::tie(row, valid) = clampRow(cb, loc, row, srcH);
      Value wide;
      if (first && padLeft > 0) {
        Value raw = vector::TransferReadOp::create(
            cb, loc, wideType, input, ValueRange{n, c, row, cidx(cb, loc, 0)},
            zero, ArrayRef<bool>{false});
        wide = vector::ShuffleOp::create(cb, loc, raw, zerosWide, shiftIn);
      } else {
        wide = vector::TransferReadOp::create(
            cb, loc, wideType, input, ValueRange{n, c, row, col}, zero,
            ArrayRef<bool>{inBounds && !fromSource});
      }
      Value edge = vector::TransferReadOp::create(
          cb, loc, edgeType, input, ValueRange{n, c, row, colEnd}, zero,
          ArrayRef<bool>{inBounds && !fromSource});
      if (fromSource) {
        wide = arith::SelectOp::create(cb, loc, valid, wide, zerosWide);
        edge = arith::SelectOp::create(cb, loc, valid, edge, zerosEdge);
      }
      SmallVector<Value> cols;
      for (int64_t k = 0; k < 4; ++k)
        cols.push_back(
            vector::ShuffleOp::create(cb, loc, wide, wide, phase[k]));
      for (int64_t k = 4; k < 6; ++k)
        cols.push_back(
            vector::ShuffleOp::create(cb, loc, cols[k - 4], edge, phase[k]));
      for (int64_t j = 0; j < wg::kIn; ++j)
        r[a].push_back(combine(cb, loc, wg::BT[j], cols));
    }
    for (int64_t i = 0; i < wg::kIn; ++i)
      for (int64_t j = 0; j < wg::kIn; ++j) {
        SmallVector<Value> column;
        for (int64_t a = 0; a < wg::kIn; ++a)
          column.push_back(r[a][j]);
        Value value = combine(cb, loc, wg::BT[i], column);
        t = vector::TransferWriteOp::create(
                cb, loc, value, t,
                ValueRange{cidx(cb, loc, i), cidx(cb, loc, j), tyv, tx0},
                ArrayRef<bool>{inBounds})
                .getResult();
      }
    return t;
  };
  int64_t full = tx / v * v;
  // With the left padding shifted in, the first chunk is peeled.
  int64_t start = fromSource && padLeft > 0 ? v : 0;
  Value rows = forRange(
      b, loc, 0, ty, 1, slice,
      [&](OpBuilder &rb, Location l, Value tyv, Value t) {
        if (start > 0)
          t = chunk(rb, t, tyv, cidx(rb, l, 0), full >= v, /*first=*/true);
        t = forRange(rb, l, start, full, v, t,
                     [&](OpBuilder &cb, Location, Value tx0, Value ct) {
                       return chunk(cb, ct, tyv, tx0, true);
                     });
        if (full < tx && std::max(full, start) == full)
          t = chunk(rb, t, tyv, cidx(rb, l, full), false);
        return t;
      });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, rows, shared,
                                        offsets, sizes, unit);
  rewriter.replaceOp(op, forall.getResult(0));
  return success();
}

LogicalResult kiln::emitWinogradOutput(RewriterBase &rewriter,
                                       linalg::GenericOp op,
                                       int64_t vectorWidth) {
  if (!isMarked(op, "output"))
    return failure();
  Value p = op.getDpsInputs()[0];
  auto pt = cast<RankedTensorType>(p.getType());
  auto yt = cast<RankedTensorType>(op.getResult(0).getType());
  if (!pt.hasStaticShape() || !yt.hasStaticShape() || pt.getRank() != 6 ||
      yt.getRank() != 6 || !pt.getElementType().isF32())
    return failure();
  int64_t batch = yt.getDimSize(0), channels = yt.getDimSize(1);
  int64_t ty = yt.getDimSize(2), tx = yt.getDimSize(4);
  if (pt.getDimSize(2) != channels || pt.getDimSize(3) != batch ||
      pt.getDimSize(4) != ty || pt.getDimSize(5) != tx)
    return failure();
  // The result is seen through its collapse to [N, M, 4 TY, 4 TX] and the
  // crop to [N, M, H, W].
  if (!op.getResult(0).hasOneUse())
    return failure();
  auto collapse =
      dyn_cast<tensor::CollapseShapeOp>(*op.getResult(0).getUsers().begin());
  if (!collapse)
    return failure();
  Operation *last = collapse;
  auto finalType = cast<RankedTensorType>(collapse.getType());
  tensor::ExtractSliceOp crop;
  if (collapse.getResult().hasOneUse())
    if ((crop = dyn_cast<tensor::ExtractSliceOp>(
             *collapse.getResult().getUsers().begin()))) {
      if (!crop.hasZeroOffset() || !crop.hasUnitStride() ||
          crop.getType().getRank() != 4)
        return failure();
      last = crop;
      finalType = crop.getType();
    }
  int64_t h = finalType.getDimSize(2), w = finalType.getDimSize(3);

  // The initial value: a constant, or one value per output channel (bias).
  ChannelInit start = classifyChannelInit(op.getDpsInits()[0]);
  if (start.kind == ChannelInit::Tensor)
    return failure();

  Location loc = op.getLoc();
  Value result = last->getResult(0);
  Epilogue epi = findEpilogue(result);
  rewriter.setInsertionPoint(epi.insertionPoint(last));
  Type f32 = rewriter.getF32Type();
  prepareEpilogue(rewriter, loc, epi, batch * channels * h, w);
  int64_t v = lanesFor(tx, vectorWidth);
  auto vecType = VectorType::get({v}, f32);
  auto planeType = RankedTensorType::get({h, w}, f32);
  Value zero = scalarConstant(rewriter, loc, f32, 0);
  Value out = emptyTensor(rewriter, loc, finalType);

  auto forall = scf::ForallOp::create(
      rewriter, loc,
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(batch),
                             rewriter.getIndexAttr(channels)},
      ValueRange{out}, std::nullopt);
  OpBuilder b(forall.getTerminator());
  Value n = forall.getInductionVar(0), m = forall.getInductionVar(1);
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets{n, m, b.getIndexAttr(0),
                                    b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1),
                                  b.getIndexAttr(h), b.getIndexAttr(w)};
  SmallVector<OpFoldResult> unit(4, b.getIndexAttr(1));
  Value plane = tensor::ExtractSliceOp::create(b, loc, planeType, shared,
                                               offsets, sizes, unit);
  Value base = channelStart(b, loc, start, n, m, vecType);
  AffineExpr d0 = b.getAffineDimExpr(0), d1 = b.getAffineDimExpr(1);
  Value rowBase = affineOf(b, loc, (d0 * channels + d1) * h, {n, m});

  SmallVector<int64_t> pairs, quads;
  for (int64_t l = 0; l < v; ++l)
    pairs.append({l, v + l});
  for (int64_t l = 0; l < v; ++l)
    quads.append({2 * l, 2 * l + 1, 2 * v + 2 * l, 2 * v + 2 * l + 1});
  // Output rows [0, rows) of tile row ty, tiles [tx0, tx0 + V); `inBounds`:
  // all V tiles and their 4V pixels exist.
  auto chunk = [&](OpBuilder &cb, Value t, Value tyv, Value tx0, int64_t rows,
                   bool inBounds) -> Value {
    // q[i][s]: the products transformed along j.
    SmallVector<SmallVector<Value>> q(wg::kIn);
    for (int64_t i = 0; i < wg::kIn; ++i) {
      SmallVector<Value> prods;
      for (int64_t j = 0; j < wg::kIn; ++j)
        prods.push_back(vector::TransferReadOp::create(
            cb, loc, vecType, p,
            ValueRange{cidx(cb, loc, i), cidx(cb, loc, j), m, n, tyv, tx0},
            zero, ArrayRef<bool>{inBounds}));
      for (int64_t s = 0; s < wg::kOut; ++s)
        q[i].push_back(combine(cb, loc, wg::AT[s], prods));
    }
    Value col = affineOf(cb, loc, d0 * wg::kOut, {tx0});
    for (int64_t r = 0; r < rows; ++r) {
      SmallVector<Value> o;
      for (int64_t s = 0; s < wg::kOut; ++s) {
        SmallVector<Value> column;
        for (int64_t i = 0; i < wg::kIn; ++i)
          column.push_back(q[i][s]);
        o.push_back(combine(cb, loc, wg::AT[r], column, base));
      }
      Value lo = vector::ShuffleOp::create(cb, loc, o[0], o[1], pairs);
      Value hi = vector::ShuffleOp::create(cb, loc, o[2], o[3], pairs);
      Value pixels = vector::ShuffleOp::create(cb, loc, lo, hi, quads);
      Value row = affineOf(cb, loc, d0 * wg::kOut + r, {tyv});
      if (!epi.empty())
        pixels = applyEpilogue(cb, loc, epi, pixels,
                               arith::AddIOp::create(cb, loc, rowBase, row),
                               col, inBounds);
      t = vector::TransferWriteOp::create(cb, loc, pixels, t,
                                          ValueRange{row, col},
                                          ArrayRef<bool>{inBounds})
              .getResult();
    }
    return t;
  };
  // Tiles [0, full) have all their pixels inside the output's width.
  int64_t full = (w / wg::kOut) / v * v;
  auto tileRow = [&](OpBuilder &rb, Value t, Value tyv, int64_t rows) {
    t = forRange(rb, loc, 0, full, v, t,
                 [&](OpBuilder &cb, Location, Value tx0, Value ct) {
                   return chunk(cb, ct, tyv, tx0, rows, true);
                 });
    for (int64_t tx0 = full; tx0 < tx; tx0 += v)
      t = chunk(rb, t, tyv, cidx(rb, loc, tx0), rows, false);
    return t;
  };
  int64_t fullRows = h / wg::kOut;
  Value done = forRange(b, loc, 0, fullRows, 1, plane,
                        [&](OpBuilder &rb, Location, Value tyv, Value t) {
                          return tileRow(rb, t, tyv, wg::kOut);
                        });
  if (fullRows < ty)
    done = tileRow(b, done, cidx(b, loc, fullRows), h - fullRows * wg::kOut);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, done, shared, offsets, sizes,
                                        unit);
  Value kernel = forall.getResult(0);
  if (epi.empty())
    rewriter.replaceAllUsesWith(result, kernel);
  else
    finishEpilogue(rewriter, epi, kernel);
  if (crop)
    rewriter.eraseOp(crop);
  rewriter.eraseOp(collapse);
  rewriter.eraseOp(op);
  return success();
}
