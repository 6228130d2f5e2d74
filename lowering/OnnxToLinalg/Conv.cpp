//===- Conv.cpp - Conv and pooling to linalg.generic ----------------------===//
//
// Window ops read a padded copy of the input (tensor.pad) through maps of the
// form `o * stride + k * dilation`. The iteration space puts the reduction
// dims (channels within a group, kernel) outside the output spatial dims, so
// the innermost loops walk the output contiguously:
//
//   Conv:  (n, g, m, c, k..., o...)   m / c: output / input channel in group g
//   Pools: (n, c, k..., o...)
//
// The window geometry (pads, auto_pad, ceil_mode) comes from
// computeWindowGeometry, the same function shape inference uses.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/OnnxToLinalg/Winograd.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

using utils::IteratorType;

/// The window geometry of a Conv or pooling op, with `kernel` from the
/// weights or kernel_shape.
template <typename OpTy>
std::optional<std::string> geometryOf(OpTy op, ArrayRef<int64_t> kernel,
                                      bool ceilMode, onnx::WindowGeometry &g) {
  auto xt = cast<RankedTensorType>(op.getX().getType());
  return onnx::computeWindowGeometry(
      xt.getShape().drop_front(2), kernel, op.getAutoPad(), op.getPads(),
      op.getStrides(), op.getDilations(), ceilMode, g);
}

/// Checks the geometry against the result type shape inference set.
LogicalResult checkGeometry(Operation *op, const onnx::WindowGeometry &g,
                            RankedTensorType outType,
                            PatternRewriter &rewriter) {
  if (ArrayRef<int64_t>(g.outSpatial) != outType.getShape().drop_front(2))
    return rewriter.notifyMatchFailure(
        op, "window geometry disagrees with the result shape");
  return success();
}

/// Pads the spatial dims of `x` (N, C, spatial...) with `padValue`: the
/// leading pads of the geometry, and at the end exactly what the last window
/// reaches (which may run past the explicit pads in ceil_mode, or stop short
/// of them).
Value padWindowInput(OpBuilder &b, Location loc, Value x,
                     const onnx::WindowGeometry &g, Value padValue) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  SmallVector<int64_t> low(rank, 0), high(rank, 0);
  for (int64_t i = 0; i + 2 < rank; ++i) {
    int64_t reach = (g.outSpatial[i] - 1) * g.strides[i] +
                    (g.kernel[i] - 1) * g.dilations[i] + 1;
    low[i + 2] = g.padBegin[i];
    high[i + 2] =
        std::max<int64_t>(0, reach - xt.getDimSize(i + 2) - g.padBegin[i]);
  }
  return padTensor(b, loc, x, low, high, padValue);
}

/// `o * stride + k * dilation` for each spatial dim.
SmallVector<AffineExpr> windowExprs(MLIRContext *ctx,
                                    const onnx::WindowGeometry &g,
                                    unsigned firstKernelDim,
                                    unsigned firstOutDim) {
  SmallVector<AffineExpr> exprs;
  for (size_t i = 0; i < g.kernel.size(); ++i)
    exprs.push_back(getAffineDimExpr(firstOutDim + i, ctx) * g.strides[i] +
                    getAffineDimExpr(firstKernelDim + i, ctx) * g.dilations[i]);
  return exprs;
}

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

/// Conv with one group as a matrix product:
///   col[c * k..., n * o...] = xpad[n, c, o * s + k * d]     (im2col)
///   y[m, n * o...]          = W[m, c * k...] x col + bias
///   out[n, m, o...]         = y[m, n, o...]                 (N > 1 only)
/// The product is a linalg.matmul, which kiln-tile-contractions turns into
/// a register-blocked kernel; a batch of N images is one product with N times
/// the columns, transposed back to NCHW. A 1x1, stride-1, unpadded conv of
/// one image reads the input directly, without the im2col copy.
LogicalResult lowerAsMatmul(kop::ConvOp op, const onnx::WindowGeometry &g,
                            PatternRewriter &rewriter) {
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  auto wt = cast<RankedTensorType>(op.getW().getType());
  auto outType = cast<RankedTensorType>(op.getType());
  Type elem = outType.getElementType();
  int64_t sp = g.kernel.size();
  int64_t n = cast<RankedTensorType>(op.getX().getType()).getDimSize(0);
  int64_t c = wt.getDimSize(1), m = wt.getDimSize(0);
  int64_t kArea = 1, pixels = 1;
  for (int64_t i = 0; i < sp; ++i) {
    kArea *= g.kernel[i];
    pixels *= g.outSpatial[i];
  }
  bool batched = n > 1;
  bool pointwise = kArea == 1 &&
                   llvm::all_of(g.strides, [](int64_t s) { return s == 1; }) &&
                   llvm::all_of(g.padBegin, [](int64_t p) { return p == 0; }) &&
                   llvm::all_of(g.padEnd, [](int64_t p) { return p == 0; });
  auto colType = RankedTensorType::get({c * kArea, n * pixels}, elem);
  Value col;
  if (pointwise && !batched) {
    col = reshapeTensor(rewriter, loc, op.getX(), colType);
  } else {
    Value x = padWindowInput(rewriter, loc, op.getX(), g,
                             scalarConstant(rewriter, loc, elem, 0));
    // Iteration (c, k..., o...), or (c, k..., n, o...) for a batch; all
    // parallel.
    unsigned numDims = 1 + 2 * sp + batched, kDim = 1, nDim = 1 + sp,
             oDim = 1 + sp + batched;
    SmallVector<AffineExpr> xExprs{batched ? getAffineDimExpr(nDim, ctx)
                                           : getAffineConstantExpr(0, ctx),
                                   getAffineDimExpr(0, ctx)};
    llvm::append_range(xExprs, windowExprs(ctx, g, kDim, oDim));
    SmallVector<int64_t> colShape{c};
    llvm::append_range(colShape, g.kernel);
    if (batched)
      colShape.push_back(n);
    llvm::append_range(colShape, g.outSpatial);
    auto colFullType = RankedTensorType::get(colShape, elem);
    SmallVector<AffineMap> maps{AffineMap::get(numDims, 0, xExprs, ctx),
                                rewriter.getMultiDimIdentityMap(numDims)};
    Value colFull =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{colFullType}, ValueRange{x},
            ValueRange{emptyTensor(rewriter, loc, colFullType)}, maps,
            SmallVector<IteratorType>(numDims, IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange a) {
              linalg::YieldOp::create(b, l, a[0]);
            })
            .getResult(0);
    SmallVector<ReassociationIndices> assoc(2);
    for (int64_t i = 0; i <= sp; ++i)
      assoc[0].push_back(i);
    for (int64_t i = 1 + sp; i < numDims; ++i)
      assoc[1].push_back(i);
    col =
        tensor::CollapseShapeOp::create(rewriter, loc, colType, colFull, assoc);
  }
  Value w = reshapeTensor(rewriter, loc, op.getW(),
                          RankedTensorType::get({m, c * kArea}, elem));
  auto yType = RankedTensorType::get({m, n * pixels}, elem);
  Value init;
  if (!isa<NoneType>(op.getB().getType())) {
    Value bias = reshapeTensor(rewriter, loc, op.getB(),
                               RankedTensorType::get({m, 1}, elem));
    init = buildElementwise(
        rewriter, loc, bias, yType,
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  } else {
    init = filledTensor(rewriter, loc, yType,
                        scalarConstant(rewriter, loc, elem, 0));
  }
  Value y = linalg::MatmulOp::create(rewriter, loc, TypeRange{yType},
                                     ValueRange{w, col}, ValueRange{init})
                .getResult(0);
  if (batched) {
    // [M, N * P] -> [M, N, P] -> [N, M, P].
    Value y3 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({m, n, pixels}, elem), y,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    auto nmpType = RankedTensorType::get({n, m, pixels}, elem);
    y = linalg::TransposeOp::create(rewriter, loc, y3,
                                    emptyTensor(rewriter, loc, nmpType),
                                    ArrayRef<int64_t>{1, 0, 2})
            .getResult()[0];
  }
  rewriter.replaceOp(op, reshapeTensor(rewriter, loc, y, outType));
  return success();
}

/// A small f32 constant matrix.
template <size_t R, size_t C>
Value matrixConstant(OpBuilder &b, Location loc, const double (&m)[R][C]) {
  SmallVector<float> values;
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c)
      values.push_back(m[r][c]);
  auto type = RankedTensorType::get({(int64_t)R, (int64_t)C}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<float>(values)));
}

/// The body of both Winograd transform generics: acc + (P[r, a] P[s, b]) x,
/// for inputs (x, P[r, a], P[s, b]) and the accumulator.
void transformTerm(OpBuilder &b, Location l, ValueRange a) {
  Value coeff = arith::MulFOp::create(b, l, a[1], a[2]);
  Value term = arith::MulFOp::create(b, l, coeff, a[0]);
  linalg::YieldOp::create(
      b, l, ValueRange{arith::AddFOp::create(b, l, a[3], term)});
}

/// Whether a Conv is computed with Winograd F(4x4, 3x3): 2-D, 3x3, stride
/// and dilation 1, one group, f32, constant weights, at least `minTiles`
/// 4x4 output tiles (below that, the transforms and the narrow products
/// cost more than they save).
bool useWinograd(kop::ConvOp op, const onnx::WindowGeometry &g,
                 int64_t group, int64_t minTiles) {
  if (minTiles <= 0 || group != 1 || g.kernel.size() != 2 ||
      !cast<RankedTensorType>(op.getType()).getElementType().isF32())
    return false;
  for (int i = 0; i < 2; ++i)
    if (g.kernel[i] != 3 || g.strides[i] != 1 || g.dilations[i] != 1)
      return false;
  bool splat;
  if (!constantBytes(op.getW(), splat))
    return false;
  int64_t n = cast<RankedTensorType>(op.getX().getType()).getDimSize(0);
  int64_t tiles = n * llvm::divideCeil(g.outSpatial[0], winograd::kOut) *
                  llvm::divideCeil(g.outSpatial[1], winograd::kOut);
  auto wt = cast<RankedTensorType>(op.getW().getType());
  return tiles >= minTiles && wt.getDimSize(0) >= 8 && wt.getDimSize(1) >= 8;
}

/// Conv as Winograd F(4x4, 3x3) (see Winograd.h), on T = N x TY x TX tiles:
///   xp = pad(x) to [N, C, 4 TY + 2, 4 TX + 2]
///   v[i, j, c, n, ty, tx] = sum_ab BT[i, a] BT[j, b] xp[n, c, 4ty+a, 4tx+b]
///   p[ij] = U[ij] x v[ij]          a linalg.batch_matmul of 36 [M, C] x [C, T]
///   y[n, m, ty, r, tx, s] = bias[m] + sum_ij AT[r, i] AT[s, j] p[ij, m, ...]
///   out = y as [N, M, 4 TY, 4 TX], cropped to [N, M, H, W]
/// U[ij] = G g G^T, computed now from the constant weights.
LogicalResult lowerWinograd(kop::ConvOp op, const onnx::WindowGeometry &g,
                            PatternRewriter &rewriter) {
  using namespace winograd;
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  auto xt = cast<RankedTensorType>(op.getX().getType());
  auto wt = cast<RankedTensorType>(op.getW().getType());
  auto outType = cast<RankedTensorType>(op.getType());
  Type f32 = rewriter.getF32Type();
  int64_t n = xt.getDimSize(0), c = wt.getDimSize(1), m = wt.getDimSize(0);
  int64_t h = g.outSpatial[0], w = g.outSpatial[1];
  int64_t ty = llvm::divideCeil(h, kOut), tx = llvm::divideCeil(w, kOut);
  int64_t tiles = n * ty * tx;

  // U[36, M, C], packed by the matmul kernel.
  bool splat;
  ArrayRef<char> bytes = *constantBytes(op.getW(), splat);
  auto weight = [&](int64_t mi, int64_t ci, int a, int b) {
    float v;
    std::memcpy(&v,
                bytes.data() +
                    (splat ? 0 : ((mi * c + ci) * 9 + a * 3 + b) * sizeof(float)),
                sizeof(float));
    return (double)v;
  };
  std::vector<float> values(kIn * kIn * m * c);
  for (int64_t mi = 0; mi < m; ++mi)
    for (int64_t ci = 0; ci < c; ++ci) {
      double gt[3][kIn]; // g G^T
      for (int a = 0; a < 3; ++a)
        for (int j = 0; j < kIn; ++j)
          gt[a][j] = weight(mi, ci, a, 0) * G[j][0] +
                     weight(mi, ci, a, 1) * G[j][1] +
                     weight(mi, ci, a, 2) * G[j][2];
      for (int i = 0; i < kIn; ++i)
        for (int j = 0; j < kIn; ++j)
          values[((i * kIn + j) * m + mi) * c + ci] =
              (float)(G[i][0] * gt[0][j] + G[i][1] * gt[1][j] +
                      G[i][2] * gt[2][j]);
    }
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>((const char *)values.data(),
                     values.size() * sizeof(float)),
      alignof(double));
  Value u = reshapeTensor(
      rewriter, loc,
      arith::ConstantOp::create(
          rewriter, loc,
          DenseResourceElementsAttr::get(
              RankedTensorType::get({(int64_t)values.size()}, f32),
              "winograd_weights", std::move(blob))),
      RankedTensorType::get({kIn * kIn, m, c}, f32));

  // Input transform.
  int64_t hp = kOut * ty + 2, wp = kOut * tx + 2;
  Value zero = scalarConstant(rewriter, loc, f32, 0);
  Value xp = padTensor(
      rewriter, loc, op.getX(), {0, 0, g.padBegin[0], g.padBegin[1]},
      {0, 0, hp - xt.getDimSize(2) - g.padBegin[0],
       wp - xt.getDimSize(3) - g.padBegin[1]},
      zero);
  Value bt = matrixConstant(rewriter, loc, BT);
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  // Dims (i, j, c, n, ty, tx, a, b).
  auto vType = RankedTensorType::get({kIn, kIn, c, n, ty, tx}, f32);
  SmallVector<AffineMap> inMaps{
      AffineMap::get(8, 0, {d(3), d(2), d(4) * kOut + d(6), d(5) * kOut + d(7)},
                     ctx),
      AffineMap::get(8, 0, {d(0), d(6)}, ctx),
      AffineMap::get(8, 0, {d(1), d(7)}, ctx),
      AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4), d(5)}, ctx)};
  SmallVector<IteratorType> inIters(8, IteratorType::parallel);
  inIters[6] = inIters[7] = IteratorType::reduction;
  auto input = linalg::GenericOp::create(
      rewriter, loc, TypeRange{vType}, ValueRange{xp, bt, bt},
      ValueRange{filledTensor(rewriter, loc, vType, zero)}, inMaps, inIters,
      transformTerm);
  input->setAttr(kAttr, rewriter.getStringAttr("input"));
  Value v = tensor::CollapseShapeOp::create(
      rewriter, loc, RankedTensorType::get({kIn * kIn, c, tiles}, f32),
      input.getResult(0), ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3, 4, 5}});

  // The 36 products, one batch.
  auto pType = RankedTensorType::get({kIn * kIn, m, tiles}, f32);
  Value p = linalg::BatchMatmulOp::create(
                rewriter, loc, TypeRange{pType}, ValueRange{u, v},
                ValueRange{filledTensor(rewriter, loc, pType, zero)})
                .getResult(0);
  Value p6 = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({kIn, kIn, m, n, ty, tx}, f32), p,
      ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3, 4, 5}});

  // Output transform, on top of the bias. Dims (n, m, ty, r, tx, s, i, j).
  auto yType = RankedTensorType::get({n, m, ty, kOut, tx, kOut}, f32);
  Value init;
  if (!isa<NoneType>(op.getB().getType())) {
    Value bias = reshapeTensor(rewriter, loc, op.getB(),
                               RankedTensorType::get({1, m, 1, 1, 1, 1}, f32));
    init = buildElementwise(
        rewriter, loc, bias, yType,
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  } else {
    init = filledTensor(rewriter, loc, yType, zero);
  }
  Value at = matrixConstant(rewriter, loc, AT);
  SmallVector<AffineMap> outMaps{
      AffineMap::get(8, 0, {d(6), d(7), d(1), d(0), d(2), d(4)}, ctx),
      AffineMap::get(8, 0, {d(3), d(6)}, ctx),
      AffineMap::get(8, 0, {d(5), d(7)}, ctx),
      AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4), d(5)}, ctx)};
  auto output = linalg::GenericOp::create(
      rewriter, loc, TypeRange{yType}, ValueRange{p6, at, at},
      ValueRange{init}, outMaps, inIters,
      transformTerm);
  output->setAttr(kAttr, rewriter.getStringAttr("output"));
  Value y = tensor::CollapseShapeOp::create(
      rewriter, loc,
      RankedTensorType::get({n, m, kOut * ty, kOut * tx}, f32),
      output.getResult(0),
      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}});
  if (kOut * ty != h || kOut * tx != w)
    y = tensor::ExtractSliceOp::create(
        rewriter, loc, outType, y,
        ArrayRef<OpFoldResult>(SmallVector<OpFoldResult>(
            4, rewriter.getIndexAttr(0))),
        ArrayRef<OpFoldResult>{
            rewriter.getIndexAttr(n), rewriter.getIndexAttr(m),
            rewriter.getIndexAttr(h), rewriter.getIndexAttr(w)},
        ArrayRef<OpFoldResult>(SmallVector<OpFoldResult>(
            4, rewriter.getIndexAttr(1))));
  rewriter.replaceOp(op, y);
  return success();
}

/// A 2-D depthwise Conv (one filter per channel) as the named
/// linalg.depthwise_conv_2d_nchw_chw on the padded input, which
/// kiln-tile-contractions vectorizes along the output rows.
LogicalResult lowerDepthwise(kop::ConvOp op, const onnx::WindowGeometry &g,
                             PatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto outType = cast<RankedTensorType>(op.getType());
  Type elem = outType.getElementType();
  int64_t c = outType.getDimSize(1);
  Value x = padWindowInput(rewriter, loc, op.getX(), g,
                           scalarConstant(rewriter, loc, elem, 0));
  Value w =
      reshapeTensor(rewriter, loc, op.getW(),
                    RankedTensorType::get({c, g.kernel[0], g.kernel[1]}, elem));
  Value init;
  if (!isa<NoneType>(op.getB().getType())) {
    Value bias = reshapeTensor(rewriter, loc, op.getB(),
                               RankedTensorType::get({1, c, 1, 1}, elem));
    init = buildElementwise(
        rewriter, loc, bias, outType,
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  } else {
    init = filledTensor(rewriter, loc, outType,
                        scalarConstant(rewriter, loc, elem, 0));
  }
  Value y = linalg::DepthwiseConv2DNchwChwOp::create(
                rewriter, loc, TypeRange{outType}, ValueRange{x, w},
                ValueRange{init}, rewriter.getI64VectorAttr(g.strides),
                rewriter.getI64VectorAttr(g.dilations))
                .getResult(0);
  rewriter.replaceOp(op, y);
  return success();
}

struct ConvPattern : OnnxPattern<kop::ConvOp> {
  ConvPattern(MLIRContext *ctx, bool asMatmul, int64_t winogradMinTiles)
      : OnnxPattern(ctx), asMatmul(asMatmul),
        winogradMinTiles(winogradMinTiles) {}
  bool asMatmul;
  int64_t winogradMinTiles;
  LogicalResult lower(kop::ConvOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto wt = cast<RankedTensorType>(op.getW().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = outType.getElementType();
    int64_t rank = xt.getRank(), sp = rank - 2;
    if (sp < 1 || wt.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "expects N-d input and weights");
    int64_t group = op.getGroup();
    int64_t n = xt.getDimSize(0), c = xt.getDimSize(1), m = wt.getDimSize(0);
    if (group < 1 || c % group || m % group || wt.getDimSize(1) != c / group)
      return rewriter.notifyMatchFailure(op, "channels do not match group");
    int64_t cg = c / group, mg = m / group;

    onnx::WindowGeometry g;
    if (auto err = geometryOf(op, wt.getShape().drop_front(2), false, g))
      return rewriter.notifyMatchFailure(op, *err);
    if (failed(checkGeometry(op, g, outType, rewriter)))
      return failure();

    if (useWinograd(op, g, group, winogradMinTiles))
      return lowerWinograd(op, g, rewriter);
    if (asMatmul && group == 1 && elem.isF32())
      return lowerAsMatmul(op, g, rewriter);
    if (asMatmul && sp == 2 && group == c && m == c && elem.isF32())
      return lowerDepthwise(op, g, rewriter);

    // X: [N, C, p...] -> [N, G, C/G, p...].
    Value x = padWindowInput(rewriter, loc, op.getX(), g,
                             scalarConstant(rewriter, loc, elem, 0));
    auto pt = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> xShape{n, group, cg};
    llvm::append_range(xShape, pt.getShape().drop_front(2));
    SmallVector<ReassociationIndices> xAssoc{{0}, {1, 2}};
    for (int64_t i = 0; i < sp; ++i)
      xAssoc.push_back({3 + i});
    x = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(xShape, elem), x, xAssoc);

    // W: [M, C/G, k...] -> [G, M/G, C/G, k...].
    SmallVector<int64_t> wShape{group, mg, cg};
    llvm::append_range(wShape, g.kernel);
    SmallVector<ReassociationIndices> wAssoc{{0, 1}, {2}};
    for (int64_t i = 0; i < sp; ++i)
      wAssoc.push_back({3 + i});
    Value w = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(wShape, elem), op.getW(), wAssoc);

    // Y: [N, G, M/G, o...], initialized with the bias or zero.
    SmallVector<int64_t> yShape{n, group, mg};
    llvm::append_range(yShape, g.outSpatial);
    auto yType = RankedTensorType::get(yShape, elem);
    Value init;
    if (!isa<NoneType>(op.getB().getType())) {
      SmallVector<int64_t> bShape(sp + 2, 1);
      bShape[0] = group;
      bShape[1] = mg;
      Value bias = reshapeTensor(rewriter, loc, op.getB(),
                                 RankedTensorType::get(bShape, elem));
      init = buildElementwise(
          rewriter, loc, bias, yType,
          [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    } else {
      init = filledTensor(rewriter, loc, yType,
                          scalarConstant(rewriter, loc, elem, 0));
    }

    // Dims n = 0, g = 1, m = 2, then either c, k..., o... (output pixels
    // innermost: a long contiguous inner loop) or, when each output sums only
    // a few products (depthwise: cg = 1, a 3x3 kernel), o..., c, k... so the
    // sum stays in a register and the loop over output pixels vectorizes.
    int64_t kArea = 1;
    for (int64_t k : g.kernel)
      kArea *= k;
    bool sumsInner = cg * kArea <= 64;
    unsigned numDims = 4 + 2 * sp;
    unsigned cDim = sumsInner ? 3 + sp : 3, kDim = cDim + 1,
             oDim = sumsInner ? 3 : 4 + sp;
    SmallVector<AffineExpr> xExprs{getAffineDimExpr(0, ctx),
                                   getAffineDimExpr(1, ctx),
                                   getAffineDimExpr(cDim, ctx)};
    llvm::append_range(xExprs, windowExprs(ctx, g, kDim, oDim));
    SmallVector<int64_t> wDims{1, 2, cDim}, yDims{0, 1, 2};
    for (int64_t i = 0; i < sp; ++i) {
      wDims.push_back(kDim + i);
      yDims.push_back(oDim + i);
    }
    SmallVector<AffineMap> maps{AffineMap::get(numDims, 0, xExprs, ctx),
                                dimsMap(ctx, numDims, wDims),
                                dimsMap(ctx, numDims, yDims)};
    SmallVector<IteratorType> iters(numDims, IteratorType::parallel);
    for (unsigned d = cDim; d < kDim + sp; ++d)
      iters[d] = IteratorType::reduction;
    Value y = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{yType}, ValueRange{x, w},
                  ValueRange{init}, maps, iters,
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    linalg::YieldOp::create(
                        b, l, addV(b, l, a[2], mulV(b, l, a[0], a[1])));
                  })
                  .getResult(0);

    SmallVector<ReassociationIndices> yAssoc{{0}, {1, 2}};
    for (int64_t i = 0; i < sp; ++i)
      yAssoc.push_back({3 + i});
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, outType, y,
                                                         yAssoc);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The loop nest of a pooling generic over (n, c, k..., o...): its maps
/// reading x[n, c, o * s + k * d], a kernel-shaped operand (it only gives
/// the kernel loops their bounds) and the output [n, c, o...]; the kernel
/// loops reduce.
struct PoolLoops {
  Value window;
  SmallVector<AffineMap> maps; // x, window, output
  SmallVector<IteratorType> iters;
};
PoolLoops poolLoops(OpBuilder &b, Location loc, const onnx::WindowGeometry &g,
                    Type elem) {
  MLIRContext *ctx = b.getContext();
  unsigned sp = g.kernel.size(), numDims = 2 + 2 * sp, kDim = 2, oDim = 2 + sp;
  SmallVector<AffineExpr> xExprs{getAffineDimExpr(0, ctx),
                                 getAffineDimExpr(1, ctx)};
  llvm::append_range(xExprs, windowExprs(ctx, g, kDim, oDim));
  SmallVector<int64_t> kDims, yDims{0, 1};
  for (unsigned i = 0; i < sp; ++i) {
    kDims.push_back(kDim + i);
    yDims.push_back(oDim + i);
  }
  PoolLoops loops;
  loops.window = tensor::EmptyOp::create(b, loc, g.kernel, elem);
  loops.maps = {AffineMap::get(numDims, 0, xExprs, ctx),
                dimsMap(ctx, numDims, kDims), dimsMap(ctx, numDims, yDims)};
  loops.iters.assign(numDims, IteratorType::parallel);
  for (unsigned i = 0; i < sp; ++i)
    loops.iters[kDim + i] = IteratorType::reduction;
  return loops;
}

/// out[n, c, o...] = combine(out, x[n, c, o * s + k * d]) over the kernel
/// dims k, reading the already padded `x` and accumulating into `init`.
Value buildWindowReduction(
    OpBuilder &b, Location loc, Value x, Value init,
    const onnx::WindowGeometry &g,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto outType = cast<RankedTensorType>(init.getType());
  PoolLoops loops = poolLoops(b, loc, g, outType.getElementType());
  Value window = loops.window;
  SmallVector<AffineMap> maps = loops.maps;
  SmallVector<IteratorType> iters = loops.iters;
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ValueRange{x, window},
             ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, combine(nb, l, a[2], a[0]));
             })
      .getResult(0);
}

/// MaxPool with its Indices: one generic over the padded input with two
/// accumulators, the maximum and its position in the unpadded X (row-major;
/// `columnMajor`: the spatial dims column-major), replaced only by a
/// strictly larger value (padding holds the lowest value, so never wins).
std::pair<Value, Value> buildWindowArgMax(OpBuilder &b, Location loc, Value x,
                                          RankedTensorType xType,
                                          Value initValue, Value initIndex,
                                          const onnx::WindowGeometry &g,
                                          bool columnMajor) {
  auto outType = cast<RankedTensorType>(initValue.getType());
  auto idxType = cast<RankedTensorType>(initIndex.getType());
  unsigned sp = g.kernel.size(), kDim = 2, oDim = 2 + sp;
  PoolLoops loops = poolLoops(b, loc, g, outType.getElementType());
  Value window = loops.window;
  SmallVector<AffineMap> maps = loops.maps;
  maps.push_back(maps.back()); // the index accumulator, like the output
  SmallVector<IteratorType> iters = loops.iters;
  ArrayRef<int64_t> shape = xType.getShape();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType, idxType}, ValueRange{x, window},
      ValueRange{initValue, initIndex}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        auto idx = [&](unsigned d) {
          return arith::IndexCastOp::create(nb, l, nb.getI64Type(),
                                            linalg::IndexOp::create(nb, l, d))
              .getResult();
        };
        auto c64 = [&](int64_t v) {
          return arith::ConstantIntOp::create(nb, l, v, 64).getResult();
        };
        // The cell's unpadded spatial coordinates.
        SmallVector<Value> pos;
        for (unsigned i = 0; i < sp; ++i)
          pos.push_back(arith::SubIOp::create(
              nb, l,
              arith::AddIOp::create(
                  nb, l,
                  arith::MulIOp::create(nb, l, idx(oDim + i),
                                        c64(g.strides[i])),
                  arith::MulIOp::create(nb, l, idx(kDim + i),
                                        c64(g.dilations[i]))),
              c64(g.padBegin[i])));
        Value flat = arith::AddIOp::create(
            nb, l, arith::MulIOp::create(nb, l, idx(0), c64(shape[1])),
            idx(1));
        if (columnMajor) {
          Value inner = c64(0), stride = c64(1);
          for (unsigned i = 0; i < sp; ++i) {
            inner = arith::AddIOp::create(
                nb, l, inner, arith::MulIOp::create(nb, l, pos[i], stride));
            stride = arith::MulIOp::create(nb, l, stride, c64(shape[2 + i]));
          }
          flat = arith::AddIOp::create(
              nb, l, arith::MulIOp::create(nb, l, flat, stride), inner);
        } else {
          for (unsigned i = 0; i < sp; ++i)
            flat = arith::AddIOp::create(
                nb, l, arith::MulIOp::create(nb, l, flat, c64(shape[2 + i])),
                pos[i]);
        }
        Value larger =
            isa<FloatType>(a[0].getType())
                ? (Value)arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                               a[0], a[2])
                : (Value)arith::CmpIOp::create(
                      nb, l, forType(arith::CmpIPredicate::sgt, a[0].getType()),
                      a[0], a[2]);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::SelectOp::create(nb, l, larger, a[0], a[2]),
                       arith::SelectOp::create(nb, l, larger, flat, a[3])});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

struct MaxPoolPattern : OnnxPattern<kop::MaxPoolOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::MaxPoolOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = cast<RankedTensorType>(op.getY().getType());
    Type elem = outType.getElementType();
    onnx::WindowGeometry g;
    if (auto err = geometryOf(op, op.getKernelShape(), op.getCeilMode(), g))
      return rewriter.notifyMatchFailure(op, *err);
    if (failed(checkGeometry(op, g, outType, rewriter)))
      return failure();
    // Padding cells hold the lowest value, so they never win.
    Value lowest = lowestValue(rewriter, loc, elem);
    Value x = padWindowInput(rewriter, loc, op.getX(), g, lowest);
    Value init = filledTensor(rewriter, loc, outType, lowest);
    if (Value indices = op.getIndices()) {
      auto idxType = cast<RankedTensorType>(indices.getType());
      auto [y, where] = buildWindowArgMax(
          rewriter, loc, x, cast<RankedTensorType>(op.getX().getType()), init,
          filledTensor(rewriter, loc, idxType,
                       scalarConstant(rewriter, loc, idxType.getElementType(),
                                      0)),
          g, op.getStorageOrder() == 1);
      rewriter.replaceOp(op, {y, where});
      return success();
    }
    // 2-D f32: the named op, which kiln-tile-contractions vectorizes along
    // the output rows like a depthwise convolution.
    if (g.kernel.size() == 2 && elem.isF32()) {
      Value window = tensor::EmptyOp::create(rewriter, loc, g.kernel, elem);
      rewriter.replaceOp(
          op, linalg::PoolingNchwMaxOp::create(
                  rewriter, loc, TypeRange{outType}, ValueRange{x, window},
                  ValueRange{init}, rewriter.getI64VectorAttr(g.strides),
                  rewriter.getI64VectorAttr(g.dilations))
                  .getResult(0));
      return success();
    }
    rewriter.replaceOp(op,
                       buildWindowReduction(rewriter, loc, x, init, g, maxV));
    return success();
  }
};

/// For one spatial dim: how many of each output position's window cells lie
/// in [lo, hi) of the unpadded input coordinates.
SmallVector<int64_t> windowCounts(const onnx::WindowGeometry &g, size_t i,
                                  int64_t lo, int64_t hi) {
  SmallVector<int64_t> counts;
  for (int64_t o = 0; o < g.outSpatial[i]; ++o) {
    int64_t count = 0;
    for (int64_t k = 0; k < g.kernel[i]; ++k) {
      int64_t pos = o * g.strides[i] + k * g.dilations[i] - g.padBegin[i];
      count += pos >= lo && pos < hi;
    }
    counts.push_back(count);
  }
  return counts;
}

struct AveragePoolPattern : OnnxPattern<kop::AveragePoolOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::AveragePoolOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    auto elemType = dyn_cast<FloatType>(outType.getElementType());
    if (!elemType)
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    onnx::WindowGeometry g;
    if (auto err = geometryOf(op, op.getKernelShape(), op.getCeilMode(), g))
      return rewriter.notifyMatchFailure(op, *err);
    if (failed(checkGeometry(op, g, outType, rewriter)))
      return failure();
    Value zero = scalarConstant(rewriter, loc, elemType, 0);
    Value x = padWindowInput(rewriter, loc, op.getX(), g, zero);
    Value sum = buildWindowReduction(
        rewriter, loc, x, filledTensor(rewriter, loc, outType, zero), g, addV);

    // The divisor per output position, known at compile time: the window
    // cells inside the input (count_include_pad = 0) or inside the explicitly
    // padded input (count_include_pad = 1; not the ceil_mode overhang).
    bool includePad = op.getCountIncludePad();
    ArrayRef<int64_t> spatial = g.outSpatial;
    SmallVector<SmallVector<int64_t>> counts;
    for (size_t i = 0; i < spatial.size(); ++i) {
      int64_t in = xt.getDimSize(i + 2);
      counts.push_back(
          includePad ? windowCounts(g, i, -g.padBegin[i], in + g.padEnd[i])
                     : windowCounts(g, i, 0, in));
    }
    int64_t numOut = ShapedType::getNumElements(spatial);
    SmallVector<double> divisors(numOut, 1.0);
    for (int64_t flat = 0; flat < numOut; ++flat) {
      int64_t rest = flat;
      for (int64_t i = spatial.size() - 1; i >= 0; --i) {
        divisors[flat] *= counts[i][rest % spatial[i]];
        rest /= spatial[i];
      }
    }

    Value result;
    if (llvm::all_equal(divisors)) {
      double d = divisors.empty() ? 1.0 : divisors.front();
      result = buildElementwise(
          rewriter, loc, sum, outType,
          [&](OpBuilder &b, Location l, ValueRange a) {
            return divV(b, l, a[0], scalarConstant(b, l, elemType, d));
          });
    } else {
      SmallVector<APFloat> values;
      for (double d : divisors) {
        APFloat f(d);
        bool lost;
        f.convert(elemType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
        values.push_back(f);
      }
      auto divType = RankedTensorType::get(spatial, elemType);
      Value divisor = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(divType, values));
      result =
          buildElementwise(rewriter, loc, ValueRange{sum, divisor}, outType,
                           [&](OpBuilder &b, Location l, ValueRange a) {
                             return divV(b, l, a[0], a[1]);
                           });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Global pools: out[n, c] = combine over all spatial dims, then divided by
/// their size (average) and reshaped to [N, C, 1...].
template <typename OpTy, bool IsMax>
struct GlobalPoolPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = outType.getElementType();
    int64_t rank = xt.getRank();
    if (rank < 3)
      return rewriter.notifyMatchFailure(op,
                                         "expects an input of rank 3 or more");
    if (!IsMax && !isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    auto flatType = RankedTensorType::get(xt.getShape().take_front(2), elem);
    Value init = filledTensor(rewriter, loc, flatType,
                              IsMax ? lowestValue(rewriter, loc, elem)
                                    : scalarConstant(rewriter, loc, elem, 0));
    // The spatial dims as one: a single inner loop over all of a channel's
    // pixels (a 7x7 map is one loop of 49, not seven of 7).
    int64_t pixels = ShapedType::getNumElements(xt.getShape().drop_front(2));
    SmallVector<ReassociationIndices> spatial{{0}, {1}, {}};
    for (int64_t i = 2; i < rank; ++i)
      spatial[2].push_back(i);
    Value x = tensor::CollapseShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({xt.getDimSize(0), xt.getDimSize(1), pixels},
                              elem),
        op.getX(), spatial);
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(3),
                                dimsMap(ctx, 3, {0, 1})};
    SmallVector<IteratorType> iters{IteratorType::parallel,
                                    IteratorType::parallel,
                                    IteratorType::reduction};
    Value r = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{flatType}, ValueRange{x},
                  ValueRange{init}, maps, iters,
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    linalg::YieldOp::create(b, l,
                                            IsMax ? maxV(b, l, a[1], a[0])
                                                  : addV(b, l, a[1], a[0]));
                  })
                  .getResult(0);
    if (!IsMax) {
      double count = ShapedType::getNumElements(xt.getShape().drop_front(2));
      r = buildElementwise(rewriter, loc, r, flatType,
                           [&](OpBuilder &b, Location l, ValueRange a) {
                             return divV(b, l, a[0],
                                         scalarConstant(b, l, elem, count));
                           });
    }
    SmallVector<ReassociationIndices> assoc{{0}, {}};
    for (int64_t i = 1; i < rank; ++i)
      assoc[1].push_back(i);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, outType, r, assoc);
    return success();
  }
};

/// MaxUnpool: a zero tensor, then one scf.for over X's elements inserting
/// X[i] at the coordinates of the row-major position I[i] (skipped when
/// outside the result). The result's sizes may be derived dims
/// (output_shape read at run time).
struct MaxUnpoolPattern : OnnxPattern<kop::MaxUnpoolOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::MaxUnpoolOp op,
                      PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto iType = cast<RankedTensorType>(op.getI().getType());
    auto type = cast<RankedTensorType>(op.getType());
    if (!xType.hasStaticShape() || !iType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "X of dynamic shape");
    SmallVector<Value> sizes;
    if (!type.hasStaticShape()) {
      auto derived = derivedSizes(op, type);
      if (!derived)
        return rewriter.notifyMatchFailure(op, "output_shape not derived");
      sizes = *derived;
    }
    Location loc = op.getLoc();
    Type elem = type.getElementType();
    Value out = filledTensor(rewriter, loc, type,
                             scalarConstant(rewriter, loc, elem, 0), sizes);
    // Indices count in the default unpooled shape ((in - 1) * stride +
    // kernel - pads); with output_shape, each lands at the same coordinates
    // of the result (ONNX's reference), skipped where those lie outside it.
    Type i64 = rewriter.getI64Type();
    int64_t rank = type.getRank();
    SmallVector<int64_t> unpooled{xType.getDimSize(0), xType.getDimSize(1)};
    for (int64_t i = 0; i + 2 < rank; ++i) {
      int64_t stride = op.getStrides() ? (*op.getStrides())[i] : 1;
      int64_t pads =
          op.getPads() ? (*op.getPads())[i] + (*op.getPads())[i + rank - 2] : 0;
      unpooled.push_back((xType.getDimSize(i + 2) - 1) * stride +
                         op.getKernelShape()[i] - pads);
    }
    SmallVector<Value> dims;
    for (int64_t d = 0, k = 0; d < rank; ++d)
      dims.push_back(type.isDynamicDim(d)
                         ? (Value)arith::IndexCastOp::create(rewriter, loc, i64,
                                                             sizes[k++])
                         : scalarConstant(rewriter, loc, i64,
                                          type.getDimSize(d)));
    int64_t total = 1;
    for (int64_t d : unpooled)
      total *= d;
    int64_t n = xType.getNumElements();
    Value x = reshapeTensor(rewriter, loc, op.getX(),
                            RankedTensorType::get({n}, xType.getElementType()));
    Value idx = reshapeTensor(
        rewriter, loc, op.getI(),
        RankedTensorType::get({n}, iType.getElementType()));
    auto ic = [&](OpBuilder &b, Location l, int64_t v) {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    auto loop = scf::ForOp::create(
        rewriter, loc, ic(rewriter, loc, 0), ic(rewriter, loc, n),
        ic(rewriter, loc, 1), ValueRange{out},
        [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
          Value v = tensor::ExtractOp::create(b, l, x, i);
          Value at = convertScalar(b, l, tensor::ExtractOp::create(b, l, idx, i),
                                   i64);
          auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
            return arith::CmpIOp::create(b, l, p, x, y).getResult();
          };
          Value inside = arith::AndIOp::create(
              b, l,
              cmp(arith::CmpIPredicate::sge, at, scalarConstant(b, l, i64, 0)),
              cmp(arith::CmpIPredicate::slt, at,
                  scalarConstant(b, l, i64, total)));
          // Guarded: a negative index must not reach the division.
          at = arith::SelectOp::create(b, l, inside, at,
                                       scalarConstant(b, l, i64, 0));
          SmallVector<Value> coords(rank);
          Value rest = at;
          for (int64_t d = rank - 1; d >= 0; --d) {
            Value size = scalarConstant(b, l, i64, unpooled[d]);
            coords[d] = arith::RemSIOp::create(b, l, rest, size);
            rest = arith::DivSIOp::create(b, l, rest, size);
            inside = arith::AndIOp::create(
                b, l, inside, cmp(arith::CmpIPredicate::slt, coords[d], dims[d]));
            coords[d] = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                   coords[d]);
          }
          auto put = scf::IfOp::create(
              b, l, inside,
              [&](OpBuilder &b, Location l) {
                scf::YieldOp::create(
                    b, l,
                    ValueRange{tensor::InsertOp::create(b, l, v, acc[0], coords)});
              },
              [&](OpBuilder &b, Location l) {
                scf::YieldOp::create(b, l, acc);
              });
          scf::YieldOp::create(b, l, put.getResults());
        });
    rewriter.replaceOp(op, pinSizes(rewriter, loc, loop.getResult(0), sizes));
    return success();
  }
};

} // namespace

void kiln::populateConvPatterns(RewritePatternSet &patterns,
                                bool convAsMatmul, int64_t winogradMinTiles) {
  patterns.add<ConvPattern>(patterns.getContext(), convAsMatmul,
                            winogradMinTiles);
  patterns.add<MaxPoolPattern, AveragePoolPattern, MaxUnpoolPattern,
               GlobalPoolPattern<kop::GlobalAveragePoolOp, false>,
               GlobalPoolPattern<kop::GlobalMaxPoolOp, true>>(
      patterns.getContext());
}
