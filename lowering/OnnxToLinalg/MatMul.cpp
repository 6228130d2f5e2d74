//===- MatMul.cpp - MatMul and Gemm to linalg contractions ----------------===//
//
// Contractions are linalg.generic ops whose loop order is (batch..., m, k, n):
// the innermost loop walks B and the result contiguously, so the plain loop
// lowering vectorizes without reassociating the reduction.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

Value multiplyAdd(OpBuilder &b, Location l, Value x, Value y, Value acc,
                  std::optional<double> alpha) {
  bool f = isa<FloatType>(x.getType());
  Value p = f ? (Value)arith::MulFOp::create(b, l, x, y)
              : (Value)arith::MulIOp::create(b, l, x, y);
  if (alpha && *alpha != 1.0) {
    Value a = scalarConstant(b, l, x.getType(), *alpha);
    p = f ? (Value)arith::MulFOp::create(b, l, p, a)
          : (Value)arith::MulIOp::create(b, l, p, a);
  }
  return f ? (Value)arith::AddFOp::create(b, l, acc, p)
           : (Value)arith::AddIOp::create(b, l, acc, p);
}

/// out[batch, m, n] += a[batch', m, k] * b[batch', k, n] on an existing
/// accumulator `init`; a and b have rank >= 2 and broadcast batch dims.
Value contract(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init,
               bool transA, bool transB, std::optional<double> alpha) {
  MLIRContext *ctx = b.getContext();
  auto outType = cast<RankedTensorType>(init.getType());
  int64_t batch = outType.getRank() - 2;
  int64_t nDims = batch + 3; // batch..., m, k, n
  AffineExpr m = getAffineDimExpr(batch, ctx), k = getAffineDimExpr(batch + 1, ctx),
             n = getAffineDimExpr(batch + 2, ctx);
  auto operandMap = [&](Value v, AffineExpr r, AffineExpr c) {
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<AffineExpr> exprs;
    int64_t vb = t.getRank() - 2;
    for (int64_t i = 0; i < vb; ++i)
      exprs.push_back(t.getDimSize(i) == 1 && outType.getDimSize(batch - vb + i) != 1
                          ? getAffineConstantExpr(0, ctx)
                          : getAffineDimExpr(batch - vb + i, ctx));
    exprs.push_back(r);
    exprs.push_back(c);
    return AffineMap::get(nDims, 0, exprs, ctx);
  };
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < batch; ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  outExprs.push_back(m);
  outExprs.push_back(n);
  SmallVector<AffineMap> maps{
      transA ? operandMap(lhs, k, m) : operandMap(lhs, m, k),
      transB ? operandMap(rhs, n, k) : operandMap(rhs, k, n),
      AffineMap::get(nDims, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(nDims, utils::IteratorType::parallel);
  iters[batch + 1] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ValueRange{lhs, rhs}, ValueRange{init},
             maps, iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl, multiplyAdd(nb, nl, args[0], args[1], args[2], alpha));
             })
      .getResult(0);
}

/// out[batch..., m, n] = a[batch'..., m, k] x b[batch'..., k, n] (batch dims
/// broadcast) as one linalg.matmul per batch index on rank-reduced slices,
/// inserted into the result.
Value batchOfMatmuls(OpBuilder &b, Location loc, Value lhs, Value rhs,
                     RankedTensorType outType) {
  Type elem = outType.getElementType();
  int64_t rank = outType.getRank(), batch = rank - 2;
  int64_t m = outType.getDimSize(batch), n = outType.getDimSize(batch + 1);
  auto lt = cast<RankedTensorType>(lhs.getType());
  auto rt = cast<RankedTensorType>(rhs.getType());
  int64_t k = lt.getDimSize(lt.getRank() - 1);
  // The slice of operand `v` (its batch dims right-aligned with the
  // result's, size-1 dims broadcast) at batch index `index`.
  auto slice = [&](Value v, RankedTensorType t, ArrayRef<int64_t> index,
                   int64_t rows, int64_t cols) -> Value {
    int64_t vb = t.getRank() - 2;
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (int64_t i = 0; i < vb; ++i) {
      int64_t at = index[batch - vb + i];
      offsets.push_back(b.getIndexAttr(t.getDimSize(i) == 1 ? 0 : at));
      sizes.push_back(b.getIndexAttr(1));
    }
    offsets.append({b.getIndexAttr(0), b.getIndexAttr(0)});
    sizes.append({b.getIndexAttr(rows), b.getIndexAttr(cols)});
    strides.assign(t.getRank(), b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({rows, cols}, elem), v, offsets, sizes,
        strides);
  };
  auto matType = RankedTensorType::get({m, n}, elem);
  Value result = emptyTensor(b, loc, outType);
  SmallVector<int64_t> index(batch, 0);
  while (true) {
    Value init = filledTensor(b, loc, matType, scalarConstant(b, loc, elem, 0));
    Value product =
        linalg::MatmulOp::create(
            b, loc, TypeRange{matType},
            ValueRange{slice(lhs, lt, index, m, k), slice(rhs, rt, index, k, n)},
            ValueRange{init})
            .getResult(0);
    SmallVector<OpFoldResult> offsets, sizes;
    for (int64_t i : index) {
      offsets.push_back(b.getIndexAttr(i));
      sizes.push_back(b.getIndexAttr(1));
    }
    offsets.append({b.getIndexAttr(0), b.getIndexAttr(0)});
    sizes.append({b.getIndexAttr(m), b.getIndexAttr(n)});
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    result = tensor::InsertSliceOp::create(b, loc, product, result, offsets,
                                           sizes, strides);
    // Next batch index, last dim fastest.
    int64_t d = batch - 1;
    while (d >= 0 && ++index[d] == outType.getDimSize(d))
      index[d--] = 0;
    if (d < 0)
      break;
  }
  return result;
}

/// [batch..., M, K] x [K, N] with dynamic batch or M dims (K, N static):
/// one [rows, K] x [K, N] matmul on the collapsed rows, expanded back.
Value dynamicRowsMatmul(OpBuilder &b, Location loc, Value a, Value w,
                        RankedTensorType outType) {
  auto at = cast<RankedTensorType>(a.getType());
  Type elem = outType.getElementType();
  int64_t r = at.getRank();
  int64_t n = cast<RankedTensorType>(w.getType()).getDimSize(1);
  SmallVector<ReassociationIndices> rows(2);
  for (int64_t i = 0; i < r - 1; ++i)
    rows[0].push_back(i);
  rows[1].push_back(r - 1);
  Value a2 = r == 2 ? a : (Value)tensor::CollapseShapeOp::create(b, loc, a, rows);
  auto flatType = RankedTensorType::get({ShapedType::kDynamic, n}, elem);
  Value m = tensor::DimOp::create(b, loc, a2, 0);
  Value init = linalg::FillOp::create(b, loc, scalarConstant(b, loc, elem, 0),
                                      emptyTensor(b, loc, flatType, {m}))
                   .getResult(0);
  Value flat = linalg::MatmulOp::create(b, loc, TypeRange{flatType},
                                        ValueRange{a2, w}, ValueRange{init})
                   .getResult(0);
  if (r == 2)
    return tensor::CastOp::create(b, loc, outType, flat);
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < r - 1; ++i)
    sizes.push_back(at.isDynamicDim(i)
                        ? OpFoldResult(tensor::DimOp::create(b, loc, a, i).getResult())
                        : OpFoldResult(b.getIndexAttr(at.getDimSize(i))));
  sizes.push_back(b.getIndexAttr(n));
  return tensor::ExpandShapeOp::create(b, loc, outType, flat, rows, sizes);
}

/// [batch..., M, K] x [batch..., K, N] with static batch dims (equal on both
/// sides) and dynamic M, K or N: one linalg.matmul per batch index on
/// slices of dynamic size, inserted into the result.
Value dynamicBatchOfMatmuls(OpBuilder &b, Location loc, Value lhs, Value rhs,
                            RankedTensorType outType) {
  Type elem = outType.getElementType();
  auto lt = cast<RankedTensorType>(lhs.getType());
  auto rt = cast<RankedTensorType>(rhs.getType());
  int64_t rank = outType.getRank(), batch = rank - 2;
  auto size = [&](Value v, RankedTensorType t, int64_t d) -> OpFoldResult {
    if (!t.isDynamicDim(d))
      return b.getIndexAttr(t.getDimSize(d));
    return tensor::DimOp::create(b, loc, v, d).getResult();
  };
  OpFoldResult m = size(lhs, lt, batch), k = size(lhs, lt, batch + 1),
               n = size(rhs, rt, batch + 1);
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < rank; ++d)
    if (outType.isDynamicDim(d))
      dyn.push_back(cast<Value>(d == batch ? m : n));
  Value result = emptyTensor(b, loc, outType, dyn);
  auto matType = [&](OpFoldResult r, OpFoldResult c) {
    auto dim = [](OpFoldResult f) {
      auto v = getConstantIntValue(f);
      return v ? *v : ShapedType::kDynamic;
    };
    return RankedTensorType::get({dim(r), dim(c)}, elem);
  };
  SmallVector<int64_t> index(batch, 0);
  while (true) {
    auto slice = [&](Value v, OpFoldResult rows, OpFoldResult cols) -> Value {
      SmallVector<OpFoldResult> offsets, sizes;
      for (int64_t i : index) {
        offsets.push_back(b.getIndexAttr(i));
        sizes.push_back(b.getIndexAttr(1));
      }
      offsets.append({b.getIndexAttr(0), b.getIndexAttr(0)});
      sizes.append({rows, cols});
      return tensor::ExtractSliceOp::create(
          b, loc, matType(rows, cols), v, offsets, sizes,
          SmallVector<OpFoldResult>(rank, b.getIndexAttr(1)));
    };
    auto productType = matType(m, n);
    SmallVector<Value> sizes;
    if (productType.isDynamicDim(0))
      sizes.push_back(cast<Value>(m));
    if (productType.isDynamicDim(1))
      sizes.push_back(cast<Value>(n));
    Value init = filledTensor(b, loc, productType,
                              scalarConstant(b, loc, elem, 0), sizes);
    Value product = linalg::MatmulOp::create(
                        b, loc, TypeRange{productType},
                        ValueRange{slice(lhs, m, k), slice(rhs, k, n)},
                        ValueRange{init})
                        .getResult(0);
    SmallVector<OpFoldResult> offsets, outSizes;
    for (int64_t i : index) {
      offsets.push_back(b.getIndexAttr(i));
      outSizes.push_back(b.getIndexAttr(1));
    }
    offsets.append({b.getIndexAttr(0), b.getIndexAttr(0)});
    outSizes.append({m, n});
    result = tensor::InsertSliceOp::create(
        b, loc, product, result, offsets, outSizes,
        SmallVector<OpFoldResult>(rank, b.getIndexAttr(1)));
    int64_t d = batch - 1;
    while (d >= 0 && ++index[d] == outType.getDimSize(d))
      index[d--] = 0;
    if (d < 0)
      break;
  }
  return result;
}

struct MatMulPattern : OnnxPattern<kop::MatMulOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::MatMulOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = cast<RankedTensorType>(op.getType());
    Value a = op.getA(), b = op.getB();
    auto at = cast<RankedTensorType>(a.getType());
    auto bt = cast<RankedTensorType>(b.getType());
    Type elem = outType.getElementType();
    if (!at.hasStaticShape() || !bt.hasStaticShape() ||
        !outType.hasStaticShape()) {
      if (at.getRank() >= 2 && bt.getRank() == 2 && bt.hasStaticShape() &&
          !at.isDynamicDim(at.getRank() - 1)) {
        rewriter.replaceOp(op, dynamicRowsMatmul(rewriter, loc, a, b, outType));
        return success();
      }
      if (at.getRank() < 2 || bt.getRank() < 2 ||
          outType.getRank() != std::max(at.getRank(), bt.getRank()))
        return rewriter.notifyMatchFailure(op, "dynamic 1-D matmul operand");
      // Batched matrices of a few static batch indices (attention heads):
      // one 2-D linalg.matmul each, on slices of dynamic size, which
      // kiln-tile-dynamic-rows cuts into static blocks.
      if (elem.isF32() && at.getRank() == bt.getRank()) {
        int64_t count = 1;
        bool staticBatch = true;
        for (int64_t d = 0; d + 2 < at.getRank(); ++d) {
          staticBatch &= !at.isDynamicDim(d) && !bt.isDynamicDim(d) &&
                         at.getDimSize(d) == bt.getDimSize(d);
          count *= at.getDimSize(d);
        }
        if (staticBatch && count <= 64) {
          rewriter.replaceOp(op, dynamicBatchOfMatmuls(rewriter, loc, a, b,
                                                       outType));
          return success();
        }
      }
      // Other batched matrices: one contraction over the result's dims,
      // sized from the operands.
      int64_t r = outType.getRank();
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < r; ++d) {
        if (!outType.isDynamicDim(d))
          continue;
        if (d == r - 2) {
          sizes.push_back(tensor::DimOp::create(rewriter, loc, a, at.getRank() - 2));
        } else if (d == r - 1) {
          sizes.push_back(tensor::DimOp::create(rewriter, loc, b, bt.getRank() - 1));
        } else {
          Value src = a;
          int64_t p = d - (r - at.getRank());
          if (p < 0 || !at.isDynamicDim(p)) {
            src = b;
            p = d - (r - bt.getRank());
          }
          if (p < 0)
            return rewriter.notifyMatchFailure(op, "dynamic batch dim");
          sizes.push_back(tensor::DimOp::create(rewriter, loc, src, p));
        }
      }
      Value init = filledTensor(rewriter, loc, outType,
                                scalarConstant(rewriter, loc, elem, 0), sizes);
      rewriter.replaceOp(op, contract(rewriter, loc, a, b, init, false, false,
                                      std::nullopt));
      return success();
    }
    // 1-D operands are promoted to matrices; the result drops that dim.
    if (at.getRank() == 1)
      a = reshapeTensor(rewriter, loc, a,
                        RankedTensorType::get({1, at.getDimSize(0)}, elem));
    if (bt.getRank() == 1)
      b = reshapeTensor(rewriter, loc, b,
                        RankedTensorType::get({bt.getDimSize(0), 1}, elem));
    at = cast<RankedTensorType>(a.getType());
    bt = cast<RankedTensorType>(b.getType());
    auto batch = onnx::broadcastShapes(at.getShape().drop_back(2),
                                       bt.getShape().drop_back(2));
    if (!batch)
      return rewriter.notifyMatchFailure(op, "batch dims do not broadcast");
    SmallVector<int64_t> full(batch->begin(), batch->end());
    full.push_back(at.getDimSize(at.getRank() - 2));
    full.push_back(bt.getDimSize(bt.getRank() - 1));
    auto fullType = RankedTensorType::get(full, elem);
    if (!batch->empty() && bt.getRank() == 2) {
      // [batch..., M, K] x [K, N]: one [batch... * M, K] x [K, N] matmul.
      int64_t rows = at.getNumElements() / at.getDimSize(at.getRank() - 1);
      int64_t k = at.getDimSize(at.getRank() - 1), n = bt.getDimSize(1);
      auto flatType = RankedTensorType::get({rows, n}, elem);
      Value a2 = reshapeTensor(rewriter, loc, a,
                               RankedTensorType::get({rows, k}, elem));
      Value init = filledTensor(rewriter, loc, flatType,
                                scalarConstant(rewriter, loc, elem, 0));
      Value flat = linalg::MatmulOp::create(rewriter, loc, TypeRange{flatType},
                                            ValueRange{a2, b}, ValueRange{init})
                       .getResult(0);
      rewriter.replaceOp(op, reshapeTensor(rewriter, loc, flat, outType));
      return success();
    }
    // A few f32 products of static matrices (attention heads): one
    // linalg.matmul per batch index, each a register-blocked kernel
    // (kiln-tile-contractions), written into its slice of the result.
    int64_t count = 1;
    for (int64_t d : *batch)
      count *= d;
    if (!batch->empty() && elem.isF32() && count <= 64 &&
        fullType.hasStaticShape()) {
      rewriter.replaceOp(
          op, reshapeTensor(rewriter, loc,
                            batchOfMatmuls(rewriter, loc, a, b, fullType),
                            outType));
      return success();
    }
    Value init = filledTensor(rewriter, loc, fullType,
                              scalarConstant(rewriter, loc, elem, 0));
    Value result =
        batch->empty()
            ? linalg::MatmulOp::create(rewriter, loc, TypeRange{fullType},
                                       ValueRange{a, b}, ValueRange{init})
                  .getResult(0)
            : contract(rewriter, loc, a, b, init, false, false, std::nullopt);
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, result, outType));
    return success();
  }
};

struct GemmPattern : OnnxPattern<kop::GemmOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::GemmOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = cast<RankedTensorType>(op.getType());
    Type elem = outType.getElementType();
    double beta = op.getBeta().convertToDouble();
    // Dynamic rows or columns: sized from A and B.
    SmallVector<Value> sizes;
    if (outType.isDynamicDim(0))
      sizes.push_back(
          tensor::DimOp::create(rewriter, loc, op.getA(), op.getTransA() ? 1 : 0));
    if (outType.isDynamicDim(1))
      sizes.push_back(
          tensor::DimOp::create(rewriter, loc, op.getB(), op.getTransB() ? 0 : 1));
    Value init;
    if (!outType.hasStaticShape() && !isa<NoneType>(op.getC().getType()) &&
        beta != 0.0) {
      // C broadcast into the sized result.
      auto ct = cast<RankedTensorType>(op.getC().getType());
      SmallVector<AffineMap> maps{
          broadcastMap(rewriter.getContext(), ct, 2),
          rewriter.getMultiDimIdentityMap(2)};
      init = linalg::GenericOp::create(
                 rewriter, loc, TypeRange{outType}, ValueRange{op.getC()},
                 ValueRange{emptyTensor(rewriter, loc, outType, sizes)}, maps,
                 SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
                 [&](OpBuilder &b, Location l, ValueRange a) {
                   Value v = a[0];
                   if (beta != 1.0)
                     v = isa<FloatType>(elem)
                             ? (Value)arith::MulFOp::create(
                                   b, l, v, scalarConstant(b, l, elem, beta))
                             : (Value)arith::MulIOp::create(
                                   b, l, v, scalarConstant(b, l, elem, beta));
                   linalg::YieldOp::create(b, l, v);
                 })
                 .getResult(0);
    } else if (!outType.hasStaticShape()) {
      init = filledTensor(rewriter, loc, outType,
                          scalarConstant(rewriter, loc, elem, 0), sizes);
    } else if (!isa<NoneType>(op.getC().getType()) && beta != 0.0) {
      init = buildElementwise(
          rewriter, loc, op.getC(), outType,
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (beta == 1.0)
              return a[0];
            Value c = scalarConstant(b, l, elem, beta);
            if (isa<FloatType>(elem))
              return arith::MulFOp::create(b, l, a[0], c);
            return arith::MulIOp::create(b, l, a[0], c);
          });
    } else {
      init = filledTensor(rewriter, loc, outType,
                          scalarConstant(rewriter, loc, elem, 0));
    }
    double alpha = op.getAlpha().convertToDouble();
    // A linalg.matmul (which kiln-tile-contractions vectorizes) on operands
    // transposed first: constant weights at compile time.
    Value result;
    if (alpha == 1.0) {
      Value a = op.getTransA() ? transposeMatrix(rewriter, loc, op.getA())
                               : op.getA();
      Value b = op.getTransB() ? transposeMatrix(rewriter, loc, op.getB())
                               : op.getB();
      result = linalg::MatmulOp::create(rewriter, loc, TypeRange{outType},
                                        ValueRange{a, b}, ValueRange{init})
                   .getResult(0);
    } else {
      result = contract(rewriter, loc, op.getA(), op.getB(), init,
                        op.getTransA(), op.getTransB(), alpha);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

namespace {
/// Einsum: one linalg.generic with a loop dim per letter (and per "..."
/// dim), each input read through its letters (a repeated letter reads the
/// diagonal, a broadcast dim index 0), the letters not in the output
/// reduced: out += in_0 * in_1 * ...
struct EinsumPattern : OnnxPattern<kop::EinsumOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::EinsumOp op,
                      PatternRewriter &rewriter) const override {
    SmallVector<ArrayRef<int64_t>> shapes;
    for (Value v : op.getInputs())
      shapes.push_back(cast<RankedTensorType>(v.getType()).getShape());
    kop::EinsumSpec spec;
    if (kop::resolveEinsum(op.getEquation(), shapes, spec))
      return rewriter.notifyMatchFailure(op, "invalid equation");
    MLIRContext *ctx = rewriter.getContext();
    unsigned n = spec.sizes.size();
    SmallVector<AffineMap> maps;
    for (auto [t, dims] : llvm::enumerate(spec.inputs)) {
      SmallVector<AffineExpr> exprs;
      for (auto [i, d] : llvm::enumerate(dims))
        exprs.push_back(shapes[t][i] == 1 && spec.sizes[d] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d, ctx));
      maps.push_back(AffineMap::get(n, 0, exprs, ctx));
    }
    maps.push_back(dimsMap(ctx, n, spec.output));
    SmallVector<utils::IteratorType> iters(n, utils::IteratorType::reduction);
    for (int64_t d : spec.output)
      iters[d] = utils::IteratorType::parallel;
    auto type = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    Value init = filledTensor(
        rewriter, loc, type,
        scalarConstant(rewriter, loc, type.getElementType(), 0));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, op.getInputs(), ValueRange{init}, maps,
        iters, [&](OpBuilder &b, Location l, ValueRange args) {
          Value p = args[0];
          for (Value x : args.drop_front().drop_back())
            p = mulV(b, l, p, x);
          linalg::YieldOp::create(b, l, addV(b, l, args.back(), p));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};
} // namespace

namespace {
/// Det: each matrix of a copy of X eliminated in place (scf loops on
/// tensors), pivoting on the largest entry of the column; the determinant
/// is the product of the pivots, negated once per row swap (0 once a pivot
/// is 0).
struct DetPattern : OnnxPattern<kop::DetOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::DetOp op, PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto type = cast<RankedTensorType>(op.getType());
    int64_t m = xType.getShape().back();
    int64_t batch = type.getNumElements();
    if (batch == 0)
      return rewriter.notifyMatchFailure(op, "no matrices");
    Location loc = op.getLoc();
    Type f = xType.getElementType();
    auto cubeType = RankedTensorType::get({batch, m, m}, f);
    Value cube = reshapeTensor(rewriter, loc, op.getX(), cubeType);
    Value work = bufferization::AllocTensorOp::create(
        rewriter, loc, cubeType, ValueRange{}, cube);
    auto flatType = RankedTensorType::get({batch}, f);
    Value dets = emptyTensor(rewriter, loc, flatType);
    auto c = [&](OpBuilder &b, Location l, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    auto fc = [&](OpBuilder &b, Location l, double v) {
      return scalarConstant(b, l, f, v);
    };
    auto at = [&](OpBuilder &b, Location l, Value t, Value bi, Value i,
                  Value j) -> Value {
      return tensor::ExtractOp::create(b, l, t, ValueRange{bi, i, j});
    };
    auto put = [&](OpBuilder &b, Location l, Value v, Value t, Value bi,
                   Value i, Value j) -> Value {
      return tensor::InsertOp::create(b, l, v, t, ValueRange{bi, i, j});
    };
    auto perMatrix = scf::ForOp::create(
        rewriter, loc, c(rewriter, loc, 0), c(rewriter, loc, batch),
        c(rewriter, loc, 1), ValueRange{work, dets},
        [&](OpBuilder &b, Location l, Value bi, ValueRange st) {
          auto perColumn = scf::ForOp::create(
              b, l, c(b, l, 0), c(b, l, m), c(b, l, 1),
              ValueRange{st[0], fc(b, l, 1)},
              [&](OpBuilder &b, Location l, Value k, ValueRange cs) {
                Value w = cs[0];
                // The row of the largest |entry| in column k from row k.
                auto pivot = scf::ForOp::create(
                    b, l, k, c(b, l, m), c(b, l, 1),
                    ValueRange{fc(b, l, -1), k},
                    [&](OpBuilder &b, Location l, Value i, ValueRange best) {
                      Value v = math::AbsFOp::create(b, l, at(b, l, w, bi, i, k));
                      Value better = arith::CmpFOp::create(
                          b, l, arith::CmpFPredicate::OGT, v, best[0]);
                      scf::YieldOp::create(
                          b, l,
                          ValueRange{arith::SelectOp::create(b, l, better, v, best[0]),
                                     arith::SelectOp::create(b, l, better, i, best[1])});
                    });
                Value p = pivot.getResult(1);
                auto swap = scf::ForOp::create(
                    b, l, c(b, l, 0), c(b, l, m), c(b, l, 1), ValueRange{w},
                    [&](OpBuilder &b, Location l, Value j, ValueRange t) {
                      Value rk = at(b, l, t[0], bi, k, j);
                      Value rp = at(b, l, t[0], bi, p, j);
                      Value u = put(b, l, rp, t[0], bi, k, j);
                      scf::YieldOp::create(b, l, put(b, l, rk, u, bi, p, j));
                    });
                w = swap.getResult(0);
                Value swapped = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::ne, p, k);
                Value det = arith::SelectOp::create(
                    b, l, swapped, arith::NegFOp::create(b, l, cs[1]), cs[1]);
                Value piv = at(b, l, w, bi, k, k);
                det = arith::MulFOp::create(b, l, det, piv);
                Value zero = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OEQ, piv, fc(b, l, 0));
                auto rows = scf::ForOp::create(
                    b, l, arith::AddIOp::create(b, l, k, c(b, l, 1)),
                    c(b, l, m), c(b, l, 1), ValueRange{w},
                    [&](OpBuilder &b, Location l, Value i, ValueRange t) {
                      Value factor = arith::SelectOp::create(
                          b, l, zero, fc(b, l, 0),
                          arith::DivFOp::create(b, l, at(b, l, t[0], bi, i, k),
                                                piv));
                      auto cols = scf::ForOp::create(
                          b, l, k, c(b, l, m), c(b, l, 1), ValueRange{t[0]},
                          [&](OpBuilder &b, Location l, Value j, ValueRange u) {
                            Value v = arith::SubFOp::create(
                                b, l, at(b, l, u[0], bi, i, j),
                                arith::MulFOp::create(b, l, factor,
                                                      at(b, l, u[0], bi, k, j)));
                            scf::YieldOp::create(b, l,
                                                 put(b, l, v, u[0], bi, i, j));
                          });
                      scf::YieldOp::create(b, l, cols.getResult(0));
                    });
                scf::YieldOp::create(b, l, ValueRange{rows.getResult(0), det});
              });
          Value out = tensor::InsertOp::create(b, l, perColumn.getResult(1),
                                               st[1], ValueRange{bi});
          scf::YieldOp::create(b, l, ValueRange{perColumn.getResult(0), out});
        });
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc,
                                         perMatrix.getResult(1), type));
    return success();
  }
};
} // namespace

void kiln::populateMatMulPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulPattern, GemmPattern, EinsumPattern, DetPattern>(
      patterns.getContext());
}
