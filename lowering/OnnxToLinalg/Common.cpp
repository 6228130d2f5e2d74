//===- Common.cpp - helpers shared by the onnx-to-linalg patterns ---------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cstring>

using namespace mlir;

namespace kiln {

RankedTensorType staticResultType(Operation *op, unsigned i) {
  auto t = dyn_cast<RankedTensorType>(op->getResult(i).getType());
  return t && t.hasStaticShape() ? t : nullptr;
}

LogicalResult requireStaticShapes(Operation *op, PatternRewriter &rewriter) {
  auto isStatic = [](Type t) {
    if (isa<NoneType>(t) || kiln::onnx::isSeqOrOpt(t))
      return true;
    auto r = dyn_cast<RankedTensorType>(t);
    return r && r.hasStaticShape();
  };
  for (Type t : op->getOperandTypes())
    if (!isStatic(t))
      return rewriter.notifyMatchFailure(op, "operand shape is not static");
  for (Type t : op->getResultTypes())
    if (!isStatic(t))
      return rewriter.notifyMatchFailure(op, "result shape is not static");
  return success();
}

LogicalResult requireRankedShapes(Operation *op, PatternRewriter &rewriter) {
  auto ranked = [](Type t) {
    return isa<NoneType>(t) || isa<RankedTensorType>(t) ||
           kiln::onnx::isSeqOrOpt(t);
  };
  if (!llvm::all_of(op->getOperandTypes(), ranked) ||
      !llvm::all_of(op->getResultTypes(), ranked))
    return rewriter.notifyMatchFailure(op, "a shape of unknown rank");
  return success();
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType(), dynSizes);
}

Value gatherByCoords(
    OpBuilder &b, Location loc, RankedTensorType type, Value init,
    Value source,
    function_ref<Value(OpBuilder &, Location, int64_t, Value)> coord) {
  int64_t rank = type.getRank();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &gb, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < rank; ++d)
          at.push_back(coord(gb, l, d, linalg::IndexOp::create(gb, l, d)));
        linalg::YieldOp::create(
            gb, l, tensor::ExtractOp::create(gb, l, source, at).getResult());
      });
  return generic.getResult(0);
}

SmallVector<Value> broadcastSizes(OpBuilder &b, Location loc,
                                  ValueRange inputs, RankedTensorType type) {
  SmallVector<Value> sizes;
  int64_t rank = type.getRank();
  for (int64_t d = 0; d < rank; ++d) {
    if (!type.isDynamicDim(d))
      continue;
    for (Value in : inputs) {
      auto t = cast<RankedTensorType>(in.getType());
      int64_t p = d - (rank - t.getRank());
      if (p >= 0 && t.isDynamicDim(p)) {
        sizes.push_back(tensor::DimOp::create(b, loc, in, p));
        break;
      }
    }
  }
  return sizes;
}

SmallVector<Value> dimsOf(OpBuilder &b, Location loc, RankedTensorType type,
                          Value src, ArrayRef<int64_t> srcDims) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(
          b, loc, src, srcDims.empty() ? d : srcDims[d]));
  return sizes;
}

Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   Value value, ValueRange dynSizes) {
  Value empty = emptyTensor(b, loc, type, dynSizes);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType inType,
                       int64_t outRank) {
  SmallVector<AffineExpr> exprs;
  int64_t offset = outRank - inType.getRank();
  for (int64_t i = 0; i < inType.getRank(); ++i) {
    if (inType.getDimSize(i) == 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i + offset, ctx));
  }
  return AffineMap::get(outRank, 0, exprs, ctx);
}

Value buildElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                       RankedTensorType resultType, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(ctx, cast<RankedTensorType>(in.getType()), rank));
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, resultType,
                           resultType.hasStaticShape()
                               ? SmallVector<Value>()
                               : broadcastSizes(b, loc, inputs, resultType));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        // float16 and bfloat16 compute in f32 (ONNX allows it; libm and the
        // inline math take f32).
        SmallVector<Value> xs;
        for (Value x : args.drop_back())
          xs.push_back(x.getType().isF16() || x.getType().isBF16()
                           ? convertScalar(nb, nloc, x, nb.getF32Type())
                           : x);
        Value v = convertScalar(nb, nloc, body(nb, nloc, xs),
                                resultType.getElementType());
        linalg::YieldOp::create(nb, nloc, v);
      });
  return generic.getResult(0);
}

Value generateTensor(
    OpBuilder &b, Location loc, RankedTensorType type,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> element,
    ValueRange dynSizes) {
  int64_t rank = type.getRank();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{},
      ValueRange{emptyTensor(b, loc, type, dynSizes)},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> ivs;
        for (int64_t d = 0; d < rank; ++d)
          ivs.push_back(linalg::IndexOp::create(nb, l, d));
        linalg::YieldOp::create(nb, l, ValueRange{element(nb, l, ivs)});
      });
  return generic.getResult(0);
}

Value pinSizes(OpBuilder &b, Location loc, Value v, ValueRange sizes) {
  if (sizes.empty())
    return v;
  auto type = cast<RankedTensorType>(v.getType());
  return linalg::CopyOp::create(b, loc, v, emptyTensor(b, loc, type, sizes))
      .getResult(0);
}

Value extractElement(OpBuilder &b, Location loc, Value t, int64_t i) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<Value> coords;
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    coords.push_back(
        arith::ConstantIndexOp::create(b, loc, i % type.getDimSize(d)));
    i /= type.getDimSize(d);
  }
  std::reverse(coords.begin(), coords.end());
  return tensor::ExtractOp::create(b, loc, t, coords);
}

Value scatterCombine(OpBuilder &b, Location l, StringRef reduction, Value old,
                     Value update) {
  if (reduction == "add")
    return addV(b, l, old, update);
  if (reduction == "mul")
    return mulV(b, l, old, update);
  if (reduction == "max")
    return maxV(b, l, old, update);
  if (reduction == "min")
    return minV(b, l, old, update);
  return update;
}

/// The number of elements of `x` over `axes`, as a scalar of `elem`: a
/// constant, or computed from the dims where some are dynamic (nullptr for
/// one element).
Value elementCount(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
                   Type elem) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t fixed = 1;
  Value dynamic;
  for (int64_t a : axes) {
    if (!xt.isDynamicDim(a)) {
      fixed *= xt.getDimSize(a);
      continue;
    }
    Value d = tensor::DimOp::create(b, loc, x, a);
    dynamic = dynamic ? arith::MulIOp::create(b, loc, dynamic, d) : d;
  }
  if (!dynamic)
    return fixed == 1 ? Value() : scalarConstant(b, loc, elem, fixed);
  if (fixed != 1)
    dynamic = arith::MulIOp::create(
        b, loc, dynamic, arith::ConstantIndexOp::create(b, loc, fixed));
  Value n = arith::IndexCastOp::create(b, loc, b.getI64Type(), dynamic);
  if (isa<FloatType>(elem))
    return arith::SIToFPOp::create(b, loc, elem, n);
  return elem.isInteger(64) ? n : arith::TruncIOp::create(b, loc, elem, n);
}

/// The integers of a constant operand (floats truncated), whether its
/// onnx.Constant has been lowered to arith.constant yet or not.
std::optional<SmallVector<int64_t>> constantInts(Value v) {
  Attribute attr;
  if (auto c = v.getDefiningOp<onnx::ConstantOp>())
    attr = c.getValue();
  else if (auto c = v.getDefiningOp<arith::ConstantOp>())
    attr = c.getValue();
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  SmallVector<int64_t> out;
  Type elem = dense.getElementType();
  if (isa<FloatType>(elem))
    for (const APFloat &f : dense.getValues<APFloat>())
      out.push_back((int64_t)f.convertToDouble());
  else
    for (const APInt &i : dense.getValues<APInt>())
      out.push_back(elem.isInteger(1) ? i.getZExtValue() : i.getSExtValue());
  return out;
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, (int64_t)value);
  return arith::ConstantOp::create(b, loc, type,
                                   b.getIntegerAttr(type, (int64_t)value));
}

/// f32 to bf16, rounding to nearest even, in integer ops (x86 and Arm
/// C libraries of Debian 12 have no __truncsfbf2 for the instruction
/// selector's libcall).
static Value truncToBF16(OpBuilder &b, Location loc, Value f32) {
  Type i32 = b.getI32Type(), i16 = b.getIntegerType(16);
  auto c = [&](uint32_t v) {
    return arith::ConstantOp::create(b, loc, i32, b.getIntegerAttr(i32, v));
  };
  Value bits = arith::BitcastOp::create(b, loc, i32, f32);
  Value lsb = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, bits, c(16)), c(1));
  Value bias = arith::AddIOp::create(b, loc, lsb, c(0x7fff));
  Value rounded = arith::ShRUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, bits, bias), c(16));
  // NaN stays a (quiet) NaN rather than rounding into infinity.
  Value isNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, f32,
                                      f32);
  Value nan = arith::OrIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, bits, c(16)), c(0x40));
  Value r = arith::SelectOp::create(b, loc, isNaN, nan, rounded);
  return arith::BitcastOp::create(b, loc, b.getBF16Type(),
                                  arith::TruncIOp::create(b, loc, i16, r));
}

/// f16 to f32 (exact) in integer ops: riscv64's libgcc 12 has no
/// __extendhfsf2 for the instruction selector's libcall.
static Value extendF16(OpBuilder &b, Location loc, Value f16) {
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto c = [&](uint32_t v) {
    return arith::ConstantOp::create(b, loc, i32, b.getIntegerAttr(i32, v));
  };
  Value h = arith::ExtUIOp::create(
      b, loc, i32,
      arith::BitcastOp::create(b, loc, b.getIntegerType(16), f16));
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, h, c(0x8000)), c(16));
  Value exp = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, h, c(10)), c(0x1f));
  Value mant = arith::AndIOp::create(b, loc, h, c(0x3ff));
  Value mant23 = arith::ShLIOp::create(b, loc, mant, c(13));
  // Normal: rebias the exponent (15 -> 127); all-ones: Inf or NaN.
  Value normal = arith::OrIOp::create(
      b, loc,
      arith::ShLIOp::create(b, loc, arith::AddIOp::create(b, loc, exp, c(112)),
                            c(23)),
      mant23);
  Value special = arith::OrIOp::create(b, loc, c(0x7f800000), mant23);
  // Zero and subnormals: mant * 2^-24, exact in f32.
  Value sub = arith::BitcastOp::create(
      b, loc, i32,
      arith::MulFOp::create(
          b, loc, arith::UIToFPOp::create(b, loc, f32, mant),
          arith::ConstantOp::create(b, loc, f32,
                                    b.getFloatAttr(f32, 0x1p-24))));
  auto is = [&](uint32_t e) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, exp, c(e));
  };
  Value mag = arith::SelectOp::create(
      b, loc, is(0), sub, arith::SelectOp::create(b, loc, is(31), special, normal));
  return arith::BitcastOp::create(b, loc, f32,
                                  arith::OrIOp::create(b, loc, sign, mag));
}

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  bool fromU = from.isUnsignedInteger() || from.isInteger(1);
  if (fromF && toF) {
    if (from.isF16())
      return convertScalar(b, loc, extendF16(b, loc, v), to);
    if (fromF.getWidth() < toF.getWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    if (to.isBF16()) {
      if (!from.isF32())
        v = arith::TruncFOp::create(b, loc, b.getF32Type(), v);
      return truncToBF16(b, loc, v);
    }
    return arith::TruncFOp::create(b, loc, to, v);
  }
  if (from.isF16())
    return convertScalar(b, loc, extendF16(b, loc, v), to);
  if (fromF) {
    if (to.isInteger(1)) {
      Value zero = scalarConstant(b, loc, from, 0.0);
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    }
    if (to.isUnsignedInteger())
      return arith::FPToUIOp::create(b, loc, to, v);
    return arith::FPToSIOp::create(b, loc, to, v);
  }
  if (toF) {
    if (to.isBF16())
      return truncToBF16(b, loc, convertScalar(b, loc, v, b.getF32Type()));
    if (fromU)
      return arith::UIToFPOp::create(b, loc, to, v);
    return arith::SIToFPOp::create(b, loc, to, v);
  }
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (to.isInteger(1)) {
    Value zero = scalarConstant(b, loc, from, 0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fw < tw)
    return fromU ? (Value)arith::ExtUIOp::create(b, loc, to, v)
                 : (Value)arith::ExtSIOp::create(b, loc, to, v);
  if (fw == tw) // signed and unsigned of one width: the same bits
    return arith::BitcastOp::create(b, loc, to, v);
  return arith::TruncIOp::create(b, loc, to, v);
}

Value reshapeTensor(OpBuilder &b, Location loc, Value v, RankedTensorType to) {
  auto from = cast<RankedTensorType>(v.getType());
  if (from == to)
    return v;
  if (!from.hasStaticShape() || !to.hasStaticShape()) {
    // Dynamic dims: only a reshape that merges or splits dims in order
    // (each group with one dynamic dim at most); null otherwise.
    auto re = getReassociationIndicesForReshape(from, to);
    if (!re || from.getRank() == to.getRank())
      return Value();
    RankedTensorType wide = from.getRank() > to.getRank() ? from : to;
    RankedTensorType narrow = from.getRank() > to.getRank() ? to : from;
    for (auto [i, group] : llvm::enumerate(*re)) {
      int64_t dynamic = llvm::count_if(
          group, [&](int64_t d) { return wide.isDynamicDim(d); });
      // Several dynamic sizes in a group are not known here; a dynamic dim
      // on one side only is a cast first (the flat path below).
      if (dynamic > 1 || (dynamic == 1) != narrow.isDynamicDim(i))
        return Value();
    }
    if (from.getRank() > to.getRank())
      return tensor::CollapseShapeOp::create(b, loc, to, v, *re);
    auto shape = tensor::ExpandShapeOp::inferOutputShape(
        b, loc, to, *re, tensor::getMixedSizes(b, loc, v));
    if (failed(shape))
      return Value();
    return tensor::ExpandShapeOp::create(b, loc, to, v, *re, *shape);
  }
  auto all = [](int64_t rank) {
    SmallVector<ReassociationIndices> r(1);
    for (int64_t i = 0; i < rank; ++i)
      r[0].push_back(i);
    return r;
  };
  // Through a 1-D tensor; rank 0 goes to and from [1] with no reassociation.
  auto flatType =
      RankedTensorType::get({from.getNumElements()}, from.getElementType());
  Value flat = v;
  if (from.getRank() == 0)
    flat = tensor::ExpandShapeOp::create(b, loc, flatType, v,
                                         ArrayRef<ReassociationIndices>{});
  else if (from.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(b, loc, flatType, v,
                                           all(from.getRank()));
  if (to.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, to, flat,
                                           ArrayRef<ReassociationIndices>{});
  if (to.getRank() == 1)
    return flat;
  return tensor::ExpandShapeOp::create(b, loc, to, flat, all(to.getRank()));
}

Value lowestValue(OpBuilder &b, Location loc, Type t) {
  if (auto f = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(
        b, loc, t,
        b.getFloatAttr(t, APFloat::getInf(f.getFloatSemantics(), true)));
  unsigned w = t.getIntOrFloatBitWidth();
  bool u = w == 1 || t.isUnsignedInteger();
  return arith::ConstantOp::create(
      b, loc, t,
      b.getIntegerAttr(t, u ? APInt(w, 0) : APInt::getSignedMinValue(w)));
}

Value highestValue(OpBuilder &b, Location loc, Type t) {
  if (auto f = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(
        b, loc, t,
        b.getFloatAttr(t, APFloat::getInf(f.getFloatSemantics(), false)));
  unsigned w = t.getIntOrFloatBitWidth();
  bool u = w == 1 || t.isUnsignedInteger();
  return arith::ConstantOp::create(
      b, loc, t,
      b.getIntegerAttr(t, u ? APInt::getMaxValue(w) : APInt::getSignedMaxValue(w)));
}

Value padTensor(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> low,
                ArrayRef<int64_t> high, Value padValue) {
  if (llvm::all_of(low, [](int64_t x) { return x == 0; }) &&
      llvm::all_of(high, [](int64_t x) { return x == 0; }))
    return v;
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i)
    shape.push_back(type.isDynamicDim(i) ? ShapedType::kDynamic
                                         : type.getDimSize(i) + low[i] + high[i]);
  auto padded = RankedTensorType::get(shape, type.getElementType());
  SmallVector<OpFoldResult> lo, hi;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    lo.push_back(b.getIndexAttr(low[i]));
    hi.push_back(b.getIndexAttr(high[i]));
  }
  return tensor::PadOp::create(b, loc, padded, v, lo, hi, padValue);
}

bool isF(Value v) { return isa<FloatType>(v.getType()); }

Value cst(OpBuilder &b, Location loc, Value like, double v) {
  return scalarConstant(b, loc, like.getType(), v);
}

arith::CmpIPredicate forType(arith::CmpIPredicate p, Type t) {
  if (!t.isUnsignedInteger())
    return p;
  switch (p) {
  case arith::CmpIPredicate::slt: return arith::CmpIPredicate::ult;
  case arith::CmpIPredicate::sle: return arith::CmpIPredicate::ule;
  case arith::CmpIPredicate::sgt: return arith::CmpIPredicate::ugt;
  case arith::CmpIPredicate::sge: return arith::CmpIPredicate::uge;
  default: return p;
  }
}

Value addV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x) ? (Value)arith::AddFOp::create(b, l, x, y)
                : (Value)arith::AddIOp::create(b, l, x, y);
}
Value subV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x) ? (Value)arith::SubFOp::create(b, l, x, y)
                : (Value)arith::SubIOp::create(b, l, x, y);
}
Value mulV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x) ? (Value)arith::MulFOp::create(b, l, x, y)
                : (Value)arith::MulIOp::create(b, l, x, y);
}
Value safeDivisor(OpBuilder &b, Location l, Value x, Value y) {
  // A zero divisor, and INT_MIN / -1, trap on x86 (SIGFPE): both divide by
  // 1 instead (the quotient by zero is then replaced by 0 in divV; the
  // remainder is 0 either way, and INT_MIN / -1 wraps to INT_MIN).
  Value one = cst(b, l, y, 1);
  Value bad = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, y,
                                    cst(b, l, y, 0));
  if (!y.getType().isUnsignedInteger()) {
    unsigned width = y.getType().getIntOrFloatBitWidth();
    Value min = arith::ConstantOp::create(
        b, l, b.getIntegerAttr(x.getType(), APInt::getSignedMinValue(width)));
    Value overflow = arith::AndIOp::create(
        b, l,
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x, min),
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, y,
                              cst(b, l, y, -1)));
    bad = arith::OrIOp::create(b, l, bad, overflow);
  }
  return arith::SelectOp::create(b, l, bad, one, y);
}
Value divV(OpBuilder &b, Location l, Value x, Value y) {
  if (isF(x))
    return arith::DivFOp::create(b, l, x, y);
  // Integer division by zero is undefined in ONNX: it gives 0 here, never a
  // trap.
  Value q = x.getType().isUnsignedInteger()
                ? (Value)arith::DivUIOp::create(b, l, x, safeDivisor(b, l, x, y))
                : (Value)arith::DivSIOp::create(b, l, x, safeDivisor(b, l, x, y));
  Value byZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, y,
                                       cst(b, l, y, 0));
  return arith::SelectOp::create(b, l, byZero, cst(b, l, x, 0), q);
}
// Float max and min propagate NaN (arith.maximumf/minimumf) but need not
// order -0 below +0 (`nsz`): no ONNX op asks for that order, and honouring
// it costs x86 a sign test and a blend per vector (MaxPool 3x3 at 1 thread:
// 283 -> 156 us on 64 x 111 x 111).
Value maxV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x) ? (Value)arith::MaximumFOp::create(b, l, x, y,
                                                   arith::FastMathFlags::nsz)
      : x.getType().isUnsignedInteger()
          ? (Value)arith::MaxUIOp::create(b, l, x, y)
          : (Value)arith::MaxSIOp::create(b, l, x, y);
}
Value minV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x) ? (Value)arith::MinimumFOp::create(b, l, x, y,
                                                   arith::FastMathFlags::nsz)
      : x.getType().isUnsignedInteger()
          ? (Value)arith::MinUIOp::create(b, l, x, y)
          : (Value)arith::MinSIOp::create(b, l, x, y);
}

std::optional<ArrayRef<char>> constantBytes(Value v, bool &splat) {
  // Reshapes keep the row-major bytes, and so does a slice of all of it.
  auto whole = [](tensor::ExtractSliceOp s) {
    return s.getSourceType() == s.getResultType() &&
           llvm::all_of(s.getMixedOffsets(), [](OpFoldResult o) {
             return getConstantIntValue(o) == 0;
           }) &&
           llvm::all_of(s.getMixedStrides(), [](OpFoldResult o) {
             return getConstantIntValue(o) == 1;
           });
  };
  while (true) {
    if (auto expand = v.getDefiningOp<tensor::ExpandShapeOp>())
      v = expand.getSrc();
    else if (auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>())
      v = collapse.getSrc();
    else if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
             slice && whole(slice))
      v = slice.getSource();
    else
      break;
  }
  Attribute attr;
  if (auto c = v.getDefiningOp<onnx::ConstantOp>())
    attr = c.getValue();
  else if (auto c = v.getDefiningOp<arith::ConstantOp>())
    attr = c.getValue();
  splat = false;
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(attr)) {
    splat = dense.isSplat();
    return dense.getRawData();
  }
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
  return std::nullopt;
}

Value transposedConstant(OpBuilder &b, Location loc, const char *data,
                         Type elem, int64_t rows, int64_t cols,
                         int64_t batches) {
  size_t width = elem.getIntOrFloatBitWidth() / 8;
  int64_t count = std::max<int64_t>(batches, 1), size = rows * cols;
  std::vector<char> out(count * size * width);
  for (int64_t m = 0; m < count; ++m)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        std::memcpy(&out[(m * size + c * rows + r) * width],
                    data + (m * size + r * cols + c) * width, width);
  // As the constant lowering does for weights: a 1-D blob viewed at its
  // shape, so that LLVM sees one flat array.
  auto flatType = RankedTensorType::get({count * size}, elem);
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(out), alignof(double));
  Value flat = arith::ConstantOp::create(
      b, loc,
      DenseResourceElementsAttr::get(flatType, "transposed_weights",
                                     std::move(blob)));
  SmallVector<int64_t> shape{cols, rows};
  if (batches > 0)
    shape.insert(shape.begin(), batches);
  return reshapeTensor(b, loc, flat, RankedTensorType::get(shape, elem));
}

Value transposeMatrix(OpBuilder &b, Location loc, Value m) {
  auto type = cast<RankedTensorType>(m.getType());
  Type elem = type.getElementType();
  int64_t rank = type.getRank();
  int64_t batches = rank == 3 ? type.getDimSize(0) : 0;
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[rank - 2], shape[rank - 1]);
  auto outType = RankedTensorType::get(shape, elem);
  bool splat;
  std::optional<ArrayRef<char>> bytes = constantBytes(m, splat);
  size_t width = elem.isIntOrFloat() ? elem.getIntOrFloatBitWidth() / 8 : 0;
  if (bytes && width && splat && bytes->size() == width)
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::getFromRawBuffer(outType, *bytes));
  if (bytes && width && elem.getIntOrFloatBitWidth() % 8 == 0 &&
      bytes->size() == (size_t)type.getNumElements() * width)
    return transposedConstant(b, loc, bytes->data(), elem, rows, cols, batches);
  SmallVector<int64_t> perm =
      rank == 3 ? SmallVector<int64_t>{0, 2, 1} : SmallVector<int64_t>{1, 0};
  Value init = emptyTensor(b, loc, outType, dimsOf(b, loc, outType, m, perm));
  return linalg::TransposeOp::create(b, loc, m, init, perm).getResult()[0];
}

} // namespace kiln

AffineMap kiln::dimsMap(MLIRContext *ctx, unsigned numDims,
                        ArrayRef<int64_t> dims) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

AffineMap kiln::leadingDims(MLIRContext *ctx, int64_t rank) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank + 1, 0, exprs, ctx);
}

AffineMap kiln::axisFromLast(MLIRContext *ctx, int64_t rank, int64_t axis) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    exprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
  return AffineMap::get(rank + 1, 0, exprs, ctx);
}

Value kiln::rankAlong(OpBuilder &b, Location loc, Value x, int64_t axis,
                      bool largest) {
  MLIRContext *ctx = b.getContext();
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  Type i64 = b.getI64Type();
  auto type = RankedTensorType::get(xt.getShape(), i64);
  Value zeros = filledTensor(b, loc, type, scalarConstant(b, loc, i64, 0),
                             dimsOf(b, loc, type, x));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{x, x}, ValueRange{zeros},
      SmallVector<AffineMap>{leadingDims(ctx, rank),
                             axisFromLast(ctx, rank, axis),
                             leadingDims(ctx, rank)},
      iters, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value self = a[0], other = a[1];
        Value before, equal;
        if (isF(self)) {
          before = arith::CmpFOp::create(
              nb, l,
              largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT,
              other, self);
          equal = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                        other, self);
        } else {
          before = arith::CmpIOp::create(
              nb, l,
              largest ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt,
              other, self);
          equal = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, other,
                                        self);
        }
        Value lower = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::ult, linalg::IndexOp::create(nb, l, rank),
            linalg::IndexOp::create(nb, l, axis));
        Value counts = arith::OrIOp::create(
            nb, l, before, arith::AndIOp::create(nb, l, equal, lower));
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::AddIOp::create(
                nb, l, a[2], arith::ExtUIOp::create(nb, l, i64, counts))});
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// The run's status: index checks at run time
//===----------------------------------------------------------------------===//

using namespace kiln;

Value kiln::statusSlot(OpBuilder &b, Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  Block &entry = func.getBody().front();
  for (Operation &o : entry)
    if (o.hasAttr(kStatusAttr))
      return o.getResult(0);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(&entry);
  Location loc = func.getLoc();
  auto slot = memref::AllocaOp::create(b, loc,
                                       MemRefType::get({}, b.getI32Type()));
  slot->setAttr(kStatusAttr, b.getUnitAttr());
  memref::StoreOp::create(b, loc, arith::ConstantIntOp::create(b, loc, 0, 32),
                          slot, ValueRange{});
  return slot;
}

void kiln::reportOutOfRange(OpBuilder &b, Location loc, Operation *op,
                            Value indices, ArrayRef<Value> bounds) {
  auto type = cast<RankedTensorType>(indices.getType());
  int64_t rank = type.getRank();
  Type it = type.getElementType();
  MLIRContext *ctx = b.getContext();
  // any(i < -n || i >= n) over every entry; n by the entry's position along
  // the last dim where there are several bounds (index tuples).
  auto boolType = RankedTensorType::get({}, b.getI1Type());
  Value init = linalg::FillOp::create(
                   b, loc, ValueRange{arith::ConstantIntOp::create(b, loc, 0, 1)},
                   ValueRange{tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{},
                                                      b.getI1Type())})
                   .getResult(0);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, {}, ctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
  auto any = linalg::GenericOp::create(
      b, loc, TypeRange{boolType}, ValueRange{indices}, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value idx = args[0];
        Value n = arith::IndexCastOp::create(nb, l, it, bounds.front());
        if (bounds.size() > 1 && rank > 0) {
          Value at = linalg::IndexOp::create(nb, l, rank - 1);
          for (auto [k, bound] : llvm::enumerate(bounds))
            n = arith::SelectOp::create(
                nb, l,
                arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, at,
                                      arith::ConstantIndexOp::create(nb, l, k)),
                arith::IndexCastOp::create(nb, l, it, bound), n);
        }
        Value low = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::slt, idx,
            arith::SubIOp::create(nb, l, scalarConstant(nb, l, it, 0), n));
        Value high =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, idx, n);
        Value bad = arith::OrIOp::create(nb, l, low, high);
        linalg::YieldOp::create(nb, l,
                                ValueRange{arith::OrIOp::create(nb, l, bad, args[1])});
      });
  Value bad = tensor::ExtractOp::create(b, loc, any.getResult(0), ValueRange{});
  Value slot = statusSlot(b, op);
  Value old = memref::LoadOp::create(b, loc, slot, ValueRange{});
  Value first = arith::AndIOp::create(
      b, loc, bad,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, old,
                            arith::ConstantIntOp::create(b, loc, 0, 32)));
  Value next = arith::SelectOp::create(
      b, loc, first,
      arith::ConstantIntOp::create(b, loc, 10 /*KILN_ERROR_OUT_OF_RANGE*/, 32),
      old);
  memref::StoreOp::create(b, loc, next, slot, ValueRange{});
}

void kiln::checkIndices(OpBuilder &b, Location loc, Operation *op,
                        Value indices, Value data, ArrayRef<int64_t> dims) {
  // Constant indices were checked when compiling (the ops' verifiers).
  if (onnx::getConstantInts(indices))
    return;
  auto type = cast<RankedTensorType>(data.getType());
  SmallVector<Value> bounds;
  for (int64_t d : dims)
    bounds.push_back(type.isDynamicDim(d)
                         ? (Value)tensor::DimOp::create(b, loc, data, d)
                         : (Value)arith::ConstantIndexOp::create(
                               b, loc, type.getDimSize(d)));
  reportOutOfRange(b, loc, op, indices, bounds);
}
