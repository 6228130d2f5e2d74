//===- DynamicWindow.cpp - Conv and pooling of dynamic shape --------------===//
//
// The window ops when a dim is known only at run time (the static ones keep
// the im2col, Winograd and named-op kernels of Conv.cpp). The geometry is
// index arithmetic with the rules of computeWindowGeometry; one
// linalg.generic iterates the output and the window, and reads the input
// with tensor.extract at `o * stride + k * dilation - padBegin`, clamped
// into the input, the padding cells replaced by the pad value:
//
//   Conv:    (n, m, o..., c, k...)  W read through the map (m, c, k...)
//   Pools:   (n, c, o..., k...)     a kernel-shaped operand gives k's bounds
//
// A general path for correctness, not a tuned kernel: a model whose window
// ops have dynamic spatial dims runs them at the speed of a plain loop nest.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

using utils::IteratorType;

bool allStatic(Operation *op) {
  auto isStatic = [](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return !r || r.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Dim `d` of `v` as an index value.
Value dimValue(OpBuilder &b, Location loc, Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return indexConst(b, loc, t.getDimSize(d));
  return tensor::DimOp::create(b, loc, v, d);
}

/// The integer-list attribute `name` of `op` when it has `count` values,
/// else `count` times `fill`.
SmallVector<int64_t> intsAttr(Operation *op, StringRef name, int64_t fill,
                              size_t count) {
  SmallVector<int64_t> v(count, fill);
  if (auto a = op->getAttrOfType<DenseI64ArrayAttr>(name);
      a && a.size() == (int64_t)count)
    v.assign(a.asArrayRef().begin(), a.asArrayRef().end());
  return v;
}

/// The initial value of a convolution's result of `type` (N, M, spatial...)
/// and dynamic `sizes`: the bias along M, or zero without one.
Value biasOrZero(OpBuilder &b, Location loc, Value bias, RankedTensorType type,
                 ValueRange sizes) {
  if (isa<NoneType>(bias.getType()))
    return filledTensor(b, loc, type,
                        scalarConstant(b, loc, type.getElementType(), 0),
                        sizes);
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps{
      AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx),
      b.getMultiDimIdentityMap(rank)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{bias},
             ValueRange{emptyTensor(b, loc, type, sizes)}, maps,
             SmallVector<IteratorType>(rank, IteratorType::parallel),
             [](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, a[0]);
             })
      .getResult(0);
}

/// One spatial dim of a window op, at run time.
struct Spatial {
  Value in, out, padBegin, padEnd;
  Value kernel; // the kernel size
  int64_t stride = 1, dilation = 1;
};

/// The geometry of the spatial dims of `x` (N, C, spatial...) for `kernel`
/// (index values), with `op`'s pads, strides, dilations and auto_pad, as
/// computeWindowGeometry computes it for static shapes. Output sizes are
/// never negative; they are sums, quotients and differences with sizes, so
/// that kiln-plan-arena can bound them.
FailureOr<SmallVector<Spatial>> geometry(OpBuilder &b, Location loc,
                                         Operation *op, Value x,
                                         ArrayRef<Value> kernel, bool ceilMode) {
  auto xt = cast<RankedTensorType>(x.getType());
  size_t n = xt.getRank() - 2;
  if (kernel.size() != n)
    return failure();
  auto ints = [&](StringRef name, int64_t fill, size_t count) {
    return intsAttr(op, name, fill, count);
  };
  SmallVector<int64_t> strides = ints("strides", 1, n),
                       dilations = ints("dilations", 1, n),
                       pads = ints("pads", 0, 2 * n);
  auto autoPadAttr = op->getAttrOfType<StringAttr>("auto_pad");
  StringRef autoPad = autoPadAttr ? autoPadAttr.getValue() : "NOTSET";
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (autoPad == "VALID" || same)
    pads.assign(2 * n, 0);
  SmallVector<Spatial> dims;
  for (size_t i = 0; i < n; ++i) {
    Spatial s;
    s.stride = strides[i];
    s.dilation = dilations[i];
    if (s.stride < 1 || s.dilation < 1 || pads[i] < 0 || pads[i + n] < 0)
      return failure();
    s.in = dimValue(b, loc, x, 2 + i);
    s.kernel = kernel[i];
    // The window's reach is (k - 1) * d + 1: k * d is a size, less d - 1.
    Value kd = b.createOrFold<arith::MulIOp>(loc, s.kernel,
                                             indexConst(b, loc, s.dilation));
    Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
    Value stride = indexConst(b, loc, s.stride);
    if (same) {
      // out = ceil(in / s); the padding the last window needs, split.
      s.out = b.createOrFold<arith::CeilDivSIOp>(loc, s.in, stride);
      Value reach = b.createOrFold<arith::AddIOp>(
          loc,
          b.createOrFold<arith::MulIOp>(
              loc, b.createOrFold<arith::SubIOp>(loc, s.out, one), stride),
          b.createOrFold<arith::SubIOp>(
              loc, kd, indexConst(b, loc, s.dilation - 1)));
      Value total = b.createOrFold<arith::MaxSIOp>(
          loc, b.createOrFold<arith::SubIOp>(loc, reach, s.in), zero);
      Value half = b.createOrFold<arith::DivSIOp>(loc, total,
                                                  indexConst(b, loc, 2));
      s.padBegin = autoPad == "SAME_UPPER"
                       ? half
                       : b.createOrFold<arith::SubIOp>(loc, total, half);
      s.padEnd = b.createOrFold<arith::SubIOp>(loc, total, s.padBegin);
    } else {
      s.padBegin = indexConst(b, loc, pads[i]);
      s.padEnd = indexConst(b, loc, pads[i + n]);
      Value span = b.createOrFold<arith::SubIOp>(
          loc,
          b.createOrFold<arith::AddIOp>(
              loc, s.in,
              indexConst(b, loc, pads[i] + pads[i + n] + s.dilation - 1)),
          kd);
      Value out = ceilMode
                      ? b.createOrFold<arith::CeilDivSIOp>(loc, span, stride)
                      : b.createOrFold<arith::DivSIOp>(loc, span, stride);
      out = b.createOrFold<arith::AddIOp>(loc, out, one);
      if (ceilMode) {
        // A window must start inside the input or its leading padding.
        Value start = b.createOrFold<arith::MulIOp>(
            loc, b.createOrFold<arith::SubIOp>(loc, out, one), stride);
        Value past = b.createOrFold<arith::CmpIOp>(
            loc, arith::CmpIPredicate::sge, start,
            b.createOrFold<arith::AddIOp>(loc, s.in, s.padBegin));
        out = b.createOrFold<arith::SelectOp>(
            loc, past, b.createOrFold<arith::SubIOp>(loc, out, one), out);
      }
      // A window larger than the padded input: no output (the static path
      // refuses the model; here the shape is not known until run time).
      s.out = b.createOrFold<arith::MaxSIOp>(loc, out, zero);
    }
    dims.push_back(s);
  }
  return dims;
}

/// The result sizes for `type` (N, C, spatial...): its dynamic dims from
/// `n`, `c` and the geometry's outputs.
SmallVector<Value> resultSizes(RankedTensorType type, Value n, Value c,
                               ArrayRef<Spatial> dims) {
  SmallVector<Value> all{n, c};
  for (const Spatial &s : dims)
    all.push_back(s.out);
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dyn.push_back(all[d]);
  return dyn;
}

/// In the body: the input coordinates of output position `o` and kernel
/// position `k` along each spatial dim, clamped into the input, and whether
/// all of them are inside it (else the cell is padding). With `padded`, also
/// whether they are inside the explicitly padded input (AveragePool's
/// count_include_pad).
struct Cell {
  SmallVector<Value> coords;
  Value inside, insidePadded;
};
Cell windowCell(OpBuilder &b, Location l, ArrayRef<Spatial> dims,
                unsigned firstOut, unsigned firstKernel, bool padded) {
  Cell cell;
  Value zero = indexConst(b, l, 0), one = indexConst(b, l, 1);
  for (auto [i, s] : llvm::enumerate(dims)) {
    Value o = linalg::IndexOp::create(b, l, firstOut + i);
    Value k = linalg::IndexOp::create(b, l, firstKernel + i);
    Value pos = arith::SubIOp::create(
        b, l,
        arith::AddIOp::create(
            b, l, arith::MulIOp::create(b, l, o, indexConst(b, l, s.stride)),
            arith::MulIOp::create(b, l, k, indexConst(b, l, s.dilation))),
        s.padBegin);
    Value ok = arith::AndIOp::create(
        b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, pos, zero),
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, pos, s.in));
    cell.inside = cell.inside ? arith::AndIOp::create(b, l, cell.inside, ok)
                              : ok;
    if (padded) {
      Value lo = arith::SubIOp::create(b, l, zero, s.padBegin);
      Value hi = arith::AddIOp::create(b, l, s.in, s.padEnd);
      Value okPadded = arith::AndIOp::create(
          b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, pos, lo),
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, pos, hi));
      cell.insidePadded =
          cell.insidePadded
              ? arith::AndIOp::create(b, l, cell.insidePadded, okPadded)
              : okPadded;
    }
    Value last = arith::MaxSIOp::create(
        b, l, arith::SubIOp::create(b, l, s.in, one), zero);
    cell.coords.push_back(arith::MinSIOp::create(
        b, l, arith::MaxSIOp::create(b, l, pos, zero), last));
  }
  return cell;
}

/// x[n, channel, coords...] or `padValue` outside the input.
Value readCell(OpBuilder &b, Location l, Value x, Value n, Value channel,
               const Cell &cell, Value padValue) {
  SmallVector<Value> at{n, channel};
  llvm::append_range(at, cell.coords);
  Value v = tensor::ExtractOp::create(b, l, x, at);
  return arith::SelectOp::create(b, l, cell.inside, v, padValue);
}

/// What Conv and ConvTranspose read off their op alike: the types, the
/// spatial rank, the group and the kernel's sizes (index values).
struct ConvOperands {
  RankedTensorType xt, wt, type;
  Type elem;
  int64_t sp, group;
  SmallVector<Value> kernel;
};

template <typename OpTy>
FailureOr<ConvOperands> readConv(OpTy op, PatternRewriter &rewriter) {
  ConvOperands c;
  c.xt = cast<RankedTensorType>(op.getX().getType());
  c.wt = cast<RankedTensorType>(op.getW().getType());
  c.type = cast<RankedTensorType>(op.getType());
  c.elem = c.type.getElementType();
  int64_t rank = c.xt.getRank();
  c.sp = rank - 2;
  c.group = op.getGroup();
  if (c.sp < 1 || c.wt.getRank() != rank || c.group < 1 ||
      !c.elem.isIntOrFloat())
    return rewriter.notifyMatchFailure(op, "unsupported " +
                                               op->getName().getStringRef());
  auto kernelDims = kop::mergeKernel(c.wt, op.getKernelShape());
  if (!kernelDims)
    return rewriter.notifyMatchFailure(op, "kernel_shape differs from W");
  for (int64_t i = 0; i < c.sp; ++i)
    c.kernel.push_back(
        ShapedType::isDynamic((*kernelDims)[i])
            ? dimValue(rewriter, op.getLoc(), op.getW(), 2 + i)
            : indexConst(rewriter, op.getLoc(), (*kernelDims)[i]));
  return c;
}

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

struct DynamicConvPattern : OpRewritePattern<kop::ConvOp> {
  DynamicConvPattern(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(kop::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (allStatic(op) || failed(requireRankedShapes(op, rewriter)))
      return failure();
    auto conv = readConv(op, rewriter);
    if (failed(conv))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = op.getX(), w = op.getW();
    RankedTensorType type = conv->type;
    Type elem = conv->elem;
    int64_t sp = conv->sp, group = conv->group;
    auto dims = geometry(rewriter, loc, op, x, conv->kernel, false);
    if (failed(dims))
      return rewriter.notifyMatchFailure(op, "bad window attributes");
    Value n = dimValue(rewriter, loc, x, 0), m = dimValue(rewriter, loc, w, 0);
    Value cg = dimValue(rewriter, loc, w, 1);
    Value mg = rewriter.createOrFold<arith::DivSIOp>(
        loc, m, indexConst(rewriter, loc, group));

    // Dims n = 0, m = 1, o... = 2.., c = 2 + sp, k... = 3 + sp..
    unsigned numDims = 3 + 2 * sp, cDim = 2 + sp, kDim = 3 + sp;
    SmallVector<int64_t> outDims{0, 1}, wDims{1, cDim};
    for (int64_t i = 0; i < sp; ++i) {
      outDims.push_back(2 + i);
      wDims.push_back(kDim + i);
    }
    SmallVector<Value> sizes = resultSizes(type, n, m, *dims);
    Value init = biasOrZero(rewriter, loc, op.getB(), type, sizes);
    SmallVector<AffineMap> maps{dimsMap(ctx, numDims, wDims),
                                dimsMap(ctx, numDims, outDims)};
    SmallVector<IteratorType> iters(numDims, IteratorType::parallel);
    for (unsigned d = cDim; d < numDims; ++d)
      iters[d] = IteratorType::reduction;
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{w}, ValueRange{init},
            maps, iters,
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value ni = linalg::IndexOp::create(b, l, 0);
              Value mi = linalg::IndexOp::create(b, l, 1);
              Value ci = linalg::IndexOp::create(b, l, cDim);
              // The input channel: group (m / (M / G)) times C / G, plus c.
              Value channel = ci;
              if (group > 1)
                channel = arith::AddIOp::create(
                    b, l,
                    arith::MulIOp::create(
                        b, l, arith::DivSIOp::create(b, l, mi, mg), cg),
                    ci);
              Cell cell = windowCell(b, l, *dims, 2, kDim, false);
              Value v = readCell(b, l, x, ni, channel, cell,
                                 scalarConstant(b, l, elem, 0));
              linalg::YieldOp::create(b, l,
                                      addV(b, l, a[1], mulV(b, l, v, a[0])));
            })
            .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

/// out[n, m, o...] = bias[m] + sum over c, k of x[n, cin, i...] *
/// W[cin, m mod (M / G), k...] where o = i * stride + k * dilation -
/// padBegin, i.e. i = (o + padBegin - k * dilation) / stride when that
/// divides and lands inside the input; cin = group * (C / G) + c. The
/// geometry is computeConvTransposeGeometry's, at run time.
struct DynamicConvTransposePattern : OpRewritePattern<kop::ConvTransposeOp> {
  DynamicConvTransposePattern(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(kop::ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (allStatic(op) || failed(requireRankedShapes(op, rewriter)))
      return failure();
    auto conv = readConv(op, rewriter);
    if (failed(conv))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = op.getX(), w = op.getW();
    RankedTensorType type = conv->type;
    Type elem = conv->elem;
    int64_t sp = conv->sp, group = conv->group;
    auto ints = [&](StringRef name, int64_t fill, size_t count) {
      return intsAttr(op, name, fill, count);
    };
    SmallVector<int64_t> strides = ints("strides", 1, sp),
                         dilations = ints("dilations", 1, sp),
                         outPad = ints("output_padding", 0, sp),
                         pads = ints("pads", 0, 2 * sp);
    std::optional<SmallVector<int64_t>> outputShape;
    if (auto a = op->getAttrOfType<DenseI64ArrayAttr>("output_shape");
        a && !a.empty()) {
      if (a.size() != sp && a.size() != sp + 2)
        return rewriter.notifyMatchFailure(op, "bad output_shape");
      outputShape = SmallVector<int64_t>(a.asArrayRef().take_back(sp));
    }
    StringRef autoPad = op.getAutoPad();
    bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
    auto c = [&](int64_t v) { return indexConst(rewriter, loc, v); };
    SmallVector<Spatial> dims;
    for (int64_t i = 0; i < sp; ++i) {
      Spatial s;
      s.stride = strides[i];
      s.dilation = dilations[i];
      if (s.stride < 1 || s.dilation < 1)
        return rewriter.notifyMatchFailure(op, "bad strides or dilations");
      s.in = dimValue(rewriter, loc, x, 2 + i);
      s.kernel = conv->kernel[i];
      // full = s * (in - 1) + output_padding + (k - 1) * d + 1
      Value full = rewriter.createOrFold<arith::AddIOp>(
          loc,
          rewriter.createOrFold<arith::AddIOp>(
              loc, rewriter.createOrFold<arith::MulIOp>(loc, s.in, c(s.stride)),
              c(outPad[i] - s.stride - s.dilation + 1)),
          rewriter.createOrFold<arith::MulIOp>(loc, s.kernel, c(s.dilation)));
      if (outputShape || same) {
        s.out = outputShape ? c((*outputShape)[i])
                            : rewriter.createOrFold<arith::MulIOp>(
                                  loc, s.in, c(s.stride));
        Value total = rewriter.createOrFold<arith::SubIOp>(loc, full, s.out);
        Value half = rewriter.createOrFold<arith::FloorDivSIOp>(loc, total, c(2));
        s.padBegin = autoPad == "SAME_UPPER"
                         ? half
                         : rewriter.createOrFold<arith::SubIOp>(loc, total, half);
      } else if (autoPad == "VALID") {
        s.out = full;
        s.padBegin = c(0);
      } else {
        if (pads[i] < 0 || pads[i + sp] < 0)
          return rewriter.notifyMatchFailure(op, "negative pads");
        s.padBegin = c(pads[i]);
        s.out = rewriter.createOrFold<arith::MaxSIOp>(
            loc, rewriter.createOrFold<arith::SubIOp>(loc, full,
                                                      c(pads[i] + pads[i + sp])),
            c(0));
      }
      dims.push_back(s);
    }
    Value n = dimValue(rewriter, loc, x, 0);
    Value mg = dimValue(rewriter, loc, w, 1);
    Value m = rewriter.createOrFold<arith::MulIOp>(loc, mg, c(group));
    Value cg = rewriter.createOrFold<arith::DivSIOp>(
        loc, dimValue(rewriter, loc, x, 1), c(group));
    SmallVector<Value> sizes = resultSizes(type, n, m, dims);
    Value init = biasOrZero(rewriter, loc, op.getB(), type, sizes);
    // Dims n = 0, m = 1, o... = 2.., c = 2 + sp, k... = 3 + sp..; a
    // (C / G, k...) operand gives c and k their bounds.
    unsigned numDims = 3 + 2 * sp, cDim = 2 + sp, kDim = 3 + sp;
    SmallVector<int64_t> outDims{0, 1}, boundDims{cDim};
    SmallVector<OpFoldResult> boundSizes{getAsOpFoldResult(cg)};
    for (int64_t i = 0; i < sp; ++i) {
      outDims.push_back(2 + i);
      boundDims.push_back(kDim + i);
      boundSizes.push_back(getAsOpFoldResult(dims[i].kernel));
    }
    Value bounds = tensor::EmptyOp::create(rewriter, loc, boundSizes, elem);
    SmallVector<AffineMap> maps{dimsMap(ctx, numDims, boundDims),
                                dimsMap(ctx, numDims, outDims)};
    SmallVector<IteratorType> iters(numDims, IteratorType::parallel);
    for (unsigned d = cDim; d < numDims; ++d)
      iters[d] = IteratorType::reduction;
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{bounds},
            ValueRange{init}, maps, iters,
            [&](OpBuilder &b, Location l, ValueRange a) {
              auto ci = [&](int64_t v) { return indexConst(b, l, v); };
              Value ni = linalg::IndexOp::create(b, l, 0);
              Value mi = linalg::IndexOp::create(b, l, 1);
              Value cIdx = linalg::IndexOp::create(b, l, cDim);
              Value g = arith::DivSIOp::create(b, l, mi, mg);
              Value cin = arith::AddIOp::create(
                  b, l, arith::MulIOp::create(b, l, g, cg), cIdx);
              Value mInGroup = arith::RemSIOp::create(b, l, mi, mg);
              SmallVector<Value> xAt{ni, cin}, wAt{cin, mInGroup};
              Value valid;
              for (auto [i, s] : llvm::enumerate(dims)) {
                Value o = linalg::IndexOp::create(b, l, 2 + i);
                Value k = linalg::IndexOp::create(b, l, kDim + i);
                Value t = arith::SubIOp::create(
                    b, l, arith::AddIOp::create(b, l, o, s.padBegin),
                    arith::MulIOp::create(b, l, k, ci(s.dilation)));
                Value q = arith::DivSIOp::create(b, l, t, ci(s.stride));
                Value ok = arith::AndIOp::create(
                    b, l,
                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, t,
                                          ci(0)),
                    arith::AndIOp::create(
                        b, l,
                        arith::CmpIOp::create(
                            b, l, arith::CmpIPredicate::eq,
                            arith::RemSIOp::create(b, l, t, ci(s.stride)),
                            ci(0)),
                        arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                              q, s.in)));
                valid = valid ? arith::AndIOp::create(b, l, valid, ok) : ok;
                Value last = arith::MaxSIOp::create(
                    b, l, arith::SubIOp::create(b, l, s.in, ci(1)), ci(0));
                xAt.push_back(arith::MinSIOp::create(
                    b, l, arith::MaxSIOp::create(b, l, q, ci(0)), last));
                wAt.push_back(k);
              }
              Value xv = tensor::ExtractOp::create(b, l, x, xAt);
              Value wv = tensor::ExtractOp::create(b, l, w, wAt);
              Value prod = arith::SelectOp::create(
                  b, l, valid, mulV(b, l, xv, wv), scalarConstant(b, l, elem, 0));
              linalg::YieldOp::create(b, l, addV(b, l, a[1], prod));
            })
            .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MaxPool, AveragePool
//===----------------------------------------------------------------------===//

/// A generic over (n, c, o..., k...) reducing the window into `inits`
/// (one or two outputs of the result's shape).
template <typename BodyT>
SmallVector<Value> windowReduce(OpBuilder &b, Location loc, Value x,
                                ArrayRef<int64_t> kernel,
                                ArrayRef<Spatial> dims, ValueRange inits,
                                BodyT body) {
  MLIRContext *ctx = b.getContext();
  unsigned sp = kernel.size(), numDims = 2 + 2 * sp, kDim = 2 + sp;
  SmallVector<int64_t> kDims, outDims{0, 1};
  for (unsigned i = 0; i < sp; ++i) {
    kDims.push_back(kDim + i);
    outDims.push_back(2 + i);
  }
  auto elem = cast<RankedTensorType>(x.getType()).getElementType();
  Value window = tensor::EmptyOp::create(b, loc, kernel, elem);
  SmallVector<AffineMap> maps{dimsMap(ctx, numDims, kDims)};
  maps.append(inits.size(), dimsMap(ctx, numDims, outDims));
  SmallVector<IteratorType> iters(numDims, IteratorType::parallel);
  for (unsigned i = 0; i < sp; ++i)
    iters[kDim + i] = IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, inits.getTypes(), ValueRange{window}, inits, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value ni = linalg::IndexOp::create(nb, l, 0);
        Value ci = linalg::IndexOp::create(nb, l, 1);
        linalg::YieldOp::create(nb, l,
                                body(nb, l, ni, ci, a.drop_front(), kDim));
      });
  return SmallVector<Value>(generic.getResults());
}

struct DynamicMaxPoolPattern : OpRewritePattern<kop::MaxPoolOp> {
  DynamicMaxPoolPattern(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(kop::MaxPoolOp op,
                                PatternRewriter &rewriter) const override {
    if (allStatic(op) || failed(requireRankedShapes(op, rewriter)))
      return failure();
    if (op->getNumResults() > 1 && !op->getResult(1).use_empty())
      return rewriter.notifyMatchFailure(op, "Indices of dynamic shape");
    Location loc = op.getLoc();
    Value x = op.getX();
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    Type elem = type.getElementType();
    ArrayRef<int64_t> kernel = op.getKernelShape();
    SmallVector<Value> kernelValues;
    for (int64_t k : kernel)
      kernelValues.push_back(indexConst(rewriter, loc, k));
    auto dims = geometry(rewriter, loc, op, x, kernelValues, op.getCeilMode());
    if (failed(dims) || !elem.isIntOrFloat())
      return rewriter.notifyMatchFailure(op, "bad window attributes");
    Value lowest = lowestValue(rewriter, loc, elem);
    Value init = filledTensor(
        rewriter, loc, type, lowest,
        resultSizes(type, dimValue(rewriter, loc, x, 0),
                    dimValue(rewriter, loc, x, 1), *dims));
    auto results = windowReduce(
        rewriter, loc, x, kernel, *dims, init,
        [&](OpBuilder &b, Location l, Value ni, Value ci, ValueRange acc,
            unsigned kDim) -> SmallVector<Value> {
          Cell cell = windowCell(b, l, *dims, 2, kDim, false);
          Value v = readCell(b, l, x, ni, ci, cell, acc[0]);
          return {maxV(b, l, acc[0], v)};
        });
    SmallVector<Value> replacements{results[0]};
    if (op->getNumResults() > 1)
      replacements.push_back(Value()); // unused Indices
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

struct DynamicAveragePoolPattern : OpRewritePattern<kop::AveragePoolOp> {
  DynamicAveragePoolPattern(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(kop::AveragePoolOp op,
                                PatternRewriter &rewriter) const override {
    if (allStatic(op) || failed(requireRankedShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    Value x = op.getX();
    auto type = cast<RankedTensorType>(op.getType());
    Type elem = type.getElementType();
    if (!isa<FloatType>(elem))
      return rewriter.notifyMatchFailure(op, "expects a float element type");
    ArrayRef<int64_t> kernel = op.getKernelShape();
    SmallVector<Value> kernelValues;
    for (int64_t k : kernel)
      kernelValues.push_back(indexConst(rewriter, loc, k));
    auto dims = geometry(rewriter, loc, op, x, kernelValues, op.getCeilMode());
    if (failed(dims))
      return rewriter.notifyMatchFailure(op, "bad window attributes");
    bool includePad = op.getCountIncludePad();
    Value zero = scalarConstant(rewriter, loc, elem, 0);
    SmallVector<Value> sizes =
        resultSizes(type, dimValue(rewriter, loc, x, 0),
                    dimValue(rewriter, loc, x, 1), *dims);
    Value sumInit = filledTensor(rewriter, loc, type, zero, sizes);
    Value countInit = filledTensor(rewriter, loc, type, zero, sizes);
    // The sum of the cells inside the input, and how many cells count: those
    // inside the input, or (count_include_pad) inside the explicit padding.
    auto results = windowReduce(
        rewriter, loc, x, kernel, *dims, ValueRange{sumInit, countInit},
        [&](OpBuilder &b, Location l, Value ni, Value ci, ValueRange acc,
            unsigned kDim) -> SmallVector<Value> {
          Cell cell = windowCell(b, l, *dims, 2, kDim, includePad);
          Value v = readCell(b, l, x, ni, ci, cell, cst(b, l, acc[0], 0));
          Value counted = includePad ? cell.insidePadded : cell.inside;
          Value one = arith::SelectOp::create(b, l, counted,
                                              cst(b, l, acc[1], 1),
                                              cst(b, l, acc[1], 0));
          return {addV(b, l, acc[0], v), addV(b, l, acc[1], one)};
        });
    rewriter.replaceOp(
        op, buildElementwise(rewriter, loc, ValueRange{results[0], results[1]},
                             type,
                             [](OpBuilder &b, Location l, ValueRange a) {
                               return divV(b, l, a[0], a[1]);
                             }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// GlobalAveragePool, GlobalMaxPool
//===----------------------------------------------------------------------===//

template <typename OpTy, bool IsMax>
struct DynamicGlobalPoolPattern : OpRewritePattern<OpTy> {
  DynamicGlobalPoolPattern(MLIRContext *ctx)
      : OpRewritePattern<OpTy>(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (allStatic(op) || failed(requireRankedShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    Type elem = type.getElementType();
    int64_t rank = xt.getRank();
    if (rank < 3 || (!IsMax && !isa<FloatType>(elem)))
      return rewriter.notifyMatchFailure(op, "unsupported global pool");
    auto flatType = RankedTensorType::get(xt.getShape().take_front(2), elem);
    Value init = filledTensor(rewriter, loc, flatType,
                              IsMax ? lowestValue(rewriter, loc, elem)
                                    : scalarConstant(rewriter, loc, elem, 0),
                              dimsOf(rewriter, loc, flatType, x));
    SmallVector<int64_t> spatial;
    for (int64_t i = 2; i < rank; ++i)
      spatial.push_back(i);
    SmallVector<AffineMap> maps{
        rewriter.getMultiDimIdentityMap(rank),
        AffineMap::get(rank, 0,
                       {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)},
                       ctx)};
    SmallVector<IteratorType> iters(rank, IteratorType::reduction);
    iters[0] = iters[1] = IteratorType::parallel;
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
      Value count = elementCount(rewriter, loc, x, spatial, elem);
      if (count)
        r = buildElementwise(rewriter, loc, r, flatType,
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return divV(b, l, a[0], count);
                             });
    }
    // [N, C] -> [N, C, 1, ...].
    SmallVector<ReassociationIndices> assoc{{0}, {}};
    for (int64_t i = 1; i < rank; ++i)
      assoc[1].push_back(i);
    SmallVector<OpFoldResult> outShape{
        getAsOpFoldResult(dimValue(rewriter, loc, x, 0)),
        getAsOpFoldResult(dimValue(rewriter, loc, x, 1))};
    outShape.append(rank - 2, rewriter.getIndexAttr(1));
    for (int64_t d = 0; d < 2; ++d)
      if (!type.isDynamicDim(d))
        outShape[d] = rewriter.getIndexAttr(type.getDimSize(d));
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, type, r, assoc,
                                                       outShape);
    return success();
  }
};

} // namespace

void kiln::populateDynamicWindowPatterns(RewritePatternSet &patterns) {
  patterns.add<DynamicConvPattern, DynamicConvTransposePattern,
               DynamicMaxPoolPattern,
               DynamicAveragePoolPattern,
               DynamicGlobalPoolPattern<kop::GlobalAveragePoolOp, false>,
               DynamicGlobalPoolPattern<kop::GlobalMaxPoolOp, true>>(
      patterns.getContext());
}
