//===- MatmulKernel.cpp - packed-panel matmul kernels ---------------------===//
//
// C[M, N] = A[M, K] x B[K, N] + init, f32, static shapes, on tensors:
//
//   Bp[N/nr][K][nr]  B in column panels: the kernel reads one contiguous
//                    vector per k (no cache-set conflicts between the rows
//                    of B, whatever N is). Made at compile time when B is a
//                    constant (weights); gathered from the input when B is
//                    an im2col; otherwise (activations) copied at run time,
//                    by each task, panel by panel, into a buffer of its own
//                    when few row blocks of tasks share B's columns, else
//                    once for all before the product.
//   Ap[M/mr][K][mr]  A in row panels, when A is a constant (a convolution's
//                    weights): the mr broadcasts of one k share a cache line.
//
//   scf.forall (ti, tj)                     cache tiles tm x tn: threads
//     scf.for k0 step kc                    K blocks
//       scf.for j step nr                   panels of B (kc x nr, in L1)
//         [copy panel j of B, rows k0..]    (the task's own copy)
//         scf.for i step mr                 register tiles
//           acc[r] = init or C              mr vectors of nr
//           scf.for k in [k0, k0 + kc)      acc[r] += A[i + r, k] * Bp[j, k]
//           C[i + r, j:j + nr] = acc[r]     (epilogue in the last K block)
//
// When B is a constant (weights, with the activations as A: transposed
// products, transformer layers), each B panel is read from memory once per
// K block and then from the cache by every row tile; the row tiles' k loops
// prefetch the next panel into L2 meanwhile, one cache line per k each
// (spread over the row tiles), so that streaming the weights from DRAM
// overlaps the arithmetic instead of stalling the first row tile. When A is
// the constant (a convolution's weights), each row tile's k loop prefetches
// the next row tile's A panel: the first pass over a cache tile's columns
// reads A from memory, and would otherwise wait for each panel in turn.
//
// The accumulators are loop-carried vectors from the start (nothing to hoist),
// and the initial value of C (a constant fill, or a bias broadcast along rows
// or columns) is read straight into them in the first K block: C is written
// once per K block and never filled first. M and N are padded to the
// register tile; the padding of a constant operand costs nothing at run time.
//
//===----------------------------------------------------------------------===//
#include "lowering/Vectorize/MatmulKernel.h"
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/Vectorize/Epilogue.h"
#include "lowering/Vectorize/KernelUtils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

#include <cstring>
#include <functional>

using namespace mlir;

namespace {

/// A constant f32 matrix cut into panels of `width` along one of its dims,
/// made now: element (p, d) of the matrix, p along the panelled dim
/// (`panels` long) and d along the other (`depth` long), read at
/// `p * pStride + d * dStride`, lands at [p / width][d][p % width]; the last
/// panel is padded with zeros. With `batches` matrices (`batchStride`
/// elements apart), their panels follow each other.
Value packedConstant(OpBuilder &b, Location loc, ArrayRef<char> bytes,
                     bool splat, int64_t panels, int64_t depth, int64_t pStride,
                     int64_t dStride, int64_t width, int64_t batches = 1,
                     int64_t batchStride = 0) {
  int64_t perBatch = llvm::divideCeil(panels, width);
  int64_t count = batches * perBatch;
  std::vector<float> out(count * depth * width, 0.0f);
  auto at = [&](int64_t i) {
    float v;
    std::memcpy(&v, bytes.data() + (splat ? 0 : i * sizeof(float)),
                sizeof(float));
    return v;
  };
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t p = 0; p < panels; ++p)
      for (int64_t d = 0; d < depth; ++d)
        out[((bi * perBatch + p / width) * depth + d) * width + p % width] =
            at(bi * batchStride + p * pStride + d * dStride);
  Type f32 = b.getF32Type();
  auto flatType = RankedTensorType::get({(int64_t)out.size()}, f32);
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>((const char *)out.data(), out.size() * sizeof(float)),
      alignof(double));
  Value flat = arith::ConstantOp::create(
      b, loc,
      DenseResourceElementsAttr::get(flatType, "packed_weights",
                                     std::move(blob)));
  return kiln::reshapeTensor(b, loc, flat,
                             RankedTensorType::get({count, depth, width}, f32));
}

/// A `[panels][k][nr]` tensor (rounded up to whole groups of panels) built
/// by an scf.forall whose tasks each fill a group of adjacent panels over a
/// chunk of rows: row by row, all panels of the group, so that the source is
/// read along its rows (one stretch of `group * nr` columns per row, which
/// the hardware prefetcher follows) rather than down one panel's columns (a
/// new page per row, and on power-of-two widths one cache set for all of
/// them). `prepare` runs once per panel at the top of a task (given the
/// panel index; a padding panel gets the last one's) and returns what `row`
/// needs; `row` gives the panel's vector of row k.
Value buildPanels(
    OpBuilder &b, Location loc, int64_t panels, int64_t k, int64_t nr,
    function_ref<SmallVector<Value>(OpBuilder &, Value)> prepare,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> row) {
  Type f32 = b.getF32Type();
  const int64_t group = std::min<int64_t>(8, panels);
  int64_t groups = llvm::divideCeil(panels, group);
  // Row chunks of 64-256 rows dividing k (else all of k): tasks enough for
  // the threads when there are few panels.
  int64_t chunk = k;
  if (k > 256)
    for (int64_t d = 256; d >= 64; --d)
      if (k % d == 0) {
        chunk = d;
        break;
      }
  auto packedType = RankedTensorType::get({groups * group, k, nr}, f32);
  auto blockType = RankedTensorType::get({group, chunk, nr}, f32);
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{b.getIndexAttr(groups),
                             b.getIndexAttr(k / chunk)},
      ValueRange{kiln::emptyTensor(b, loc, packedType)}, std::nullopt);
  OpBuilder fb(forall.getTerminator());
  MLIRContext *ctx = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx);
  Value first = kiln::affineOf(fb, loc, d0 * group, {forall.getInductionVar(0)});
  Value row0 = kiln::affineOf(fb, loc, d0 * chunk, {forall.getInductionVar(1)});
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets{first, row0, fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{fb.getIndexAttr(group),
                                  fb.getIndexAttr(chunk), fb.getIndexAttr(nr)};
  SmallVector<OpFoldResult> strides(3, fb.getIndexAttr(1));
  Value block = tensor::ExtractSliceOp::create(fb, loc, blockType, shared,
                                               offsets, sizes, strides);
  SmallVector<SmallVector<Value>> states;
  for (int64_t p = 0; p < group; ++p)
    states.push_back(prepare(
        fb, affine::AffineMinOp::create(
                fb, loc,
                AffineMap::get(1, 0,
                               {d0 + p, getAffineConstantExpr(panels - 1, ctx)},
                               ctx),
                ValueRange{first})));
  Value c0 = kiln::cidx(fb, loc, 0);
  Value rows = kiln::forRange(
      fb, loc, 0, chunk, 1, block,
      [&](OpBuilder &lb, Location l, Value r, Value t) -> Value {
        Value kk = kiln::affineOf(lb, l, d0 + getAffineDimExpr(1, ctx),
                                  {row0, r});
        for (int64_t p = 0; p < group; ++p)
          t = vector::TransferWriteOp::create(
                  lb, l, row(lb, l, states[p], kk), t,
                  ValueRange{kiln::cidx(lb, l, p), r, c0},
                  ArrayRef<bool>{true})
                  .getResult();
        return t;
      });
  fb.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(fb, loc, rows, shared, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

/// B = X scaled row by row, B[k, n] = s[k] * X[k, n]: the collapse to
/// [K, N] of an elementwise product whose other factor is broadcast along the
/// N dims (a squeeze-and-excitation block's channel scales times the
/// activation, feeding the next 1x1 convolution). `rowScale` gives s[k] for
/// a row.
struct RowScaled {
  Value x;                                  // X as the product's operand
  SmallVector<ReassociationIndices> groups; // X -> [K, N]
  std::function<Value(OpBuilder &, Location, Value)> rowScale;
};

/// Recognizes B as a row-scaled X; B alone uses the product.
std::optional<RowScaled> matchRowScaled(Value bMat) {
  auto collapse = bMat.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || !collapse->hasOneUse() ||
      collapse.getReassociationIndices().size() != 2)
    return std::nullopt;
  auto g = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!g || !g->hasOneUse() || g.getNumDpsInputs() != 2 ||
      g.getNumDpsInits() != 1 || g.getNumLoops() != g.getNumParallelLoops() ||
      !g.getIndexingMapsArray()[2].isIdentity())
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  auto mul = yield.getValues()[0].getDefiningOp<arith::MulFOp>();
  if (!mul || mul->getBlock() != g.getBody() ||
      &g.getBody()->front() != mul.getOperation())
    return std::nullopt;
  Block *body = g.getBody();
  if (!((mul.getLhs() == body->getArgument(0) &&
         mul.getRhs() == body->getArgument(1)) ||
        (mul.getLhs() == body->getArgument(1) &&
         mul.getRhs() == body->getArgument(0))))
    return std::nullopt;
  // One factor read whole, the other (the scales) through dims of K only
  // and zeros on unit dims.
  ReassociationIndices kDims = collapse.getReassociationIndices()[0];
  auto colType = cast<RankedTensorType>(collapse.getSrc().getType());
  for (int full = 0; full < 2; ++full) {
    OpOperand *xOp = g.getDpsInputOperand(full);
    OpOperand *sOp = g.getDpsInputOperand(1 - full);
    // Read whole: the identity, or 0 on unit dims.
    AffineMap xMap = g.getMatchingIndexingMap(xOp);
    bool whole = xOp->get().getType() == colType;
    for (auto [pos, e] : llvm::enumerate(xMap.getResults())) {
      auto d = dyn_cast<AffineDimExpr>(e);
      auto c = dyn_cast<AffineConstantExpr>(e);
      whole &= (d && d.getPosition() == pos) ||
               (c && c.getValue() == 0 && colType.getDimSize(pos) == 1);
    }
    if (!whole)
      continue;
    AffineMap sMap = g.getMatchingIndexingMap(sOp);
    auto sType = dyn_cast<RankedTensorType>(sOp->get().getType());
    if (!sType || !sType.hasStaticShape())
      continue;
    bool ok = true;
    for (auto [pos, e] : llvm::enumerate(sMap.getResults())) {
      if (auto c = dyn_cast<AffineConstantExpr>(e))
        ok &= c.getValue() == 0;
      else if (auto d = dyn_cast<AffineDimExpr>(e))
        ok &= llvm::is_contained(kDims, (int64_t)d.getPosition());
      else
        ok = false;
    }
    if (!ok)
      continue;
    RowScaled r;
    r.x = xOp->get();
    r.groups = collapse.getReassociationIndices();
    Value scales = sOp->get();
    ArrayRef<int64_t> shape = colType.getShape();
    r.rowScale = [=](OpBuilder &b, Location loc, Value k) -> Value {
      // k's digits over the K dims, innermost fastest.
      MLIRContext *ctx = b.getContext();
      SmallVector<Value> digit(shape.size());
      AffineExpr rest = getAffineDimExpr(0, ctx);
      for (int64_t i = kDims.size() - 1; i >= 0; --i) {
        int64_t d = kDims[i];
        AffineExpr e = i > 0 ? rest % shape[d] : rest;
        digit[d] = kiln::affineOf(b, loc, e, {k});
        rest = rest.floorDiv(shape[d]);
      }
      return tensor::ExtractOp::create(
          b, loc, scales, kiln::broadcastIndices(b, loc, sMap, digit));
    };
    return r;
  }
  return std::nullopt;
}

/// The vector of `vt` at `index` (row `row` of B) in `source` (B, or with
/// `scaled` its X, the vector then times the row's scale); masked past the
/// end of the row unless `inBounds`.
Value readRowOfB(OpBuilder &b, Location loc, VectorType vt, Value source,
                 ValueRange index, bool inBounds,
                 const std::optional<RowScaled> &scaled, Value row) {
  Value zero = kiln::scalarConstant(b, loc, vt.getElementType(), 0);
  Value v = vector::TransferReadOp::create(b, loc, vt, source, index, zero,
                                           ArrayRef<bool>{inBounds});
  if (!scaled)
    return v;
  return arith::MulFOp::create(
      b, loc, v,
      vector::BroadcastOp::create(b, loc, vt, scaled->rowScale(b, loc, row)));
}

/// B[K, N] as column panels [ceil(N / nr)][K][nr], copied at run time from
/// `source` (B, or with `scaled` its X: B is X times the row scales, the
/// product made in the copy): one vector per row of a panel, the last panel
/// filled up with zeros. A batch B[batch, K, N] gives the panels of each
/// matrix in turn.
Value packAtRunTime(OpBuilder &b, Location loc, Value source, int64_t nr,
                    const std::optional<RowScaled> &scaled) {
  MLIRContext *ctx = b.getContext();
  auto bt = cast<RankedTensorType>(source.getType());
  int64_t rank = bt.getRank();
  int64_t k = bt.getDimSize(rank - 2), n = bt.getDimSize(rank - 1);
  int64_t batches = rank == 3 ? bt.getDimSize(0) : 1;
  int64_t perBatch = llvm::divideCeil(n, nr);
  auto vecType = VectorType::get({nr}, bt.getElementType());
  AffineExpr d0 = getAffineDimExpr(0, ctx);
  return buildPanels(
      b, loc, batches * perBatch, k, nr,
      [&](OpBuilder &pb, Value panel) -> SmallVector<Value> {
        // The panel's first column, then (batched) its matrix.
        SmallVector<Value> at{affine::AffineApplyOp::create(
            pb, loc, AffineMap::get(1, 0, (d0 % perBatch) * nr, ctx),
            ValueRange{panel})};
        if (rank == 3)
          at.push_back(affine::AffineApplyOp::create(
              pb, loc, AffineMap::get(1, 0, d0.floorDiv(perBatch), ctx),
              ValueRange{panel}));
        return at;
      },
      [&](OpBuilder &lb, Location l, ValueRange at, Value row) -> Value {
        // Only a last, partial panel reads past N (masked, zeros).
        SmallVector<Value> index{row, at[0]};
        if (rank == 3)
          index.insert(index.begin(), at[1]);
        return readRowOfB(lb, l, vecType, source, index, n % nr == 0, scaled,
                          row);
      });
}

/// The coefficients of a linear affine expression (sums of dims times
/// constants, plus a constant) in its `numDims` dims, constant last; nullopt
/// for anything else (floordiv, mod, symbols).
std::optional<SmallVector<int64_t>> linearCoefficients(AffineExpr e,
                                                       unsigned numDims) {
  bool linear = true;
  e.walk([&](AffineExpr sub) {
    if (sub.getKind() == AffineExprKind::Mod ||
        sub.getKind() == AffineExprKind::FloorDiv ||
        sub.getKind() == AffineExprKind::CeilDiv ||
        sub.getKind() == AffineExprKind::SymbolId)
      linear = false;
  });
  if (!linear)
    return std::nullopt;
  MLIRContext *ctx = e.getContext();
  auto at = [&](int64_t one) -> std::optional<int64_t> {
    SmallVector<AffineExpr> dims;
    for (unsigned d = 0; d < numDims; ++d)
      dims.push_back(getAffineConstantExpr(d == one ? 1 : 0, ctx));
    auto c = dyn_cast<AffineConstantExpr>(e.replaceDims(dims));
    if (!c)
      return std::nullopt;
    return c.getValue();
  };
  std::optional<int64_t> base = at(-1);
  if (!base)
    return std::nullopt;
  SmallVector<int64_t> coeffs;
  for (unsigned d = 0; d < numDims; ++d) {
    std::optional<int64_t> v = at(d);
    if (!v)
      return std::nullopt;
    coeffs.push_back(*v - *base);
  }
  coeffs.push_back(*base);
  return coeffs;
}

/// When B is an im2col matrix (a convolution's: the collapse of a generic
/// that copies a window of its input X to every (k, pixel) position,
/// `col[k..., p...] = X[map(k..., p...)]`), the column panels gathered from X
/// directly: the same one copy the im2col makes, in the kernel's layout.
/// Each panel computes the offsets of its nr pixels in X once (a vector);
/// each row k adds its own offset and gathers. Null when B is not that.
Value packIm2col(OpBuilder &b, Location loc, Value bMat, int64_t nr) {
  auto collapse = bMat.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getReassociationIndices().size() != 2)
    return {};
  auto gather = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!gather || gather.getNumDpsInputs() != 1 ||
      gather.getNumDpsInits() != 1 || gather.getNumReductionLoops() != 0 ||
      !gather.getIndexingMapsArray()[1].isIdentity() ||
      !gather.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
    return {};
  auto yield = cast<linalg::YieldOp>(gather.getBody()->getTerminator());
  if (yield.getValues()[0] != gather.getBody()->getArgument(0))
    return {};
  Value x = gather.getDpsInputs()[0];
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  auto colType = cast<RankedTensorType>(collapse.getSrc().getType());
  if (!xt || !xt.hasStaticShape() || !xt.getElementType().isF32() ||
      xt.getRank() == 0 || xt.getNumElements() >= (int64_t(1) << 31))
    return {};
  // The offset into X of each iteration point: sum of coeff[d] * d + base.
  AffineMap map = gather.getIndexingMapsArray()[0];
  unsigned numDims = map.getNumDims();
  SmallVector<int64_t> coeff(numDims + 1, 0);
  int64_t stride = 1;
  for (int64_t r = xt.getRank() - 1; r >= 0; --r) {
    auto c = linearCoefficients(map.getResult(r), numDims);
    if (!c)
      return {};
    for (unsigned d = 0; d <= numDims; ++d)
      coeff[d] += (*c)[d] * stride;
    stride *= xt.getDimSize(r);
  }
  ArrayRef<int64_t> shape = colType.getShape();
  ReassociationIndices kDims = collapse.getReassociationIndices()[0],
                       pDims = collapse.getReassociationIndices()[1];
  auto bt = cast<RankedTensorType>(bMat.getType());
  int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
  int64_t panels = llvm::divideCeil(n, nr);

  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto vecType = VectorType::get({nr}, f32);
  auto idxVecType = VectorType::get({nr}, i32);
  Value xFlat = kiln::reshapeTensor(
      b, loc, x, RankedTensorType::get({xt.getNumElements()}, f32));
  Value mask, zeros;
  return buildPanels(
      b, loc, panels, k, nr,
      [&](OpBuilder &fb, Value pb) -> SmallVector<Value> {
        auto vconst = [&](int64_t v) {
          return arith::ConstantOp::create(
                     fb, loc, DenseElementsAttr::get(idxVecType, (int32_t)v))
              .getResult();
        };
        // The pixels of this panel (past N: the last pixel again, whose
        // columns are cut off the result), as offsets into X.
        Value first = arith::IndexCastOp::create(
            fb, loc, i32,
            affine::AffineApplyOp::create(
                fb, loc,
                AffineMap::get(1, 0, getAffineDimExpr(0, ctx) * nr, ctx),
                ValueRange{pb}));
        Value pix = arith::AddIOp::create(
            fb, loc, vector::BroadcastOp::create(fb, loc, idxVecType, first),
            arith::IndexCastOp::create(
                fb, loc, idxVecType,
                vector::StepOp::create(
                    fb, loc, VectorType::get({nr}, fb.getIndexType()))));
        pix = arith::MinSIOp::create(fb, loc, pix, vconst(n - 1));
        Value offsets = vconst(0);
        for (int64_t i = pDims.size() - 1; i >= 0; --i) {
          int64_t d = pDims[i];
          Value digit = pix;
          if (i > 0) {
            digit = arith::RemUIOp::create(fb, loc, pix, vconst(shape[d]));
            pix = arith::DivUIOp::create(fb, loc, pix, vconst(shape[d]));
          }
          if (coeff[d] != 0)
            offsets = arith::AddIOp::create(
                fb, loc, offsets,
                arith::MulIOp::create(fb, loc, digit, vconst(coeff[d])));
        }
        if (!mask) {
          mask = arith::ConstantOp::create(
              fb, loc,
              DenseElementsAttr::get(VectorType::get({nr}, fb.getI1Type()),
                                     true));
          zeros = arith::ConstantOp::create(
              fb, loc, DenseElementsAttr::get(vecType, 0.0f));
        }
        return {offsets};
      },
      [&](OpBuilder &lb, Location l, ValueRange at, Value row) -> Value {
        // The row's own offset: its digits over the k dims.
        AffineExpr rest = getAffineDimExpr(0, ctx);
        AffineExpr offset = getAffineConstantExpr(coeff[numDims], ctx);
        for (int64_t i = kDims.size() - 1; i >= 0; --i) {
          int64_t d = kDims[i];
          AffineExpr digit = i > 0 ? rest % shape[d] : rest;
          offset = offset + digit * coeff[d];
          rest = rest.floorDiv(shape[d]);
        }
        Value base = affine::AffineApplyOp::create(
            lb, l, AffineMap::get(1, 0, offset, ctx), ValueRange{row});
        return vector::GatherOp::create(lb, l, vecType, xFlat, ValueRange{base},
                                        at[0], mask, zeros);
      });
}

/// When each task copies the B panels it uses itself: each copy read by at
/// least this many row tiles, each panel copied by at most this many row
/// blocks of tasks.
constexpr int64_t kMinRowTilesPerCopy = 8;
constexpr int64_t kMaxPanelCopies = 4;
/// The most 4 KiB pages a panel of B (tk rows) may span to be read in place.
constexpr int64_t kMaxPanelPages = 16;

/// How the accumulators start, before the first K block.
struct InitSource {
  enum Kind { Constant, Broadcast, Tensor } kind = Tensor;
  Value value;   // the fill value, the broadcast source or the tensor
  AffineMap map; // Broadcast: (i, j) -> index into `value`
  bool alongColumns = false; // Broadcast: the map's last result is j
};

/// Recognizes an init that is a constant fill, or a copy of a smaller tensor
/// broadcast along rows and/or columns (a bias), of an empty tensor.
InitSource classifyInit(Value init, int64_t n, int64_t nr) {
  InitSource src;
  src.value = init;
  if (Value splat = kiln::splatInitValue(init)) {
    src.kind = InitSource::Constant;
    src.value = splat;
    return src;
  }
  linalg::GenericOp generic = kiln::broadcastCopy(init);
  if (!generic || generic.getNumLoops() != 2)
    return src;
  AffineMap map = generic.getIndexingMapsArray()[0];
  Value input = generic.getDpsInputs()[0];
  if (!cast<ShapedType>(input.getType()).getElementType().isF32())
    return src;
  // Each index is 0, i or j; j, if used, indexes the last (contiguous) dim
  // and the columns need no padding (the vector read stays in bounds).
  bool usesJ = false;
  for (auto [pos, e] : llvm::enumerate(map.getResults())) {
    if (auto c = dyn_cast<AffineConstantExpr>(e)) {
      if (c.getValue() != 0)
        return src;
      continue;
    }
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return src;
    if (d.getPosition() == 1) {
      if (usesJ || pos + 1 != map.getNumResults() || n % nr != 0)
        return src;
      usesJ = true;
    }
  }
  src.kind = InitSource::Broadcast;
  src.value = input;
  src.map = map;
  src.alongColumns = usesJ;
  return src;
}

} // namespace

/// The rows of a register tile for M rows: mr, or when mr does not divide M
/// one or two rows fewer that do, or 4 (padding 64 rows to 66 would also
/// shrink the cache tile); all of M when it is shorter than mr.
static int64_t rowTile(int64_t m, int64_t mr) {
  if (m <= mr)
    return m;
  if (m % mr == 0)
    return mr;
  for (int64_t r = mr - 1; r >= std::max<int64_t>(mr - 2, 5); --r)
    if (m % r == 0)
      return r;
  return m % 4 == 0 ? 4 : mr;
}

/// The largest multiple of `quantum` that divides `n` and is at most
/// `limit` (at least `quantum`; `n` is a multiple of `quantum`).
int64_t kiln::tileSize(int64_t n, int64_t quantum, int64_t limit) {
  int64_t best = quantum;
  for (int64_t t = quantum; t <= std::min(n, limit); t += quantum)
    if (n % t == 0)
      best = t;
  return best;
}

namespace {

/// min(v + 1, last): the panel (row tile) after `v`, or `v` itself at the
/// end.
Value nextOrLast(OpBuilder &b, Location loc, Value v, int64_t last) {
  MLIRContext *ctx = b.getContext();
  return affine::AffineMinOp::create(
      b, loc,
      AffineMap::get(
          1, 0,
          {getAffineDimExpr(0, ctx) + 1, getAffineConstantExpr(last, ctx)},
          ctx),
      ValueRange{v});
}

/// A read-only memref view of a (packed constant) tensor, for
/// memref.prefetch.
Value readOnlyBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()), tensor,
      /*readOnly=*/true);
}

/// The kernel for C = A x B + init, or, with `batched`, for each of the
/// leading index of all three (one kernel whose threads share the batch).
LogicalResult emitKernel(RewriterBase &rewriter, linalg::LinalgOp op,
                         bool batched, const kiln::KernelTiles &tiles) {
  using namespace kiln;
  Value aMat = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1];
  // Inside a loop only the row blocks of a dynamic-shape matmul, and only
  // with a constant B (panels made once at compile time, not per block).
  bool splat;
  bool inLoop = op->getParentOfType<LoopLikeOpInterface>() != nullptr;
  if (!op.hasPureTensorSemantics() ||
      (inLoop && (!op->hasAttr(kRowBlockAttr) || batched ||
                  !constantBytes(bMat, splat) || !tiles.sharedPanels)))
    return failure();
  Value init = op.getDpsInits()[0];
  auto at = dyn_cast<RankedTensorType>(aMat.getType());
  auto bt = dyn_cast<RankedTensorType>(bMat.getType());
  auto ct = cast<RankedTensorType>(init.getType());
  if (!at || !bt || !at.hasStaticShape() || !bt.hasStaticShape() ||
      !ct.hasStaticShape() || !at.getElementType().isF32() ||
      !bt.getElementType().isF32() || !ct.getElementType().isF32())
    return failure();
  int64_t rank = batched ? 3 : 2;
  int64_t batches = batched ? ct.getDimSize(0) : 1;
  int64_t m = ct.getDimSize(rank - 2), n = ct.getDimSize(rank - 1),
          k = at.getDimSize(rank - 1);
  if (m == 0 || n == 0 || k == 0 || batches == 0)
    return failure();
  const int64_t nr = tiles.nr;
  int64_t rows = rowTile(m, tiles.mr);
  int64_t mp = llvm::alignTo(m, rows), np = llvm::alignTo(n, nr);

  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  // With an epilogue, the kernel goes where its last op was: every operand
  // of the chain is defined by then. (A batch takes none.)
  Epilogue epi = batched ? Epilogue() : findEpilogue(op->getResult(0));
  rewriter.setInsertionPoint(epi.absorbed.empty() ? op.getOperation()
                                                  : epi.absorbed.back());
  Type f32 = rewriter.getF32Type();
  Value zero = scalarConstant(rewriter, loc, f32, 0);
  // The epilogue's other operands: scalars read once, full tensors viewed
  // as m x n.
  prepareEpilogue(rewriter, loc, epi, m, n);

  // Cache tiles: divisors of the padded sizes, shrunk (columns first) until
  // the threads have enough of them.
  int64_t tm = tileSize(mp, rows, tiles.mc), tn = tileSize(np, nr, tiles.nc);
  auto count = [&] { return batches * (mp / tm) * (np / tn); };
  while (count() < tiles.minTiles && tn > nr)
    tn = tileSize(np, nr, tn - nr);
  while (count() < tiles.minTiles && tm > rows)
    tm = tileSize(mp, rows, tm - rows);
  // K blocks of nearly equal depth; the last may be shorter.
  int64_t kBlocks = llvm::divideCeil(k, std::max<int64_t>(tiles.kc, 1));
  int64_t tk = llvm::divideCeil(k, kBlocks);
  // B in panels made at compile time when it is a constant, gathered when
  // it is an im2col.
  Value bPacked;
  if (auto bytes = constantBytes(bMat, splat); bytes && inLoop) {
    // A row block: the panels at the function's entry, shared.
    auto key = std::make_tuple(bytes->data(), n, k, nr);
    Value &shared = (*tiles.sharedPanels)[key];
    if (!shared) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(
          &op->getParentOfType<FunctionOpInterface>().getFunctionBody().front());
      shared = packedConstant(rewriter, loc, *bytes, splat, n, k, 1, n, nr);
    }
    bPacked = shared;
  } else if (bytes) {
    bPacked = packedConstant(rewriter, loc, *bytes, splat, n, k, 1, n, nr,
                             batches, k * n);
  }
  else if (Value im2col = batched ? Value() : packIm2col(rewriter, loc, bMat, nr))
    bPacked = im2col;
  // Otherwise (activations), row scales applied if any:
  // - each task copies the panel of B it is about to use into a buffer of
  //   its own (tk x nr, in L1 while the row tiles pass over it) when the
  //   copy is shared by enough row tiles and repeated by few row blocks of
  //   tasks, and the panel's rows span more pages than the L1 TLB covers
  //   well (each row tile reading B in place would miss it on every row):
  //   the copy is read where it was written, by the core that wrote it;
  // - a single row block with few row tiles (few output channels) reads B
  //   where it is, its last panel with masks when N is not a multiple of nr
  //   (a copy only to pad it cost more than it saved);
  // - otherwise (or when scaled) B is copied into panels once for all
  //   before the product.
  std::optional<RowScaled> scaled;
  Value bSource;
  bool taskCopy = false;
  if (!bPacked) {
    scaled = batched ? std::nullopt : matchRowScaled(bMat);
    int64_t panelPages =
        std::min<int64_t>(tk, llvm::divideCeil(tk * n * 4, 4096));
    taskCopy = tm / rows >= kMinRowTilesPerCopy &&
               mp / tm <= kMaxPanelCopies && panelPages > kMaxPanelPages;
    bSource = scaled ? tensor::CollapseShapeOp::create(
                           rewriter, loc,
                           cast<RankedTensorType>(bMat.getType()), scaled->x,
                           scaled->groups)
                           .getResult()
                     : bMat;
    if (!taskCopy && (mp / tm > 1 || scaled))
      bPacked = packAtRunTime(rewriter, loc, bSource, nr, scaled);
  }
  // A in panels when it is a constant.
  Value aPacked, aRows;
  SmallVector<int64_t> noPad(rank, 0), padRows(rank, 0), padBoth(rank, 0);
  padRows[rank - 2] = padBoth[rank - 2] = mp - m;
  padBoth[rank - 1] = np - n;
  if (auto bytes = constantBytes(aMat, splat))
    aPacked = packedConstant(rewriter, loc, *bytes, splat, m, k, k, 1, rows,
                             batches, m * k);
  else
    aRows = padTensor(rewriter, loc, aMat, noPad, padRows, zero);

  // A batch's init is a constant or a tensor (its bias broadcasts are
  // copied first).
  InitSource src = batched ? InitSource{} : classifyInit(init, n, nr);
  if (batched)
    if (Value splatInit = splatInitValue(init)) {
      src.kind = InitSource::Constant;
      src.value = splatInit;
    }
  SmallVector<int64_t> outShape{mp, np};
  if (batched)
    outShape.insert(outShape.begin(), batches);
  auto outType = RankedTensorType::get(outShape, f32);
  Value out = src.kind == InitSource::Tensor
                  ? padTensor(rewriter, loc, init, noPad, padBoth, zero)
                  : emptyTensor(rewriter, loc, outType);

  auto vecType = VectorType::get({nr}, f32);
  auto tileType = RankedTensorType::get({tm, tn}, f32);
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);

  // The first value of the accumulator of row i (absolute) at column j.
  auto initialRow = [&](OpBuilder &b, VectorType vt, Value i,
                        Value j) -> Value {
    if (src.kind == InitSource::Constant)
      return vector::BroadcastOp::create(b, loc, vt, src.value);
    // Padding rows read the last real row.
    Value row = arith::MinSIOp::create(b, loc, i, cidx(b, loc, m - 1));
    SmallVector<Value> index = broadcastIndices(b, loc, src.map, {row, j});
    if (src.alongColumns)
      return vector::TransferReadOp::create(b, loc, vt, src.value, index,
                                            zero, ArrayRef<bool>{true});
    Value s = tensor::ExtractOp::create(b, loc, src.value, index);
    return vector::BroadcastOp::create(b, loc, vt, s);
  };

  // The matrix of the batch the current task works on (null: no batch).
  Value bIdx;
  auto inBatch = [&](SmallVector<Value> index) {
    if (bIdx)
      index.insert(index.begin(), bIdx);
    return index;
  };
  // Constant B panels streamed from memory: the next panel is prefetched
  // (a read-only view of the packed constant, for memref.prefetch).
  Value bBuffer;
  if (tiles.prefetchWeights && bPacked && batches * (np / nr) > 1 &&
      constantBytes(bMat, splat) && !inLoop)
    bBuffer = readOnlyBuffer(rewriter, loc, bPacked);
  // Constant A panels (a convolution's weights, the common case) likewise:
  // each row tile's k loop prefetches the panel of the row tile after it
  // (the last one of a cache tile: the first of the next, which the same
  // thread most likely computes next), one k row (mr floats) per k.
  Value aBuffer;
  if (tiles.prefetchWeights && aPacked && batches * (mp / rows) > 1)
    aBuffer = readOnlyBuffer(rewriter, loc, aPacked);
  // Cache lines in a panel's row, and how many of them each row tile's k
  // loop prefetches (from line `ir / rows` on): all of them when there are
  // fewer row tiles than lines.
  const int64_t lineFloats = 16;
  int64_t lines = llvm::divideCeil(nr, lineFloats);
  int64_t linesPerTile = tm / rows >= lines ? 1 : lines;

  // One register tile of the cache tile `tile` at (ir, jr), K in [k0, k1).
  // B is read from `bPacked`, or from `panelBuf` (the task's copy of the
  // panel, from row k0 on), or where it is (with masks when `partial`: the
  // last panel, whose columns end inside it).
  auto registerTile = [&](OpBuilder &b, Value tile, Value panelBuf, Value i0,
                          Value j0, Value ir, Value jr, Value k0, Value k1,
                          bool first, bool firstKnown, bool partial,
                          int64_t width) -> Value {
    auto vt = VectorType::get({width}, f32);
    Value i = affineOf(b, loc, d0 + d1, {i0, ir});
    Value j = affineOf(b, loc, d0 + d1, {j0, jr});
    Value panel =
        bIdx ? affineOf(b, loc, d1 * (np / nr) + d0.floorDiv(nr), {j, bIdx})
             : affineOf(b, loc, d0.floorDiv(nr), {j});
    Value ib = !aPacked ? Value()
               : bIdx   ? affineOf(b, loc, d1 * (mp / rows) + d0.floorDiv(rows),
                                {i, bIdx})
                        : affineOf(b, loc, d0.floorDiv(rows), {i});
    auto readTile = [&](OpBuilder &nb) {
      SmallVector<Value> accs;
      for (int64_t r = 0; r < rows; ++r) {
        Value row = affineOf(nb, loc, d0 + r, {ir});
        accs.push_back(vector::TransferReadOp::create(nb, loc, vt, tile,
                                                      ValueRange{row, jr}, zero,
                                                      ArrayRef<bool>{true}));
      }
      return accs;
    };
    auto readInit = [&](OpBuilder &nb) {
      SmallVector<Value> accs;
      for (int64_t r = 0; r < rows; ++r)
        accs.push_back(initialRow(nb, vt, affineOf(nb, loc, d0 + r, {i}), j));
      return accs;
    };
    SmallVector<Value> accs;
    if (src.kind == InitSource::Tensor || (firstKnown && !first)) {
      accs = readTile(b);
    } else if (firstKnown) {
      accs = readInit(b);
    } else {
      // Only the first K block starts from the init.
      Value isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            k0, cidx(b, loc, 0));
      SmallVector<Type> types(rows, vt);
      auto ifOp = scf::IfOp::create(b, loc, types, isFirst,
                                    /*addThenBlock=*/true,
                                    /*addElseBlock=*/true);
      OpBuilder thenB = ifOp.getThenBodyBuilder();
      scf::YieldOp::create(thenB, loc, readInit(thenB));
      OpBuilder elseB = ifOp.getElseBodyBuilder();
      scf::YieldOp::create(elseB, loc, readTile(elseB));
      accs = llvm::to_vector_of<Value>(ifOp.getResults());
    }
    // The panel after this one (the last panel: itself) and the columns of
    // the lines this row tile prefetches from it.
    Value nextPanel;
    SmallVector<Value> prefetchCols;
    if (bBuffer) {
      nextPanel = nextOrLast(b, loc, panel, batches * (np / nr) - 1);
      for (int64_t line = 0; line < linesPerTile; ++line)
        prefetchCols.push_back(
            linesPerTile == lines
                ? cidx(b, loc, line * lineFloats)
                : affineOf(b, loc, (d0.floorDiv(rows) % lines) * lineFloats,
                           {ir}));
    }
    // The next row tile's A panel (the last: itself).
    Value nextRows =
        aBuffer ? nextOrLast(b, loc, ib, batches * (mp / rows) - 1) : Value();
    auto kLoop = scf::ForOp::create(
        b, loc, k0, k1, cidx(b, loc, 1), accs,
        [&](OpBuilder &nb, Location l, Value kk, ValueRange carried) {
          // Into L2 (locality 2): needed a row tile or a panel later.
          auto prefetch = [&](Value buffer, ValueRange index) {
            memref::PrefetchOp::create(nb, l, buffer, index, /*isWrite=*/false,
                                       /*localityHint=*/2,
                                       /*isDataCache=*/true);
          };
          if (nextRows)
            prefetch(aBuffer, ValueRange{nextRows, kk, cidx(nb, l, 0)});
          for (Value col : prefetchCols)
            prefetch(bBuffer, ValueRange{nextPanel, kk, col});
          Value bv;
          if (bPacked)
            bv = vector::TransferReadOp::create(
                nb, l, vt, bPacked, ValueRange{panel, kk, cidx(nb, l, 0)},
                zero, ArrayRef<bool>{true});
          else if (panelBuf)
            bv = vector::TransferReadOp::create(
                nb, l, vt, panelBuf,
                ValueRange{affineOf(nb, l, d0 - d1, {kk, k0}), cidx(nb, l, 0)},
                zero, ArrayRef<bool>{true});
          else
            bv = vector::TransferReadOp::create(nb, l, vt, bSource,
                                                inBatch({kk, j}), zero,
                                                ArrayRef<bool>{!partial});
          SmallVector<Value> next;
          for (int64_t r = 0; r < rows; ++r) {
            Value a;
            if (aPacked) {
              a = tensor::ExtractOp::create(nb, l, aPacked,
                                            ValueRange{ib, kk, cidx(nb, l, r)});
            } else {
              Value row = affineOf(nb, l, d0 + r, {i});
              a = tensor::ExtractOp::create(nb, l, aRows, inBatch({row, kk}));
            }
            Value av = vector::BroadcastOp::create(nb, l, vt, a);
            next.push_back(vector::FMAOp::create(nb, l, av, bv, carried[r]));
          }
          scf::YieldOp::create(nb, l, next);
        });
    SmallVector<Value> outs = llvm::to_vector_of<Value>(kLoop.getResults());
    // The epilogue, once the last K block is in.
    auto epilogue = [&](OpBuilder &eb) {
      SmallVector<Value> vals = outs;
      for (int64_t r = 0; r < rows; ++r) {
        // Padding rows read the last real row.
        Value row = arith::MinSIOp::create(eb, loc, affineOf(eb, loc, d0 + r, {i}),
                                           cidx(eb, loc, m - 1));
        vals[r] = applyEpilogue(eb, loc, epi, vals[r], row, j,
                                n % nr == (width == nr ? 0 : width));
      }
      return vals;
    };
    if (!epi.stages.empty()) {
      if (firstKnown) {
        outs = epilogue(b);
      } else {
        Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k1,
                                           cidx(b, loc, k));
        SmallVector<Type> types(rows, vt);
        auto ifOp = scf::IfOp::create(b, loc, types, last,
                                      /*addThenBlock=*/true,
                                      /*addElseBlock=*/true);
        OpBuilder thenB = ifOp.getThenBodyBuilder();
        scf::YieldOp::create(thenB, loc, epilogue(thenB));
        OpBuilder elseB = ifOp.getElseBodyBuilder();
        scf::YieldOp::create(elseB, loc, outs);
        outs = llvm::to_vector_of<Value>(ifOp.getResults());
      }
    }
    Value result = tile;
    for (int64_t r = 0; r < rows; ++r) {
      Value row = affineOf(b, loc, d0 + r, {ir});
      result = vector::TransferWriteOp::create(b, loc, outs[r], result,
                                               ValueRange{row, jr},
                                               ArrayRef<bool>{true})
                   .getResult();
    }
    return result;
  };

  // Panel (column) `j` of B, rows [k0, k1), copied into `buf` from row 0 on
  // (columns past N: zeros, read with masks when `partial`).
  auto packPanel = [&](OpBuilder &b, Value buf, Value j, Value k0, Value k1,
                       bool partial) -> Value {
    auto loop = scf::ForOp::create(
        b, loc, k0, k1, cidx(b, loc, 1), ValueRange{buf},
        [&](OpBuilder &lb, Location l, Value kk, ValueRange carried) {
          Value v = readRowOfB(lb, l, vecType, bSource, inBatch({kk, j}),
                               !partial, scaled, kk);
          Value row = affineOf(lb, l, d0 - d1, {kk, k0});
          scf::YieldOp::create(
              lb, l,
              vector::TransferWriteOp::create(lb, l, v, carried[0],
                                              ValueRange{row, cidx(lb, l, 0)},
                                              ArrayRef<bool>{true})
                  .getResult());
        });
    return loop.getResult(0);
  };

  // The register tiles of one cache tile, for K in [k0, k1): columns outer,
  // so that one panel of B (kc x nr) stays in L1 while every row tile
  // passes over it. `state` is the tile and, when B is copied panel by
  // panel, the task's panel buffer.
  // The columns of B end inside the last panel of the last column tile
  // when N is not a multiple of nr: that panel (or its copy) is read with
  // masks, and when they end in its first half its register tiles are half
  // as wide (less padding computed: 14 x 14 maps, 196 columns, compute 208
  // instead of 224).
  bool maskLastPanel = !bPacked && n % nr != 0;
  int64_t lastWidth =
      n % nr != 0 && nr % 2 == 0 && n % nr <= nr / 2 ? nr / 2 : nr;
  bool splitLast = maskLastPanel || lastWidth != nr;
  auto cacheTile = [&](OpBuilder &b, ValueRange state, Value i0, Value j0,
                       Value k0, Value k1, bool first,
                       bool firstKnown) -> SmallVector<Value> {
    auto columns = [&](OpBuilder &ob, ValueRange st, Value jr, bool partial,
                       int64_t width) -> SmallVector<Value> {
      Value buf;
      if (taskCopy)
        buf = packPanel(ob, st[1], affineOf(ob, loc, d0 + d1, {j0, jr}), k0,
                        k1, partial);
      Value t = forRange(ob, loc, 0, tm, rows, st[0],
                         [&](OpBuilder &ib, Location, Value ir, Value it) {
                           return registerTile(ib, it, buf, i0, j0, ir, jr, k0,
                                               k1, first, firstKnown, partial,
                                               width);
                         });
      if (!buf)
        return {t};
      return {t, buf};
    };
    auto fullPanels = [&](Value end) {
      auto loop = scf::ForOp::create(
          b, loc, cidx(b, loc, 0), end, cidx(b, loc, nr), state,
          [&](OpBuilder &ob, Location l, Value jr, ValueRange st) {
            scf::YieldOp::create(ob, l, columns(ob, st, jr, false, nr));
          });
      return llvm::to_vector_of<Value>(loop.getResults());
    };
    if (!splitLast)
      return fullPanels(cidx(b, loc, tn));
    // The last column tile stops its full panels one short and ends with
    // the last panel (one copy of the full-width register tiles).
    Value lastTile = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, j0,
                                           cidx(b, loc, np - tn));
    SmallVector<Value> done = fullPanels(arith::SelectOp::create(
        b, loc, lastTile, cidx(b, loc, tn - nr), cidx(b, loc, tn)));
    auto ifOp = scf::IfOp::create(b, loc, ValueRange(done).getTypes(),
                                  lastTile,
                                  /*addThenBlock=*/true,
                                  /*addElseBlock=*/true);
    OpBuilder thenB = ifOp.getThenBodyBuilder();
    scf::YieldOp::create(thenB, loc,
                         columns(thenB, done, cidx(thenB, loc, tn - nr),
                                 maskLastPanel, lastWidth));
    OpBuilder elseB = ifOp.getElseBodyBuilder();
    scf::YieldOp::create(elseB, loc, done);
    return llvm::to_vector_of<Value>(ifOp.getResults());
  };

  SmallVector<OpFoldResult> ubs{rewriter.getIndexAttr(mp / tm),
                                rewriter.getIndexAttr(np / tn)};
  if (batched)
    ubs.insert(ubs.begin(), rewriter.getIndexAttr(batches));
  auto forall =
      scf::ForallOp::create(rewriter, loc, ubs, ValueRange{out}, std::nullopt);
  {
    OpBuilder b(forall.getTerminator());
    Location l = loc;
    unsigned first = batched ? 1 : 0;
    if (batched)
      bIdx = forall.getInductionVar(0);
    Value i0 = affineOf(b, l, d0 * tm, {forall.getInductionVar(first)});
    Value j0 = affineOf(b, l, d0 * tn, {forall.getInductionVar(first + 1)});
    Value sharedOut = forall.getRegionIterArgs()[0];
    SmallVector<OpFoldResult> offsets{i0, j0};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(tm), b.getIndexAttr(tn)};
    if (batched) {
      offsets.insert(offsets.begin(), bIdx);
      sizes.insert(sizes.begin(), b.getIndexAttr(1));
    }
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    SmallVector<Value> state{tensor::ExtractSliceOp::create(
        b, l, tileType, sharedOut, offsets, sizes, strides)};
    // The task's panel buffer (task-private: the arena holds one per task).
    if (taskCopy)
      state.push_back(
          emptyTensor(b, l, RankedTensorType::get({tk, nr}, f32)));
    SmallVector<Value> done;
    if (kBlocks == 1) {
      done = cacheTile(b, state, i0, j0, cidx(b, l, 0), cidx(b, l, k), true,
                       true);
    } else {
      done = forRanges(
          b, l, 0, k, tk, state,
          [&](OpBuilder &kb, Location l2, Value k0, ValueRange st) {
            Value k1 = affine::AffineMinOp::create(
                kb, l2,
                AffineMap::get(1, 0, {d0 + tk, getAffineConstantExpr(k, ctx)},
                               ctx),
                ValueRange{k0});
            return cacheTile(kb, st, i0, j0, k0, k1, false, false);
          });
    }
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, l, done[0], sharedOut, offsets,
                                          sizes, strides);
  }
  Value result = forall.getResult(0);
  if (mp != m || np != n) {
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(m),
                                    rewriter.getIndexAttr(n)};
    if (batched)
      sizes.insert(sizes.begin(), rewriter.getIndexAttr(batches));
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    result = tensor::ExtractSliceOp::create(rewriter, loc, ct, result, offsets,
                                            sizes, strides);
  }
  if (epi.stages.empty()) {
    rewriter.replaceOp(op, result);
    return success();
  }
  finishEpilogue(rewriter, epi, result);
  rewriter.eraseOp(op);
  return success();
}

} // namespace

namespace {

/// A copy of the matrix `m` transposed (of each matrix of a 3-D `m`: its
/// last two dims swapped), as an elementwise generic (which the elementwise
/// ops around it can fuse with).
Value transposeCopy(OpBuilder &b, Location loc, Value m) {
  auto t = cast<RankedTensorType>(m.getType());
  unsigned rank = t.getRank();
  SmallVector<int64_t> shape(t.getShape());
  std::swap(shape[rank - 2], shape[rank - 1]);
  auto outType = RankedTensorType::get(shape, t.getElementType());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> swapped;
  for (unsigned d = 0; d < rank; ++d)
    swapped.push_back(getAffineDimExpr(d, ctx));
  std::swap(swapped[rank - 2], swapped[rank - 1]);
  SmallVector<AffineMap> maps{AffineMap::get(rank, 0, swapped, ctx),
                              AffineMap::getMultiDimIdentityMap(rank, ctx)};
  auto copy = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{m},
      ValueRange{kiln::emptyTensor(b, loc, outType)}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &nb, Location l, ValueRange a) {
        linalg::YieldOp::create(nb, l, a[0]);
      });
  // For kiln::emitTranspose (f32 only; other types stay loops).
  if (t.getElementType().isF32())
    copy->setAttr(kiln::kTransposeAttr, b.getUnitAttr());
  return copy.getResult(0);
}

/// When C = W x B has few columns (a convolution's late layers: 7x7 = 49
/// pixels pad to 64 of nr = 32; a Winograd product of 4x4 tiles on a 14x14
/// map: 16 tiles pad to 32) but many rows, the product the other way
/// round, C^T = B^T x W^T, wastes less: the pixels (tiles) become rows
/// (padded to mr) and the output channels the nr-wide vectors. W is a
/// constant, so W^T is made now (and packed into panels like any constant
/// B); B^T is a copy, and C is C^T transposed back (a generic the epilogue's
/// elementwise ops fuse with). With `batched`, the same for each matrix of
/// a batch (a Winograd convolution's 36 products). Returns the new product,
/// or null when the swap does not pay.
linalg::LinalgOp transposeNarrowProduct(RewriterBase &rewriter,
                                        linalg::LinalgOp op, bool batched,
                                        const kiln::KernelTiles &tiles) {
  Value aMat = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1];
  Value init = op.getDpsInits()[0];
  auto ct = dyn_cast<RankedTensorType>(init.getType());
  auto at = dyn_cast<RankedTensorType>(aMat.getType());
  auto bt = dyn_cast<RankedTensorType>(bMat.getType());
  if (!ct || !at || !bt || !ct.hasStaticShape() || !at.hasStaticShape() ||
      !bt.hasStaticShape() || !ct.getElementType().isF32() ||
      !at.getElementType().isF32() || !bt.getElementType().isF32() ||
      op->getParentOfType<LoopLikeOpInterface>())
    return {};
  unsigned rank = ct.getRank();
  int64_t m = ct.getDimSize(rank - 2), n = ct.getDimSize(rank - 1);
  bool splat;
  // Measured: products of fewer rows (efficientnet's 1152 -> 192 and
  // 1152 -> 320 projections at 7x7) ran slower swapped, wide ones (ResNet's
  // 512 and 2048, 1280) faster. A batch of Winograd products swaps from 64
  // rows on (ResNet's 256, UNet's 64-128: 4-13% faster models).
  int64_t minRows = batched ? std::max<int64_t>(tiles.nr, 64)
                            : std::max<int64_t>(tiles.nr, 512);
  if (m < minRows || n == 0 || at.getDimSize(rank - 1) == 0 ||
      !kiln::constantBytes(aMat, splat) || kiln::constantBytes(bMat, splat))
    return {};
  // A batch's init must be a constant fill (as Conv.cpp makes it).
  Value fill = kiln::splatInitValue(init);
  if (batched && !fill)
    return {};
  // Padded work either way; swap for a clear gain only.
  auto padded = [](int64_t x, int64_t q) { return llvm::alignTo(x, q); };
  int64_t asIs = padded(m, rowTile(m, tiles.mr)) * padded(n, tiles.nr);
  int64_t swapped = padded(n, rowTile(n, tiles.mr)) * padded(m, tiles.nr);
  if (swapped * 10 > asIs * 8)
    return {};

  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  rewriter.setInsertionPoint(op);
  SmallVector<int64_t> shapeT(ct.getShape());
  std::swap(shapeT[rank - 2], shapeT[rank - 1]);
  auto tType = RankedTensorType::get(shapeT, ct.getElementType());
  Value initT;
  if (fill) {
    initT = kiln::filledTensor(rewriter, loc, tType, fill);
  } else if (linalg::GenericOp copy = kiln::broadcastCopy(init)) {
    // The same broadcast, into the transposed shape. A bias of one value
    // per row of C ([M, 1]) is one per column of C^T: read as a vector [M]
    // (which the kernel loads straight into its accumulators).
    AffineMap map = copy.getIndexingMapsArray()[0];
    AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
    AffineMap swap = AffineMap::get(2, 0, {d1, d0}, ctx);
    AffineMap mapT = map.compose(swap);
    Value bias = copy.getDpsInputs()[0];
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (mapT.getNumResults() > 1 && biasType.getNumElements() == m &&
        llvm::count_if(mapT.getResults(),
                       [&](AffineExpr e) { return e == d1; }) == 1 &&
        llvm::all_of(mapT.getResults(), [&](AffineExpr e) {
          return e == d1 || isa<AffineConstantExpr>(e);
        })) {
      bias = kiln::reshapeTensor(
          rewriter, loc, bias,
          RankedTensorType::get({m}, biasType.getElementType()));
      mapT = AffineMap::get(2, 0, {d1}, ctx);
    }
    initT =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{tType}, ValueRange{bias},
            ValueRange{kiln::emptyTensor(rewriter, loc, tType)},
            ArrayRef<AffineMap>{mapT,
                                AffineMap::getMultiDimIdentityMap(2, ctx)},
            SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
            [](OpBuilder &nb, Location l, ValueRange a) {
              linalg::YieldOp::create(nb, l, a[0]);
            })
            .getResult(0);
  } else {
    initT = transposeCopy(rewriter, loc, init);
  }
  SmallVector<Value> ins{transposeCopy(rewriter, loc, bMat),
                         kiln::transposeMatrix(rewriter, loc, aMat)};
  linalg::LinalgOp product =
      batched ? cast<linalg::LinalgOp>(
                    linalg::BatchMatmulOp::create(
                        rewriter, loc, TypeRange{tType}, ins, ValueRange{initT})
                        .getOperation())
              : cast<linalg::LinalgOp>(
                    linalg::MatmulOp::create(rewriter, loc, TypeRange{tType},
                                             ins, ValueRange{initT})
                        .getOperation());
  rewriter.replaceOp(op, transposeCopy(rewriter, loc, product->getResult(0)));
  return product;
}

/// The kernel of the product, or of its swapped form when that pays.
LogicalResult emitSwappedOrNot(RewriterBase &rewriter, linalg::LinalgOp op,
                               bool batched, const kiln::KernelTiles &tiles) {
  if (linalg::LinalgOp swapped =
          transposeNarrowProduct(rewriter, op, batched, tiles)) {
    // `op` is gone; the swapped product has what the kernel needs.
    LogicalResult done = emitKernel(rewriter, swapped, batched, tiles);
    assert(succeeded(done) && "a swapped product is always a kernel");
    (void)done;
    return success();
  }
  return emitKernel(rewriter, op, batched, tiles);
}

} // namespace

LogicalResult kiln::emitPackedMatmul(RewriterBase &rewriter,
                                     linalg::MatmulOp op,
                                     const KernelTiles &tiles) {
  // A plain product: the default indexing maps, no casts.
  if (op.getIndexingMapsArray() != op.getDefaultIndexingMaps(op.getContext()))
    return failure();
  return emitSwappedOrNot(rewriter, op, /*batched=*/false, tiles);
}

LogicalResult kiln::emitPackedBatchMatmul(RewriterBase &rewriter,
                                          linalg::BatchMatmulOp op,
                                          const KernelTiles &tiles) {
  if (op.getIndexingMapsArray() != op.getDefaultIndexingMaps(op.getContext()))
    return failure();
  return emitSwappedOrNot(rewriter, op, /*batched=*/true, tiles);
}
